/**
 * Stand-in ballot pages for the simulator when no test deck is at hand: letter size at 200 dpi (1700 × 2200),
 * gray, with corner marks and ovals, as PNG or TIFF. Not readable ballots, just realistic bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export async function samplePage(n: number, format: 'png' | 'tiff' = 'png', width = 1700, height = 2200): Promise<Buffer> {
  const shapes: string[] = [];
  for (let i = 0; i < 12; i += 1) {
    const x = Math.round((width * (150 + ((i * 37 + n * 53) % 12) * 110)) / 1700);
    const y = Math.round((height * (300 + i * 140)) / 2200);
    shapes.push(`<ellipse cx="${x}" cy="${y}" rx="28" ry="18" fill="${(i + n) % 3 === 0 ? '#111' : 'none'}" stroke="#000" stroke-width="3"/>`);
  }
  const m = Math.round(width / 28);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect x="${m}" y="${m}" width="${m}" height="${m}" fill="#000"/><rect x="${width - 2 * m}" y="${m}" width="${m}" height="${m}" fill="#000"/>
    <rect x="${m}" y="${height - 2 * m}" width="${m}" height="${m}" fill="#000"/><text x="${m * 4}" y="${m * 2}" font-size="${m}">Ballot ${n}</text>
    ${shapes.join('')}</svg>`;
  const img = sharp({ create: { width, height, channels: 3, background: { r: 235, g: 235, b: 235 } } })
    .composite([{ input: Buffer.from(svg) }])
    .grayscale();
  return format === 'png' ? img.png({ compressionLevel: 6 }).toBuffer() : img.tiff({ compression: 'lzw' }).toBuffer();
}

/** Writes n sheets (`ballot-NNN.png`, and `ballot-NNN.back.tiff` with backs) into dir. */
export async function writeSampleDeck(dir: string, n: number, opts: { backs?: boolean; width?: number; height?: number } = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i += 1) {
    const name = `ballot-${String(i).padStart(3, '0')}`;
    writeFileSync(join(dir, `${name}.png`), await samplePage(i, 'png', opts.width, opts.height));
    if (opts.backs) writeFileSync(join(dir, `${name}.back.tiff`), await samplePage(i + 100, 'tiff', opts.width, opts.height));
  }
}
