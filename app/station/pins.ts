import crypto from 'node:crypto';
import type { Role } from './api';

/**
 * Role PINs, kept only as scrypt hashes with a random salt (the clear PINs given at start are hashed and
 * dropped), and the lock-out after repeated failures. The clock is injected so the lock-out period is tested
 * without waiting.
 */

/** wrong PINs in a row for one role before its sign-in locks (a typo or three costs nothing) */
export const MAX_FAILURES = 5;
/** the first lock-out; each further wrong PIN after it doubles the wait */
export const FIRST_LOCKOUT_MS = 60 * 1000;
/** the longest wait: a captain locked out by someone guessing can still sign in within the hour */
export const MAX_LOCKOUT_MS = 60 * 60 * 1000;
/** scrypt cost: ~50 ms per check on a station-class CPU, so guessing 4-digit PINs offline is still slow */
const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_BYTES = 32;

export interface PinHash {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function scrypt(pin: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => crypto.scrypt(pin, salt, KEY_BYTES, SCRYPT, (e, key) => (e ? reject(e) : resolve(key))));
}

export async function hashPin(pin: string): Promise<PinHash> {
  const salt = crypto.randomBytes(16);
  return { salt, hash: await scrypt(pin, salt) };
}

export async function pinMatches(pin: string, stored: PinHash): Promise<boolean> {
  const got = await scrypt(pin, stored.salt);
  return crypto.timingSafeEqual(got, stored.hash);
}

/** One role's wrong PINs in a row and the lock-out they caused; persisted so a restart does not reset it. */
export interface LockoutState {
  readonly failures: number;
  /** ISO time, or null when not locked out */
  readonly until: string | null;
}

/**
 * Each role keeps its own count and lock: a poll worker's typos, or someone guessing at the poll-worker
 * sign-in, never lock the captain out.
 */
export type RoleLockouts = Readonly<Record<Role, LockoutState>>;

export const NO_LOCKOUT: LockoutState = { failures: 0, until: null };
export const NO_LOCKOUTS: RoleLockouts = { 'poll-worker': NO_LOCKOUT, captain: NO_LOCKOUT, auditor: NO_LOCKOUT };

export function lockedUntil(s: LockoutState, now: Date): Date | null {
  if (s.until === null) return null;
  const until = new Date(s.until);
  return until.getTime() > now.getTime() ? until : null;
}

/** How long the lock-out that `failures` wrong PINs in a row cause lasts (0 below MAX_FAILURES). */
export function lockoutMs(failures: number): number {
  if (failures < MAX_FAILURES) return 0;
  const doublings = Math.min(failures - MAX_FAILURES, 30);
  return Math.min(FIRST_LOCKOUT_MS * 2 ** doublings, MAX_LOCKOUT_MS);
}

/**
 * After a failed attempt: the new state, and whether this failure started a lock-out. The count runs on
 * past a lock-out that ended (only a right PIN resets it), so every wrong PIN after the first lock-out
 * locks again, for twice as long as the last time, up to MAX_LOCKOUT_MS.
 */
export function afterFailure(s: LockoutState, now: Date): { state: LockoutState; lockedOut: boolean } {
  const failures = s.failures + 1;
  const ms = lockoutMs(failures);
  if (ms > 0) return { state: { failures, until: new Date(now.getTime() + ms).toISOString() }, lockedOut: true };
  return { state: { failures, until: null }, lockedOut: false };
}

/** "4 min 30 s": how long a staff member waits, said the way a person reads it. */
export function describeWait(ms: number): string {
  const total = Math.max(1, Math.ceil(ms / 1000));
  const min = Math.floor(total / 60);
  const sec = total % 60;
  if (min === 0) return `${sec} s`;
  return sec === 0 ? `${min} min` : `${min} min ${sec} s`;
}

export class PinBook {
  private constructor(private readonly hashes: ReadonlyMap<Role, PinHash>) {}

  static async fromClear(pins: Readonly<Record<Role, string>>): Promise<PinBook> {
    const entries = await Promise.all((Object.keys(pins) as Role[]).map(async (role) => [role, await hashPin(pins[role])] as const));
    const byPin = new Map<string, Role>();
    for (const role of Object.keys(pins) as Role[]) {
      const pin = pins[role];
      if (!/^\d{4,12}$/.test(pin)) throw new Error(`the ${role} PIN must be 4 to 12 digits`);
      const other = byPin.get(pin);
      if (other !== undefined) throw new Error(`the ${role} PIN is the same as the ${other} PIN: each role needs its own`);
      byPin.set(pin, role);
    }
    return new PinBook(new Map(entries));
  }

  async check(role: Role, pin: string): Promise<boolean> {
    const stored = this.hashes.get(role);
    if (stored === undefined) return false;
    return pinMatches(pin, stored);
  }
}
