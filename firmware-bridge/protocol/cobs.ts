/**
 * Consistent Overhead Byte Stuffing: removes every 0x00 from a frame so that 0x00 can delimit frames on the wire.
 * A receiver that lands in the middle of a frame (garbage, a dropped byte) resynchronises at the next 0x00.
 */
import { err, ok, type Result } from '../../lib/result';

export function cobsEncode(input: Uint8Array): Uint8Array {
  // Worst case: one overhead byte per 254 data bytes, plus the first code byte.
  const out = new Uint8Array(input.length + Math.ceil(input.length / 254) + 1);
  let codeIndex = 0;
  let code = 1;
  let o = 1;
  for (let i = 0; i < input.length; i += 1) {
    const b = input[i] as number;
    if (b === 0) {
      out[codeIndex] = code;
      codeIndex = o;
      o += 1;
      code = 1;
    } else {
      out[o] = b;
      o += 1;
      code += 1;
      if (code === 0xff) {
        out[codeIndex] = code;
        codeIndex = o;
        o += 1;
        code = 1;
      }
    }
  }
  out[codeIndex] = code;
  return out.subarray(0, o);
}

export type CobsError = 'empty' | 'zero-in-frame' | 'truncated';

export function cobsDecode(input: Uint8Array): Result<Uint8Array, CobsError> {
  if (input.length === 0) return err('empty');
  const out = new Uint8Array(input.length);
  let o = 0;
  let i = 0;
  while (i < input.length) {
    const code = input[i] as number;
    if (code === 0) return err('zero-in-frame');
    i += 1;
    const end = i + code - 1;
    if (end > input.length) return err('truncated');
    for (; i < end; i += 1) {
      const b = input[i] as number;
      if (b === 0) return err('zero-in-frame');
      out[o] = b;
      o += 1;
    }
    // A block shorter than 0xff stands for "data, then a zero", except at the very end of the frame.
    if (code !== 0xff && i < input.length) {
      out[o] = 0;
      o += 1;
    }
  }
  return ok(out.subarray(0, o));
}
