import { SERIAL_PATTERN as BALLOT_SERIAL, serialFromHalves, serialHalves } from '../../ballots/identity/serial';
import { EncodingError } from '../../lib/bytes';

/**
 * A ballot ID serial: 60 random bits written as 12 Crockford base32 characters, as printed by
 * ballots/identity. The ledger stores the 60 bits as 8 big-endian bytes whose top 4 bits are zero, so the
 * record does not depend on how the serial is spelled on paper.
 */
export const SERIAL_PATTERN = BALLOT_SERIAL;

export function serialToBytes(serial: string): Uint8Array {
  if (!SERIAL_PATTERN.test(serial)) {
    throw new EncodingError(`ballot ID serial must be 12 Crockford base32 characters (0-9, A-Z without I, L, O, U), got "${serial}"`);
  }
  const { hi, lo } = serialHalves(serial);
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
  return serialFromHalves(top * 4 + Math.floor(low / 2 ** 30), low % 2 ** 30);
}
