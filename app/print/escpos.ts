import type { Raster } from './raster';

/**
 * The ESC/POS commands a tape job uses (Epson's ESC/POS reference; every 80 mm thermal printer of the
 * kind takes them): ESC @ to start clean, GS v 0 to print a raster image, ESC J to feed, GS V to cut.
 * A raster goes in bands: many printers take at most a few hundred rows in one GS v 0.
 */
export const ESC = 0x1b;
export const GS = 0x1d;
export const BAND_ROWS = 256;
/** dots fed after the last row so the cut falls below the tape's end (the head sits above the cutter) */
export const FEED_BEFORE_CUT = 160;

export interface EscposJobOptions {
  readonly copies: number;
  readonly cutter: boolean;
}

/** One print job: each copy of each cut, fed out and cut (or fed out for tearing). */
export function escposJob(pages: readonly Raster[], opts: EscposJobOptions): Buffer {
  const parts: Buffer[] = [Buffer.from([ESC, 0x40])];
  for (let copy = 0; copy < opts.copies; copy++) {
    for (const page of pages) {
      parts.push(...rasterCommands(page));
      parts.push(Buffer.from([ESC, 0x4a, 255 & FEED_BEFORE_CUT]));
      // GS V 66 0: feed to the cutter and cut, leaving a hinge (partial cut) so the tape does not fall
      parts.push(opts.cutter ? Buffer.from([GS, 0x56, 66, 0]) : Buffer.from([ESC, 0x64, 4]));
    }
  }
  return Buffer.concat(parts);
}

/** GS v 0 m xL xH yL yH d1..dk: m = 0 (normal size), x in bytes, y in rows. */
export function rasterCommands(r: Raster): Buffer[] {
  const stride = r.width / 8;
  if (!Number.isInteger(stride)) throw new Error(`a raster line is whole bytes: ${r.width} dots`);
  const out: Buffer[] = [];
  for (let y = 0; y < r.rows; y += BAND_ROWS) {
    const rows = Math.min(BAND_ROWS, r.rows - y);
    out.push(Buffer.from([GS, 0x76, 0x30, 0, stride & 0xff, stride >> 8, rows & 0xff, rows >> 8]));
    out.push(r.bits.subarray(y * stride, (y + rows) * stride));
  }
  return out;
}
