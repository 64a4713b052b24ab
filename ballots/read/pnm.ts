import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { GrayImage } from '../gray-image';

/**
 * Netpbm (PBM/PGM/PPM, ASCII and binary): what SANE's scanimage writes by default. sharp's libvips build
 * does not read it, so it is parsed here; colour is reduced to luma (Rec. 601).
 */
export function isPnm(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x50 && (bytes[1] as number) >= 0x31 && (bytes[1] as number) <= 0x36;
}

export function parsePnm(bytes: Uint8Array, maxPixels: number): Result<GrayImage, string> {
  const kind = (bytes[1] as number) - 0x30;
  let pos = 2;
  const token = (): number | undefined => {
    for (;;) {
      while (pos < bytes.length && isSpace(bytes[pos] as number)) pos++;
      if (bytes[pos] === 0x23) {
        while (pos < bytes.length && bytes[pos] !== 0x0a && bytes[pos] !== 0x0d) pos++;
        continue;
      }
      break;
    }
    const start = pos;
    while (pos < bytes.length && (bytes[pos] as number) >= 0x30 && (bytes[pos] as number) <= 0x39) pos++;
    if (pos === start) return undefined;
    return Number(String.fromCharCode(...bytes.subarray(start, pos)));
  };
  const width = token();
  const height = token();
  const maxval = kind === 1 || kind === 4 ? 1 : token();
  if (width === undefined || height === undefined || maxval === undefined) return err('the Netpbm header is incomplete');
  if (width === 0 || height === 0) return err(`the image is ${width}×${height} pixels: empty`);
  if (width * height > maxPixels) return err(`the image is ${width}×${height} pixels, more than the ${maxPixels} this reader accepts`);
  if (maxval < 1 || maxval > 65535) return err(`the Netpbm maximum value ${maxval} is out of range`);
  const n = width * height;
  const out = new Uint8Array(n);
  const scale = 255 / maxval;
  if (kind <= 3) {
    const channels = kind === 3 ? 3 : 1;
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let c = 0; c < channels; c++) {
        const t = token();
        if (t === undefined) return err(`the Netpbm data ends after ${i} of ${n} pixels`);
        v += channels === 3 ? t * [0.299, 0.587, 0.114][c]! : t;
      }
      out[i] = kind === 1 ? (v ? 0 : 255) : Math.round(v * scale);
    }
    return ok({ width, height, data: out });
  }
  pos++; // the single whitespace after the header
  if (kind === 4) {
    const rowBytes = Math.ceil(width / 8);
    if (bytes.length - pos < rowBytes * height) return err(`the image data is truncated: ${bytes.length - pos} of ${rowBytes * height} bytes`);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = ((bytes[pos + y * rowBytes + (x >> 3)] as number) >> (7 - (x & 7))) & 1;
        out[y * width + x] = bit ? 0 : 255;
      }
    }
    return ok({ width, height, data: out });
  }
  const bps = maxval > 255 ? 2 : 1;
  const channels = kind === 6 ? 3 : 1;
  const need = n * channels * bps;
  if (bytes.length - pos < need) return err(`the image data is truncated: ${bytes.length - pos} of ${need} bytes`);
  const sample = (i: number) => (bps === 2 ? ((bytes[pos + 2 * i] as number) << 8) | (bytes[pos + 2 * i + 1] as number) : (bytes[pos + i] as number));
  for (let i = 0; i < n; i++) {
    const v = channels === 3 ? 0.299 * sample(3 * i) + 0.587 * sample(3 * i + 1) + 0.114 * sample(3 * i + 2) : sample(i);
    out[i] = Math.round(v * scale);
  }
  return ok({ width, height, data: out });
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}
