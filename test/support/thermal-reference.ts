import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/**
 * What an 80 mm thermal head should print of a tape PDF, from pdftoppm's own rendering: each page at
 * 8 dots/mm in grey (PNG, read back with sharp), black where darker than half, the middle 576 dots.
 */
export async function thermalReference(pdf: string, workDir: string): Promise<{ width: number; height: number; dots: Uint8Array }[]> {
  const prefix = path.join(workDir, `${path.basename(pdf, '.pdf')}-203dpi`);
  execFileSync('pdftoppm', ['-r', '203.2', '-gray', '-png', pdf, prefix]);
  const pages = fs
    .readdirSync(workDir)
    .filter((f) => f.startsWith(path.basename(prefix)) && f.endsWith('.png'))
    .sort();
  const out: { width: number; height: number; dots: Uint8Array }[] = [];
  for (const f of pages) {
    const { data, info } = await sharp(path.join(workDir, f)).greyscale().raw().toBuffer({ resolveWithObject: true });
    const left = Math.floor((info.width - 576) / 2);
    const dots = new Uint8Array(576 * info.height);
    for (let y = 0; y < info.height; y++) for (let x = 0; x < 576; x++) dots[y * 576 + x] = data[y * info.width * info.channels + (left + x) * info.channels]! < 128 ? 1 : 0;
    out.push({ width: 576, height: info.height, dots });
  }
  return out;
}
