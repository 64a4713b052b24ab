import type { AuditEventType } from '../ledger/events';
import type { ApiResult, Role } from './api';
import type { LockoutState, PinBook } from './pins';
import { MAX_FAILURES, NO_LOCKOUT, afterFailure, describeWait, lockedUntil } from './pins';

/** What staff sign-in needs from the station: the PINs, the persisted lock-outs, the audit log, the screens. */
export interface SessionDeps {
  readonly pins: PinBook;
  readonly now: () => Date;
  /** a sign-in with no sign-in, command or lookup for this long ends by itself */
  readonly idleSignOutSeconds: number;
  lockout(role: Role): LockoutState;
  /** persists the role's lock-out (state.json) */
  setLockout(role: Role, state: LockoutState): void;
  event(type: AuditEventType, role: Role, detail?: Record<string, string | number | boolean>): void;
  emitStatus(): void;
  /** runs the idle sign-out in the station's work queue */
  enqueue(fn: () => Promise<void>): void;
}

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
const refused = <T>(code: string, message: string): ApiResult<T> => ({ ok: false, error: { code, message } });

/**
 * The one staff sign-in of the station (pins.ts decides the lock-outs): who is signed in, and the idle timer
 * that signs them out. Its methods run inside the station's work queue.
 */
export class StaffSessions {
  private current: Role | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly d: SessionDeps) {}

  get role(): Role | null {
    return this.current;
  }

  async login(role: Role, pin: string): Promise<ApiResult<{ role: Role }>> {
    const d = this.d;
    const now = d.now();
    const lock = d.lockout(role);
    const until = lockedUntil(lock, now);
    if (until !== null) {
      d.event('login-failed', role, { lockedOut: true });
      return refused<{ role: Role }>('locked-out', `The ${role} sign-in is locked after ${lock.failures} wrong PINs: try again in ${describeWait(until.getTime() - now.getTime())} (at ${until.toISOString()}).`);
    }
    if (await d.pins.check(role, pin)) {
      this.current = role;
      d.setLockout(role, NO_LOCKOUT);
      d.event('login', role);
      this.active();
      d.emitStatus();
      return ok({ role });
    }
    const f = afterFailure(lock, now);
    d.setLockout(role, f.state);
    d.event('login-failed', role, f.lockedOut ? { failures: f.state.failures, lockedOut: true, until: f.state.until ?? '' } : { failures: f.state.failures });
    d.emitStatus();
    if (f.lockedOut) {
      const wait = new Date(f.state.until ?? now.toISOString()).getTime() - now.getTime();
      return refused<{ role: Role }>('locked-out', `Wrong PIN, ${f.state.failures} times in a row: the ${role} sign-in is locked for ${describeWait(wait)} (until ${f.state.until ?? ''}); each further wrong PIN doubles the wait.`);
    }
    return refused<{ role: Role }>('wrong-pin', `wrong PIN for ${role} (${f.state.failures} of ${MAX_FAILURES} tries)`);
  }

  logout(): ApiResult<null> {
    if (this.current === null) return refused<null>('not-logged-in', 'nobody is logged in');
    this.signOut({});
    return ok(null);
  }

  signOut(detail: Record<string, string | number | boolean>): void {
    if (this.current === null) return;
    this.d.event('logout', this.current, detail);
    this.current = null;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.d.emitStatus();
  }

  /** The signed-in staff member did something: the idle sign-out starts counting again. */
  active(): void {
    if (this.current === null || this.closed) return;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      this.d.enqueue(async () => this.signOut({ idle: true }));
    }, this.d.idleSignOutSeconds * 1000);
    this.idleTimer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
  }
}
