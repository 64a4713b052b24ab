/**
 * One frame on the wire: COBS(type u8, flags u8, seq u16 LE, payload, CRC-32 LE) followed by 0x00.
 * The CRC (IEEE 802.3, the zlib one) covers type through payload. See PROTOCOL.md.
 */
import { crc32 } from 'node:zlib';
import { err, ok, type Result } from '../../lib/result';
import { cobsDecode, cobsEncode } from './cobs';

export const FRAME_HEADER_BYTES = 4;
export const FRAME_CRC_BYTES = 4;
/** The largest payload a frame may carry: an image chunk of 8 KiB plus its chunk header. */
export const MAX_PAYLOAD_BYTES = 8192 + 64;
/** Largest encoded frame (without the delimiter); anything longer is garbage and is skipped. */
export const MAX_ENCODED_FRAME_BYTES = Math.ceil(((FRAME_HEADER_BYTES + MAX_PAYLOAD_BYTES + FRAME_CRC_BYTES) * 255) / 254) + 2;

export const FLAG_RELIABLE = 0x01;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly payload: Uint8Array;
}

export type FrameError =
  | { readonly kind: 'cobs'; readonly detail: string }
  | { readonly kind: 'short'; readonly length: number }
  | { readonly kind: 'oversize'; readonly length: number }
  | { readonly kind: 'crc'; readonly expected: number; readonly actual: number };

export function encodeFrame(frame: Frame): Uint8Array {
  if (frame.payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`payload of ${frame.payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  const raw = new Uint8Array(FRAME_HEADER_BYTES + frame.payload.length + FRAME_CRC_BYTES);
  const view = new DataView(raw.buffer);
  raw[0] = frame.type;
  raw[1] = frame.flags;
  view.setUint16(2, frame.seq, true);
  raw.set(frame.payload, FRAME_HEADER_BYTES);
  const body = raw.subarray(0, FRAME_HEADER_BYTES + frame.payload.length);
  view.setUint32(body.length, crc32(body), true);
  const encoded = cobsEncode(raw);
  const wire = new Uint8Array(encoded.length + 1);
  wire.set(encoded);
  wire[encoded.length] = 0;
  return wire;
}

/** Decodes one frame given its COBS bytes without the trailing delimiter. */
export function decodeFrame(encoded: Uint8Array): Result<Frame, FrameError> {
  if (encoded.length > MAX_ENCODED_FRAME_BYTES) return err({ kind: 'oversize', length: encoded.length });
  const decoded = cobsDecode(encoded);
  if (!decoded.ok) return err({ kind: 'cobs', detail: decoded.error });
  const raw = decoded.value;
  if (raw.length < FRAME_HEADER_BYTES + FRAME_CRC_BYTES) return err({ kind: 'short', length: raw.length });
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const bodyLength = raw.length - FRAME_CRC_BYTES;
  const expected = view.getUint32(bodyLength, true);
  const actual = crc32(raw.subarray(0, bodyLength));
  if (expected !== actual) return err({ kind: 'crc', expected, actual });
  return ok({
    type: raw[0] as number,
    flags: raw[1] as number,
    seq: view.getUint16(2, true),
    payload: raw.subarray(FRAME_HEADER_BYTES, bodyLength),
  });
}
