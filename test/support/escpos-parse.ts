/**
 * An ESC/POS reader for tests, written from Epson's command reference and not from app/print: it walks a
 * byte stream command by command, refuses anything it does not know, and gives back what a thermal
 * printer would put on paper: each cut's raster rows (1 bit a dot, MSB first) and the feeds between.
 */
export interface ParsedCut {
  /** dots a line */
  readonly width: number;
  /** one Uint8Array per row: width / 8 bytes */
  readonly rows: Uint8Array[];
  /** dots fed after the last row before the cut */
  readonly feedDots: number;
  readonly cut: 'partial' | 'full' | 'none';
}

export interface ParsedJob {
  readonly initialised: boolean;
  readonly cuts: ParsedCut[];
}

export function parseEscpos(bytes: Uint8Array): ParsedJob {
  let at = 0;
  let initialised = false;
  const cuts: ParsedCut[] = [];
  let rows: Uint8Array[] = [];
  let width = 0;
  let feed = 0;
  const need = (n: number, what: string): void => {
    if (at + n > bytes.length) throw new Error(`${what} at byte ${at} is cut short`);
  };
  const endCut = (cut: ParsedCut['cut']): void => {
    cuts.push({ width, rows, feedDots: feed, cut });
    rows = [];
    feed = 0;
  };
  while (at < bytes.length) {
    const b = bytes[at]!;
    if (b === 0x1b) {
      need(2, 'ESC');
      const c = bytes[at + 1]!;
      if (c === 0x40) {
        initialised = true;
        at += 2;
      } else if (c === 0x4a) {
        need(3, 'ESC J');
        feed += bytes[at + 2]!;
        at += 3;
      } else if (c === 0x64) {
        need(3, 'ESC d');
        // n lines of the default 1/6 inch (about 34 dots at 203 dpi): a tear-off feed ends the tape
        feed += bytes[at + 2]! * 34;
        at += 3;
        endCut('none');
      } else throw new Error(`unknown command ESC 0x${c.toString(16)} at byte ${at}`);
    } else if (b === 0x1d) {
      need(2, 'GS');
      const c = bytes[at + 1]!;
      if (c === 0x76) {
        need(8, 'GS v 0');
        if (bytes[at + 2] !== 0x30) throw new Error(`GS v with 0x${bytes[at + 2]!.toString(16)} at byte ${at}`);
        const m = bytes[at + 3]!;
        if (m !== 0 && m !== 48) throw new Error(`GS v 0 in a scaled mode ${m} at byte ${at}`);
        const xBytes = bytes[at + 4]! + 256 * bytes[at + 5]!;
        const y = bytes[at + 6]! + 256 * bytes[at + 7]!;
        at += 8;
        need(xBytes * y, 'GS v 0 data');
        if (width !== 0 && rows.length > 0 && width !== xBytes * 8) throw new Error('raster bands of different widths in one cut');
        width = xBytes * 8;
        for (let r = 0; r < y; r++) rows.push(bytes.slice(at + r * xBytes, at + (r + 1) * xBytes));
        at += xBytes * y;
      } else if (c === 0x56) {
        need(3, 'GS V');
        const m = bytes[at + 2]!;
        if (m === 0 || m === 48 || m === 1 || m === 49) {
          at += 3;
          endCut(m === 0 || m === 48 ? 'full' : 'partial');
        } else if (m === 65 || m === 66) {
          need(4, 'GS V m n');
          feed += bytes[at + 3]!;
          at += 4;
          endCut(m === 65 ? 'full' : 'partial');
        } else throw new Error(`GS V mode ${m} at byte ${at}`);
      } else throw new Error(`unknown command GS 0x${c.toString(16)} at byte ${at}`);
    } else throw new Error(`unexpected byte 0x${b.toString(16)} at ${at}: not a command this job should send`);
  }
  if (rows.length > 0) throw new Error('raster rows after the last cut: the tape would stay in the printer');
  return { initialised, cuts };
}

/** A cut's dots as 0/1 per pixel, row-major. */
export function cutDots(c: ParsedCut): Uint8Array {
  const out = new Uint8Array(c.width * c.rows.length);
  c.rows.forEach((row, y) => {
    for (let x = 0; x < c.width; x++) out[y * c.width + x] = (row[x >> 3]! >> (7 - (x & 7))) & 1;
  });
  return out;
}
