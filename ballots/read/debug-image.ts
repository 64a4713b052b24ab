import sharp from 'sharp';
import type { SideLayout } from '../layout';
import { textPathData } from '../layout';
import type { GrayImage } from '../gray-image';
import type { Homography } from './homography';
import { applyHomography } from './homography';
import type { MarkReading } from './mark-reading';

const COLOURS = { filled: '#1a9c3c', marginal: '#f08c00', empty: '#8a8a8a' } as const;

/**
 * The scan with every target outlined where the reader looked, coloured by its class and labelled with
 * its score: for tuning thresholds and for auditors who want to see why a mark counted. Labels are drawn
 * from the ballot font's outlines, so no system font is needed.
 */
export async function scoringImage(img: GrayImage, toImage: Homography, side: SideLayout, marks: readonly MarkReading[], dpi: number): Promise<Buffer> {
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${img.width}" height="${img.height}">`];
  const size = (2.6 * dpi) / 25.4;
  for (const t of side.targets) {
    const m = marks.find((r) => r.contestId === t.contestId && r.optionId === t.optionId);
    if (!m) continue;
    const corners = [
      applyHomography(toImage, t.x, t.y),
      applyHomography(toImage, t.x + t.width, t.y),
      applyHomography(toImage, t.x + t.width, t.y + t.height),
      applyHomography(toImage, t.x, t.y + t.height),
    ];
    const colour = COLOURS[m.class];
    parts.push(`<polygon points="${corners.map((c) => `${c.x.toFixed(1)},${c.y.toFixed(1)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="${Math.max(2, dpi / 75)}"/>`);
    const label = applyHomography(toImage, t.x + t.width + 0.5, t.y - 0.4);
    parts.push(`<path fill="${colour}" d="${textPathData(`${(m.score * 100).toFixed(1)}%`, 'bold', size, label.x, label.y)}"/>`);
  }
  parts.push('</svg>');
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 1 } })
    .toColourspace('srgb')
    .composite([{ input: Buffer.from(parts.join('')), left: 0, top: 0 }])
    .png()
    .toBuffer();
}
