import type { Target } from '../layout';
import { BALLOT } from '../layout';
import type { GrayImage } from '../gray-image';
import type { Homography } from './homography';

/**
 * The share of a target's inside that is ink: sample points on a grid in page millimetres (about one per
 * pixel), inside the oval shrunk by its printed outline and an alignment inset, mapped into the image. An
 * empty oval's inside is paper, so every dark sample is a new mark; marks outside targets are never seen.
 */
export function targetScore(
  img: GrayImage,
  toImage: Homography,
  t: Target,
  inkBelow: number,
  insetMm: number,
  offset: { x: number; y: number },
  dpi: number,
): number {
  const rx = t.width / 2 - BALLOT.oval.line / 2 - insetMm;
  const ry = t.height / 2 - BALLOT.oval.line / 2 - insetMm;
  const cx = t.x + t.width / 2 + offset.x;
  const cy = t.y + t.height / 2 + offset.y;
  const step = Math.min(0.12, 25.4 / dpi);
  const [h0, h1, h2, h3, h4, h5, h6, h7] = toImage;
  const { width, data } = img;
  const inkBelow9 = inkBelow * 9;
  let total = 0;
  let ink = 0;
  for (let dy = -ry; dy <= ry; dy += step) {
    const v = dy / ry;
    const span = rx * Math.sqrt(Math.max(0, 1 - v * v));
    const y = cy + dy;
    for (let dx = -span; dx <= span; dx += step) {
      const x = cx + dx;
      const w = h6 * x + h7 * y + 1;
      const px = ((h0 * x + h1 * y + h2) / w) | 0;
      const py = ((h3 * x + h4 * y + h5) / w) | 0;
      total++;
      // Ink where the 3×3 mean is below the cut — sensor noise and pencil grain average out, so the cut
      // can sit close to paper white — but never on the strength of one pixel: a lone black dust speck on
      // an erasure's grey smudge pulls its neighbourhood's mean over the cut while no other pixel is ink.
      const i = py * width + px;
      const a = data[i - width - 1] as number, b = data[i - width] as number, c = data[i - width + 1] as number;
      const d = data[i - 1] as number, e = data[i] as number, f = data[i + 1] as number;
      const g = data[i + width - 1] as number, h = data[i + width] as number, k = data[i + width + 1] as number;
      if (a + b + c + d + e + f + g + h + k >= inkBelow9) continue;
      const dark = +(a < inkBelow) + +(b < inkBelow) + +(c < inkBelow) + +(d < inkBelow) + +(e < inkBelow) + +(f < inkBelow) + +(g < inkBelow) + +(h < inkBelow) + +(k < inkBelow);
      if (dark >= 2) ink++;
    }
  }
  return total === 0 ? 0 : ink / total;
}
