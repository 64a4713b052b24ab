import type { GrayImage } from '../gray-image';
import type { Point } from './homography';

/**
 * Vertical scanner streaks: a dirty sensor pixel paints one column dark from the top of the scan to the
 * bottom. Printing never does (contest borders are a fraction of the page high), so a column that is dark
 * over `fraction` of the page's height, between the corner marks, is a streak. Returns their x positions.
 */
export function findStreaks(img: GrayImage, corners: readonly Point[], inkBelow: number, fraction: number): number[] {
  const xs = corners.map((c) => c.x).sort((a, b) => a - b);
  const ys = corners.map((c) => c.y).sort((a, b) => a - b);
  // inside every corner mark: the two inner x's and y's of the four
  const x0 = Math.ceil(xs[1]! + 10);
  const x1 = Math.floor(xs[2]! - 10);
  const y0 = Math.ceil(ys[1]!);
  const y1 = Math.floor(ys[2]!);
  if (x1 <= x0 || y1 <= y0) return [];
  const rowStep = 3;
  const rows = Math.ceil((y1 - y0) / rowStep);
  // A column with more light samples than (1 - fraction) of all rows cannot be a streak: once a column
  // has that many it is dropped, so a normal page stops being scanned after a few dozen rows.
  const allowedLight = rows - Math.ceil(rows * fraction);
  const light = new Uint32Array(x1 - x0);
  let candidates = Array.from({ length: x1 - x0 }, (_, i) => i);
  for (let y = y0; y < y1 && candidates.length > 0; y += rowStep) {
    const base = y * img.width + x0;
    let kept = 0;
    for (const i of candidates) {
      if ((img.data[base + i] as number) >= inkBelow && ++light[i]! > allowedLight) continue;
      candidates[kept++] = i;
    }
    candidates = candidates.slice(0, kept);
  }
  const out: number[] = [];
  for (const i of candidates) if (out.length === 0 || x0 + i - out[out.length - 1]! > 4) out.push(x0 + i);
  return out;
}
