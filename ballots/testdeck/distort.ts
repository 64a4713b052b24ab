import type { RegistrationMark } from '../layout';
import type { GrayImage } from '../gray-image';
import { mmToPx } from '../gray-image';
import type { Rng } from './rng';

/**
 * How a scan differs from the ideal drawing. Geometric parameters describe where the printed page lands in
 * the scanner's frame; the others, what paper, printer and scanner do to the pixels.
 */
export interface Distortion {
  /** Rotation of the page, degrees, positive clockwise. */
  readonly skewDeg: number;
  /** Shift of the printed page in the frame, mm. */
  readonly shiftMm: { readonly x: number; readonly y: number };
  /** Print scale, 1 = 100%. */
  readonly scale: number;
  /** Fed upside down (180°). */
  readonly upsideDown: boolean;
  /** Paper colour as a gray multiplier (1 = white). */
  readonly paperTint: number;
  readonly brightness: number;
  readonly contrast: number;
  readonly noiseSigma: number;
  readonly saltPepper: number;
  readonly blurSigma: number;
  /** Vertical scanner streaks: x in px of the output frame, width px, gray. */
  readonly streaks: readonly { readonly x: number; readonly width: number; readonly value: number }[];
  /** Paper folds as lines across the page in mm (two points), with their darkening. */
  readonly folds: readonly { readonly x1: number; readonly y1: number; readonly x2: number; readonly y2: number; readonly depth: number }[];
  /** Re-encoding as JPEG with this quality, if set. */
  readonly jpegQuality?: number;
}

export const NO_DISTORTION: Distortion = {
  skewDeg: 0,
  shiftMm: { x: 0, y: 0 },
  scale: 1,
  upsideDown: false,
  paperTint: 1,
  brightness: 0,
  contrast: 1,
  noiseSigma: 0,
  saltPepper: 0,
  blurSigma: 0,
  streaks: [],
  folds: [],
};

export type DistortionProfile = 'none' | 'mild' | 'full';

/** The full ranges of the test-deck issue; `mild` keeps to a quarter of them. */
export function randomDistortion(profile: DistortionProfile, rng: Rng, frame: { widthPx: number; page: { width: number; height: number } }, opts: { streaks: boolean }): Distortion {
  // streaks are the scanner's, not the paper's: a deck without distortions can still ask for them
  const streaks = opts.streaks
    ? Array.from({ length: rng.int(1, 2) }, () => ({ x: rng.int(Math.round(frame.widthPx * 0.1), Math.round(frame.widthPx * 0.9)), width: rng.int(1, 3), value: rng.int(10, 80) }))
    : [];
  if (profile === 'none') return { ...NO_DISTORTION, streaks };
  const k = profile === 'full' ? 1 : 0.25;
  const sometimes = (p: number) => rng.chance(profile === 'full' ? p : p / 2);
  const folds = sometimes(0.2)
    ? [
        rng.chance(0.5)
          ? (() => {
              const y = rng.uniform(0.3, 0.7) * frame.page.height;
              return { x1: 0, y1: y + rng.uniform(-8, 8), x2: frame.page.width, y2: y + rng.uniform(-8, 8), depth: rng.uniform(10, 35) };
            })()
          : (() => {
              const x = rng.uniform(0.3, 0.7) * frame.page.width;
              return { x1: x + rng.uniform(-8, 8), y1: 0, x2: x + rng.uniform(-8, 8), y2: frame.page.height, depth: rng.uniform(10, 35) };
            })(),
      ]
    : [];
  const d: Distortion = {
    skewDeg: rng.uniform(-5, 5) * k,
    shiftMm: { x: rng.uniform(-10, 10) * k, y: rng.uniform(-10, 10) * k },
    scale: 1 + rng.uniform(-0.03, 0.03) * k,
    upsideDown: rng.chance(0.25),
    paperTint: sometimes(0.2) ? rng.uniform(0.82, 0.96) : 1,
    brightness: sometimes(0.4) ? rng.uniform(-0.2, 0.2) * k : 0,
    contrast: sometimes(0.4) ? 1 + rng.uniform(-0.2, 0.2) * k : 1,
    noiseSigma: sometimes(0.4) ? rng.uniform(2, 12) : 0,
    saltPepper: sometimes(0.2) ? rng.uniform(0.0005, 0.004) : 0,
    blurSigma: sometimes(0.3) ? rng.uniform(0.4, 1.2) : 0,
    streaks,
    folds,
  };
  const q = sometimes(0.3) ? rng.int(30, 90) : undefined;
  return q === undefined ? d : { ...d, jpegQuality: q };
}

/**
 * Paper-space effects, applied to the marked drawing before it is placed in the frame: tint and folds.
 */
export function applyPaperEffects(img: GrayImage, d: Distortion, dpi: number): void {
  if (d.paperTint !== 1) {
    const t = d.paperTint;
    for (let i = 0; i < img.data.length; i++) img.data[i] = (img.data[i] as number) * t;
  }
  for (const f of d.folds) {
    const x1 = mmToPx(f.x1, dpi);
    const y1 = mmToPx(f.y1, dpi);
    const x2 = mmToPx(f.x2, dpi);
    const y2 = mmToPx(f.y2, dpi);
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    const nx = -(y2 - y1) / len;
    const ny = (x2 - x1) / len;
    const band = Math.max(2, dpi / 50);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const dist = (x - x1) * nx + (y - y1) * ny;
        if (dist < -band || dist > band * 1.5) continue;
        const i = y * img.width + x;
        const v = img.data[i] as number;
        // a crease: a shadow on one side, a faint highlight on the other
        img.data[i] = dist <= 0 ? Math.max(0, v - f.depth * (1 - Math.abs(dist) / band)) : Math.min(255, v + 6);
      }
    }
  }
}

export interface Placement {
  readonly skewDeg: number;
  readonly shiftMm: { readonly x: number; readonly y: number };
  readonly scale: number;
  readonly upsideDown: boolean;
}

/**
 * Shrinks the shift (then the skew) until every corner registration mark lies inside the frame: a
 * scanner frame that cut a corner off would make a different test than the one the truth describes.
 */
export function keepMarksInFrame(p: Placement, marks: readonly RegistrationMark[], page: { width: number; height: number }): Placement {
  let placement = p;
  for (let i = 0; i < 40; i++) {
    const inside = marks
      .filter((m) => m.kind === 'corner')
      .every((m) =>
        [
          [m.x, m.y],
          [m.x + m.width, m.y],
          [m.x, m.y + m.height],
          [m.x + m.width, m.y + m.height],
        ].every(([x, y]) => {
          const q = placePoint(placement, page, x as number, y as number);
          return q.x > 1 && q.y > 1 && q.x < page.width - 1 && q.y < page.height - 1;
        }),
      );
    if (inside) return placement;
    placement =
      i < 20
        ? { ...placement, shiftMm: { x: placement.shiftMm.x * 0.8, y: placement.shiftMm.y * 0.8 } }
        : { ...placement, skewDeg: placement.skewDeg * 0.85, shiftMm: { x: 0, y: 0 } };
  }
  return { ...placement, skewDeg: 0, shiftMm: { x: 0, y: 0 } };
}

/** Where a point of the printed page (mm) lands in the frame (mm). */
export function placePoint(p: Placement, page: { width: number; height: number }, x: number, y: number): { x: number; y: number } {
  const cx = page.width / 2;
  const cy = page.height / 2;
  const a = (p.skewDeg * Math.PI) / 180;
  const dx = (x - cx) * p.scale;
  const dy = (y - cy) * p.scale;
  let qx = cx + dx * Math.cos(a) - dy * Math.sin(a) + p.shiftMm.x;
  let qy = cy + dx * Math.sin(a) + dy * Math.cos(a) + p.shiftMm.y;
  if (p.upsideDown) {
    qx = 2 * cx - qx;
    qy = 2 * cy - qy;
  }
  return { x: qx, y: qy };
}

/** Resamples the page into the scanner frame (bilinear); where no paper is, the scanner's backing shows. */
export function placeInFrame(src: GrayImage, p: Placement, dpi: number, background: number): GrayImage {
  if (p.skewDeg === 0 && p.scale === 1 && p.shiftMm.x === 0 && p.shiftMm.y === 0 && !p.upsideDown) return src;
  const W = src.width;
  const H = src.height;
  const out = new Uint8Array(W * H);
  const cx = W / 2;
  const cy = H / 2;
  const a = (p.skewDeg * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const inv = 1 / p.scale;
  const sx = mmToPx(p.shiftMm.x, dpi);
  const sy = mmToPx(p.shiftMm.y, dpi);
  const data = src.data;
  // Output pixel (x, y) maps to source (px, py) = A·(x, y) + b; stepping x adds the first column of A.
  const flip = p.upsideDown ? -1 : 1;
  const ax = flip * cos * inv;
  const ay = -flip * sin * inv;
  for (let y = 0; y < H; y++) {
    const qx0 = p.upsideDown ? 2 * cx - 0.5 : 0.5;
    const qy = p.upsideDown ? 2 * cy - (y + 0.5) : y + 0.5;
    const rx0 = qx0 - sx - cx;
    const ry = qy - sy - cy;
    let px = (rx0 * cos + ry * sin) * inv + cx - 0.5;
    let py = (-rx0 * sin + ry * cos) * inv + cy - 0.5;
    let o = y * W;
    for (let x = 0; x < W; x++, o++, px += ax, py += ay) {
      if (px < 0 || py < 0 || px >= W - 1 || py >= H - 1) {
        out[o] = background;
        continue;
      }
      const x0 = px | 0;
      const y0 = py | 0;
      const fx = px - x0;
      const fy = py - y0;
      const i = y0 * W + x0;
      const a = data[i]!;
      const b = data[i + 1]!;
      const c = data[i + W]!;
      const e = data[i + W + 1]!;
      const top = a + (b - a) * fx;
      out[o] = top + (c + (e - c) * fx - top) * fy + 0.5;
    }
  }
  return { width: W, height: H, data: out };
}

/** Scanner-side effects in frame space: brightness/contrast, sensor noise, dust, streaks. */
export function applyScannerEffects(img: GrayImage, d: Distortion, rng: Rng): void {
  const data = img.data;
  if (d.brightness !== 0 || d.contrast !== 1) {
    const lut = new Uint8Array(256);
    for (let v = 0; v < 256; v++) lut[v] = clamp((v - 128) * d.contrast + 128 + 255 * d.brightness);
    for (let i = 0; i < data.length; i++) data[i] = lut[data[i] as number] as number;
  }
  if (d.noiseSigma > 0) {
    // Per-pixel Box–Muller dominates generation time; a table of normal deviates indexed by xorshift is
    // statistically plenty for sensor noise.
    const table = normalTable(rng, d.noiseSigma);
    let state = (rng.next() * 0xffffffff) | 1;
    for (let i = 0; i < data.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      data[i] = clamp((data[i] as number) + (table[state & 0xffff] as number));
    }
  }
  if (d.saltPepper > 0) {
    const n = Math.round(data.length * d.saltPepper);
    for (let k = 0; k < n; k++) data[Math.floor(rng.next() * data.length)] = rng.chance(0.5) ? 0 : 255;
  }
  for (const s of d.streaks) {
    for (let y = 0; y < img.height; y++) {
      for (let x = s.x; x < Math.min(img.width, s.x + s.width); x++) data[y * img.width + x] = s.value;
    }
  }
}

function normalTable(rng: Rng, sigma: number): Float32Array {
  const t = new Float32Array(1 << 16);
  for (let i = 0; i < t.length; i++) t[i] = rng.normal() * sigma;
  return t;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
