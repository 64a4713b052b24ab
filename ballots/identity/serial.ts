import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha256';

/**
 * Ballot serials: 60 random bits written as 12 characters of Crockford base32
 * (alphabet 0-9 A-Z without I, L, O, U; most significant 5 bits first).
 *
 * Why Crockford rather than RFC 4648: every character is in the QR alphanumeric set, and an auditor who
 * reads a serial off paper cannot confuse 0/O or 1/I/L because the letters are not in the alphabet
 * (`normalizeSerial` maps them back when a person types one). Why 60 bits: 12 characters carry exactly 60,
 * which also splits into two 30-bit BIP32 child indexes for the ballot's address; a million ballots of one
 * election collide with probability ~4e-7, and `randomSerials` rejects collisions anyway.
 *
 * Serials are never sequential: their order in a print run, and so in the stack of paper, says nothing.
 */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const SERIAL_LENGTH = 12;
export const SERIAL_PATTERN = /^[0-9A-HJKMNP-TV-Z]{12}$/;

/** A source of random bytes; injectable so that a seed gives a reproducible print run or test deck. */
export type RandomSource = (n: number) => Uint8Array;

export const secureRandom: RandomSource = (n) => new Uint8Array(randomBytes(n));

const CHAR_VALUE: ReadonlyMap<string, number> = new Map([...CROCKFORD_ALPHABET].map((c, i) => [c, i]));

export function isSerial(s: string): boolean {
  return SERIAL_PATTERN.test(s);
}

/** The two 30-bit halves of a serial: characters 1-6 and 7-12. Throws on a non-canonical serial. */
export function serialHalves(serial: string): { hi: number; lo: number } {
  if (!isSerial(serial)) throw new Error(`not a ballot serial: ${JSON.stringify(serial)}`);
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 6; i += 1) hi = hi * 32 + (CHAR_VALUE.get(serial[i] as string) as number);
  for (let i = 6; i < 12; i += 1) lo = lo * 32 + (CHAR_VALUE.get(serial[i] as string) as number);
  return { hi, lo };
}

export function serialFromHalves(hi: number, lo: number): string {
  const limit = 2 ** 30;
  if (!Number.isInteger(hi) || !Number.isInteger(lo) || hi < 0 || lo < 0 || hi >= limit || lo >= limit) {
    throw new Error(`serial halves must be 30-bit integers, got ${hi}, ${lo}`);
  }
  return encode30(hi) + encode30(lo);
}

function encode30(v: number): string {
  let out = '';
  for (let shift = 25; shift >= 0; shift -= 5) out += CROCKFORD_ALPHABET[Math.floor(v / 2 ** shift) % 32];
  return out;
}

/**
 * A serial as a person typed it (lower case, O for 0, I or L for 1, spaces or hyphens between groups) in
 * canonical form, or undefined if it is not one. Machine-read codes are never normalised: they must be
 * canonical already.
 */
export function normalizeSerial(typed: string): string | undefined {
  const s = typed
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  return isSerial(s) ? s : undefined;
}

/**
 * `count` distinct random serials, in the order drawn (which is random). Each serial takes 8 bytes from
 * `rng` (the low 60 bits of a big-endian 64-bit number), so the first k serials of a seeded run do not depend
 * on `count`. `avoid` holds serials already issued for this election (an earlier print run), never repeated.
 */
export function randomSerials(count: number, rng: RandomSource = secureRandom, avoid: ReadonlySet<string> = new Set()): string[] {
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`serial count must be a whole number >= 0, got ${count}`);
  if (count > 2 ** 32) throw new Error(`refusing to draw ${count} serials in one run: split the print run`);
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < count) {
    const b = rng(8);
    if (b.length !== 8) throw new Error(`the random source returned ${b.length} bytes, 8 were asked for`);
    const b0 = b[0] as number;
    const b1 = b[1] as number;
    const b2 = b[2] as number;
    const b3 = b[3] as number;
    const b4 = b[4] as number;
    const b5 = b[5] as number;
    const b6 = b[6] as number;
    const b7 = b[7] as number;
    // 64 bits = 4 discarded | 30 hi | 30 lo
    const hi = ((b0 & 0x0f) * 2 ** 26 + b1 * 2 ** 18 + b2 * 2 ** 10 + b3 * 4 + (b4 >> 6)) >>> 0;
    const lo = (((b4 & 0x3f) << 24) | (b5 << 16) | (b6 << 8) | b7) >>> 0;
    const serial = serialFromHalves(hi, lo);
    if (seen.has(serial) || avoid.has(serial)) continue;
    seen.add(serial);
    out.push(serial);
  }
  return out;
}

/**
 * A reproducible byte stream for a seed: SHA-256(tag || seed || counter) blocks. For test decks and
 * reproducible demo print runs only; real election keys and real print runs use `secureRandom`.
 */
export function deterministicRng(seed: string | number | Uint8Array): RandomSource {
  const seedBytes =
    typeof seed === 'string' || typeof seed === 'number' ? new TextEncoder().encode(String(seed)) : Uint8Array.from(seed);
  const tag = new TextEncoder().encode('tallyproof/deterministic-rng/1\0');
  let counter = 0;
  let buffer: Uint8Array = new Uint8Array(0);
  let pos = 0;
  const nextBlock = (): Uint8Array => {
    const input = new Uint8Array(tag.length + seedBytes.length + 8);
    input.set(tag, 0);
    input.set(seedBytes, tag.length);
    new DataView(input.buffer).setBigUint64(tag.length + seedBytes.length, BigInt(counter));
    counter += 1;
    return sha256(input);
  };
  return (n: number) => {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`cannot draw ${n} random bytes`);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (pos >= buffer.length) {
        buffer = nextBlock();
        pos = 0;
      }
      const take = Math.min(n - filled, buffer.length - pos);
      out.set(buffer.subarray(pos, pos + take), filled);
      filled += take;
      pos += take;
    }
    return out;
  };
}
