import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PrintError } from './errors';

const run = promisify(execFile);

/** A thermal head prints 8 dots a millimetre (203 dpi): one PDF millimetre becomes exactly 8 dots. */
export const DOTS_PER_MM = 8;
export const THERMAL_DPI = DOTS_PER_MM * 25.4;

/** One cut of tape as dots: `rows` rows of `width` dots, packed 8 dots a byte, most significant bit first, 1 = black. */
export interface Raster {
  readonly width: number;
  readonly rows: number;
  readonly bits: Buffer;
}

/**
 * The tape's pages as the printer's dots: Poppler renders each page at 203.2 dpi in grey (the same
 * renderer a person looks at with pdftoppm), a dot is black where the grey is darker than half, and the
 * 72 mm the head prints are taken from the middle of the 80 mm page.
 */
export async function rasterisePdf(pdf: Uint8Array, dotsPerLine: number): Promise<Raster[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tallyproof-raster-'));
  try {
    const src = path.join(dir, 'tape.pdf');
    fs.writeFileSync(src, pdf);
    try {
      await run('pdftoppm', ['-gray', '-r', String(THERMAL_DPI), src, path.join(dir, 'page')], { maxBuffer: 1 << 20 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new PrintError('raster', code === 'ENOENT' ? 'pdftoppm is not installed (Debian poppler-utils): the thermal printer needs it to render the tape' : `pdftoppm could not render the tape: ${(e as Error).message}`);
    }
    const pages = fs
      .readdirSync(dir)
      .filter((f) => /^page-\d+\.pgm$/.test(f))
      .sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
    if (pages.length === 0) throw new PrintError('raster', 'pdftoppm rendered no page of the tape');
    return pages.map((f) => threshold(parsePgm(fs.readFileSync(path.join(dir, f))), dotsPerLine));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Grey {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

/** Binary PGM (P5, 8-bit), as pdftoppm -gray writes it. */
export function parsePgm(b: Buffer): Grey {
  let at = 0;
  const token = (): string => {
    for (;;) {
      while (at < b.length && /\s/.test(String.fromCharCode(b[at] as number))) at++;
      if (b[at] === 0x23) while (at < b.length && b[at] !== 0x0a) at++;
      else break;
    }
    const start = at;
    while (at < b.length && !/\s/.test(String.fromCharCode(b[at] as number))) at++;
    return b.subarray(start, at).toString('latin1');
  };
  if (token() !== 'P5') throw new PrintError('raster', 'pdftoppm gave no 8-bit grey PGM');
  const width = Number(token());
  const height = Number(token());
  const max = Number(token());
  if (!(width > 0 && height > 0 && max === 255)) throw new PrintError('raster', `unexpected PGM header ${width}x${height} max ${max}`);
  at++; // the one whitespace byte before the pixels
  const pixels = b.subarray(at, at + width * height);
  if (pixels.length !== width * height) throw new PrintError('raster', 'the PGM from pdftoppm is cut short');
  return { width, height, pixels };
}

function threshold(g: Grey, dots: number): Raster {
  if (g.width < dots || g.width > dots + 12 * DOTS_PER_MM) {
    throw new PrintError('paper', `the tape is ${(g.width / DOTS_PER_MM).toFixed(1)} mm wide: a thermal printer of ${dots / DOTS_PER_MM} mm takes the 80 mm roll tape only`);
  }
  const left = Math.floor((g.width - dots) / 2);
  const stride = dots / 8;
  const bits = Buffer.alloc(stride * g.height);
  for (let y = 0; y < g.height; y++) {
    const row = y * g.width + left;
    for (let x = 0; x < dots; x++) {
      if ((g.pixels[row + x] as number) < 128) bits[y * stride + (x >> 3)] = (bits[y * stride + (x >> 3)] as number) | (0x80 >> (x & 7));
    }
  }
  return { width: dots, rows: g.height, bits };
}
