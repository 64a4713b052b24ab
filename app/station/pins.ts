import crypto from 'node:crypto';
import type { Role } from './api';

/**
 * Role PINs, kept only as scrypt hashes with a random salt (the clear PINs given at start are hashed and
 * dropped), and the lock-out after repeated failures. The clock is injected so the lock-out period is tested
 * without waiting.
 */

export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 5 * 60 * 1000;
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

/** Failures in a row and the lock-out they caused; persisted so a restart does not reset it. */
export interface LockoutState {
  readonly failures: number;
  /** ISO time, or null when not locked out */
  readonly until: string | null;
}

export const NO_LOCKOUT: LockoutState = { failures: 0, until: null };

export function lockedUntil(s: LockoutState, now: Date): Date | null {
  if (s.until === null) return null;
  const until = new Date(s.until);
  return until.getTime() > now.getTime() ? until : null;
}

/** After a failed attempt: the new state, and whether this failure started a lock-out. */
export function afterFailure(s: LockoutState, now: Date): { state: LockoutState; lockedOut: boolean } {
  const failures = (lockedUntil(s, now) === null && s.until !== null ? 0 : s.failures) + 1;
  if (failures >= MAX_FAILURES) return { state: { failures, until: new Date(now.getTime() + LOCKOUT_MS).toISOString() }, lockedOut: true };
  return { state: { failures, until: null }, lockedOut: false };
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
