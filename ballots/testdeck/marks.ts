import type { Rect, SideLayout, Target } from '../layout';
import type { GrayImage } from '../gray-image';
import { mmToPx } from '../gray-image';
import type { Ink } from './paint';
import { clipForFraction, fillEllipse, polyline, stroke } from './paint';
import type { Rng } from './rng';

/** How a voter (or a careless hand) marks a target. */
export const MARK_KINDS = ['full', 'partial', 'check', 'x', 'line', 'dot', 'light-pencil', 'erasure'] as const;
export type MarkKind = (typeof MARK_KINDS)[number];
export type MarkClass = 'filled' | 'marginal' | 'empty';

/**
 * What a correct reader must report for each kind. Every kind is drawn so that it sits clearly inside its
 * class: a mark meant as a vote covers at least a quarter of the oval, a dot about a tenth (for review),
 * an erasure leaves only a faint smudge.
 */
export const EXPECTED_CLASS: Readonly<Record<MarkKind, MarkClass>> = {
  full: 'filled',
  partial: 'filled',
  check: 'filled',
  x: 'filled',
  line: 'filled',
  dot: 'marginal',
  'light-pencil': 'filled',
  erasure: 'empty',
};

export const PEN: (rng: Rng) => Ink = (rng) => ({ value: rng.uniform(5, 70), grain: 4 });
const PENCIL: (rng: Rng) => Ink = (rng) => ({ value: rng.uniform(95, 135), grain: 12 });

/** Draws one mark of `kind` on `target` (mm) into `img` at `dpi`. */
export function drawMark(img: GrayImage, kind: MarkKind, target: Rect, dpi: number, rng: Rng): void {
  const px = (mm: number) => mmToPx(mm, dpi);
  const cx = px(target.x + target.width / 2);
  const cy = px(target.y + target.height / 2);
  const rx = px(target.width / 2);
  const ry = px(target.height / 2);
  const jitter = () => px(rng.uniform(-0.3, 0.3));
  switch (kind) {
    case 'full': {
      const s = rng.uniform(0.9, 1.12);
      fillEllipse(img, cx + jitter(), cy + jitter(), rx * s, ry * s, PEN(rng), rng, { angle: rng.uniform(-0.1, 0.1) });
      return;
    }
    case 'partial': {
      const fraction = rng.uniform(0.5, 0.85);
      fillEllipse(img, cx, cy, rx * 0.98, ry * 0.98, PEN(rng), rng, { clip: clipForFraction(fraction), clipAngle: rng.uniform(0, 2 * Math.PI) });
      return;
    }
    case 'check': {
      const w = px(rng.uniform(0.8, 1.05));
      const s = rng.uniform(0.9, 1.2);
      polyline(
        img,
        [
          [cx - rx * 0.8 * s, cy - ry * 0.05],
          [cx - rx * 0.15 * s, cy + ry * 0.85 * s],
          [cx + rx * 1.0 * s, cy - ry * 1.3 * s],
        ],
        w,
        PEN(rng),
        rng,
      );
      return;
    }
    case 'x': {
      const w = px(rng.uniform(0.55, 0.85));
      const s = rng.uniform(0.85, 1.15);
      const ink = PEN(rng);
      stroke(img, cx - rx * 0.8 * s, cy - ry * 0.9 * s, cx + rx * 0.8 * s, cy + ry * 0.9 * s, w, ink, rng);
      stroke(img, cx - rx * 0.8 * s, cy + ry * 0.9 * s, cx + rx * 0.8 * s, cy - ry * 0.9 * s, w, ink, rng);
      return;
    }
    case 'line': {
      const w = px(rng.uniform(0.9, 1.3));
      const tilt = rng.uniform(-0.12, 0.12);
      const half = rx * rng.uniform(0.95, 1.2);
      stroke(img, cx - half, cy - half * tilt, cx + half, cy + half * tilt, w, PEN(rng), rng);
      return;
    }
    case 'dot': {
      const r = px(rng.uniform(1.05, 1.25) / 2);
      fillEllipse(img, cx + rx * rng.uniform(-0.3, 0.3), cy + ry * rng.uniform(-0.2, 0.2), r, r, PEN(rng), rng);
      return;
    }
    case 'light-pencil': {
      const s = rng.uniform(0.9, 1.08);
      fillEllipse(img, cx + jitter(), cy + jitter(), rx * s, ry * s, PENCIL(rng), rng);
      return;
    }
    case 'erasure': {
      fillEllipse(img, cx + jitter(), cy + jitter(), rx * 0.95, ry * 0.95, { value: rng.uniform(212, 228), grain: 3 }, rng);
      return;
    }
  }
}

/**
 * Stray marks outside every target (a doodle, a tick by a name, a smudge): a correct reader ignores them.
 * Returns the bounding boxes drawn, in mm, for the truth file.
 */
export function drawStrayMarks(img: GrayImage, side: SideLayout, page: { width: number; height: number }, count: number, dpi: number, rng: Rng): Rect[] {
  const keepOut = side.targets.map((t) => grow(t, 2));
  const forbidden = [...keepOut, ...side.codes.map((c) => grow(c, 4)), ...side.marks.map((m) => grow(m, 3))];
  const drawn: Rect[] = [];
  for (let n = 0; n < count; n++) {
    for (let attempt = 0; attempt < 30; attempt++) {
      const x = rng.uniform(20, page.width - 20);
      const y = rng.uniform(20, page.height - 20);
      const pts: [number, number][] = [[x, y]];
      const segments = rng.int(1, 5);
      for (let i = 0; i < segments; i++) {
        const last = pts[pts.length - 1]!;
        pts.push([last[0] + rng.uniform(-8, 8), last[1] + rng.uniform(-5, 5)]);
      }
      const box = bounds(pts);
      if (forbidden.some((f) => intersects(f, box))) continue;
      polyline(
        img,
        pts.map(([a, b]) => [mmToPx(a, dpi), mmToPx(b, dpi)] as const),
        mmToPx(rng.uniform(0.4, 1.0), dpi),
        PEN(rng),
        rng,
      );
      drawn.push(box);
      break;
    }
  }
  return drawn;
}

export function targetKey(t: Pick<Target, 'contestId' | 'optionId'>): string {
  return `${t.contestId}/${t.optionId}`;
}

function grow(r: Rect, by: number): Rect {
  return { x: r.x - by, y: r.y - by, width: r.width + 2 * by, height: r.height + 2 * by };
}

function bounds(pts: readonly (readonly [number, number])[]): Rect {
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x = Math.min(...xs) - 1;
  const y = Math.min(...ys) - 1;
  return { x, y, width: Math.max(...xs) + 1 - x, height: Math.max(...ys) + 1 - y };
}

function intersects(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}
