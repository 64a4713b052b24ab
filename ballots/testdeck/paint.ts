import type { GrayImage } from '../gray-image';
import type { Rng } from './rng';

/** Ink darkens paper and never lightens it (a pen over print): each pixel keeps the darker value. */
function darken(img: GrayImage, i: number, value: number): void {
  const v = value < 0 ? 0 : value > 255 ? 255 : value;
  if (v < (img.data[i] as number)) img.data[i] = v;
}

export interface Ink {
  /** Mean gray of the ink, 0 black. */
  readonly value: number;
  /** Per-pixel spread, for pencil grain. */
  readonly grain: number;
}

/**
 * Fills the ellipse (centre, radii in px, rotated by `angle` rad), limited to the part where the
 * normalised coordinate along `clipAngle` is below `clip` (1 = whole ellipse).
 */
export function fillEllipse(
  img: GrayImage,
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  ink: Ink,
  rng: Rng,
  opts: { angle?: number; clip?: number; clipAngle?: number } = {},
): void {
  const angle = opts.angle ?? 0;
  const clip = opts.clip ?? 1;
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  const cc = Math.cos(opts.clipAngle ?? 0);
  const sc = Math.sin(opts.clipAngle ?? 0);
  const r = Math.max(rx, ry);
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(img.width - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(img.height - 1, Math.ceil(cy + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = (dx * ca + dy * sa) / rx;
      const v = (-dx * sa + dy * ca) / ry;
      if (u * u + v * v > 1) continue;
      if (clip < 1 && u * cc + v * sc > clip) continue;
      darken(img, y * img.width + x, ink.value + (ink.grain ? rng.normal() * ink.grain : 0));
    }
  }
}

/** A straight stroke of `width` px with round caps. */
export function stroke(img: GrayImage, x1: number, y1: number, x2: number, y2: number, width: number, ink: Ink, rng: Rng): void {
  const half = width / 2;
  const x0 = Math.max(0, Math.floor(Math.min(x1, x2) - half - 1));
  const xe = Math.min(img.width - 1, Math.ceil(Math.max(x1, x2) + half + 1));
  const y0 = Math.max(0, Math.floor(Math.min(y1, y2) - half - 1));
  const ye = Math.min(img.height - 1, Math.ceil(Math.max(y1, y2) + half + 1));
  const vx = x2 - x1;
  const vy = y2 - y1;
  const len2 = vx * vx + vy * vy || 1;
  for (let y = y0; y <= ye; y++) {
    for (let x = x0; x <= xe; x++) {
      const px = x + 0.5 - x1;
      const py = y + 0.5 - y1;
      const t = Math.max(0, Math.min(1, (px * vx + py * vy) / len2));
      const ex = px - t * vx;
      const ey = py - t * vy;
      if (ex * ex + ey * ey <= half * half) darken(img, y * img.width + x, ink.value + (ink.grain ? rng.normal() * ink.grain : 0));
    }
  }
}

/** A polyline of strokes. */
export function polyline(img: GrayImage, points: readonly (readonly [number, number])[], width: number, ink: Ink, rng: Rng): void {
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    stroke(img, a[0], a[1], b[0], b[1], width, ink, rng);
  }
}

/** Fraction of a unit disc with u·n <= t, for choosing a partial fill's clip offset. */
export function discFractionBelow(t: number): number {
  const c = Math.max(-1, Math.min(1, t));
  return 1 - (Math.acos(c) - c * Math.sqrt(1 - c * c)) / Math.PI;
}

/** The clip offset that leaves `fraction` of the disc. */
export function clipForFraction(fraction: number): number {
  let lo = -1;
  let hi = 1;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (discFractionBelow(mid) < fraction) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
