import { EncodingError } from './bytes';

/**
 * A ballot ID serial: 60 random bits written as 12 base32 characters (RFC 4648 alphabet, upper case; lower
 * case accepted on input). The ledger stores the 60 bits as 8 big-endian bytes whose top 4 bits are zero, so
 * the record does not depend on how the serial is spelled on paper.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const SERIAL_PATTERN = /^[A-Za-z2-7]{12}$/;

export function serialToBytes(serial: string): Uint8Array {
  if (!SERIAL_PATTERN.test(serial)) {
    throw new EncodingError(`ballot ID serial must be 12 base32 characters (A-Z, 2-7), got "${serial}"`);
  }
  // two 30-bit halves in plain numbers: exact, and cheaper than BigInt on the append path
  const up = serial.toUpperCase();
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 6; i++) hi = hi * 32 + ALPHABET.indexOf(up[i] as string);
  for (let i = 6; i < 12; i++) lo = lo * 32 + ALPHABET.indexOf(up[i] as string);
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  // 60 bits = hi·2^30 + lo; bytes 0-3 take the top 28 bits (hi >> 2), bytes 4-7 the low 32
  view.setUint32(0, Math.floor(hi / 4));
  view.setUint32(4, ((hi % 4) * 2 ** 30 + lo) >>> 0);
  return out;
}

export function bytesToSerial(b: Uint8Array): string {
  if (b.length !== 8) throw new EncodingError(`ballot ID must be 8 bytes, got ${b.length}`);
  const view = new DataView(b.buffer, b.byteOffset, 8);
  const top = view.getUint32(0);
  if (top >>> 28 !== 0) throw new EncodingError('ballot ID has bits above the 60 a serial carries');
  const low = view.getUint32(4);
  // 60 bits = hi (30) · 2^30 + lo (30), each half six base32 characters
  const hi = top * 4 + Math.floor(low / 2 ** 30);
  const lo = low % 2 ** 30;
  // both halves are below 2^30, so 32-bit shifts are exact
  const c = (x: number, shift: number): string => ALPHABET[(x >>> shift) & 31] as string;
  return c(hi, 25) + c(hi, 20) + c(hi, 15) + c(hi, 10) + c(hi, 5) + c(hi, 0) + c(lo, 25) + c(lo, 20) + c(lo, 15) + c(lo, 10) + c(lo, 5) + c(lo, 0);
}
