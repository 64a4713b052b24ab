/** Test ballots for the bridge: 1700x2200 gray pages (letter at 200 dpi) with a few shapes, made with sharp. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { readDeck, type DeckSheet } from '../../../firmware-bridge/simulator/deck';

export async function pageImage(n: number, format: 'png' | 'tiff' = 'png', width = 1700, height = 2200): Promise<Buffer> {
  const shapes: string[] = [];
  for (let i = 0; i < 12; i += 1) {
    const x = 150 + ((i * 37 + n * 53) % 12) * 110;
    const y = 300 + i * 140;
    shapes.push(`<ellipse cx="${x}" cy="${y}" rx="28" ry="18" fill="${(i + n) % 3 === 0 ? '#111' : 'none'}" stroke="#000" stroke-width="3"/>`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect x="60" y="60" width="80" height="80" fill="#000"/><rect x="${width - 140}" y="60" width="80" height="80" fill="#000"/>
    <rect x="60" y="${height - 140}" width="80" height="80" fill="#000"/><text x="300" y="150" font-size="60">Ballot ${n}</text>
    ${shapes.join('')}</svg>`;
  const img = sharp({ create: { width, height, channels: 3, background: { r: 235, g: 235, b: 235 } } })
    .composite([{ input: Buffer.from(svg) }])
    .grayscale();
  return format === 'png' ? img.png({ compressionLevel: 6 }).toBuffer() : img.tiff({ compression: 'lzw' }).toBuffer();
}

/** Writes n front images (and, with backs, n back images) to a new folder and reads it as a deck. */
export async function makeDeck(n: number, opts: { backs?: boolean; dir?: string; small?: boolean } = {}): Promise<{ dir: string; deck: DeckSheet[] }> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tp-deck-'));
  mkdirSync(dir, { recursive: true });
  const [w, h] = opts.small ? [340, 440] : [1700, 2200];
  for (let i = 0; i < n; i += 1) {
    const name = `ballot-${String(i).padStart(3, '0')}`;
    writeFileSync(join(dir, `${name}.png`), await pageImage(i, 'png', w, h));
    if (opts.backs) writeFileSync(join(dir, `${name}.back.tiff`), await pageImage(i + 100, 'tiff', w, h));
  }
  return { dir, deck: readDeck(dir) };
}
