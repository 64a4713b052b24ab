/** A projective map (3×3, h33 = 1), row-major: [h11 h12 h13 h21 h22 h23 h31 h32]. */
export type Homography = readonly [number, number, number, number, number, number, number, number];

export interface Point {
  readonly x: number;
  readonly y: number;
}

export function applyHomography(h: Homography, x: number, y: number): Point {
  const w = h[6] * x + h[7] * y + 1;
  return { x: (h[0] * x + h[1] * y + h[2]) / w, y: (h[3] * x + h[4] * y + h[5]) / w };
}

/**
 * Least-squares homography from ≥ 4 correspondences (DLT with h33 fixed to 1, normal equations). Points are
 * normalised first so millimetres and pixels do not make the system ill-conditioned. Returns undefined for
 * degenerate input (collinear points).
 */
export function fitHomography(from: readonly Point[], to: readonly Point[]): Homography | undefined {
  if (from.length !== to.length || from.length < 4) return undefined;
  const nf = normaliser(from);
  const nt = normaliser(to);
  const ata = Array.from({ length: 8 }, () => new Float64Array(8));
  const atb = new Float64Array(8);
  for (let i = 0; i < from.length; i++) {
    const x = (from[i]!.x - nf.cx) * nf.s;
    const y = (from[i]!.y - nf.cy) * nf.s;
    const u = (to[i]!.x - nt.cx) * nt.s;
    const v = (to[i]!.y - nt.cy) * nt.s;
    const rows: [number[], number][] = [
      [[x, y, 1, 0, 0, 0, -u * x, -u * y], u],
      [[0, 0, 0, x, y, 1, -v * x, -v * y], v],
    ];
    for (const [r, b] of rows) {
      for (let a = 0; a < 8; a++) {
        atb[a]! += r[a]! * b;
        for (let c = 0; c < 8; c++) ata[a]![c]! += r[a]! * r[c]!;
      }
    }
  }
  const hn = solve(ata, atb);
  if (!hn) return undefined;
  // undo the normalisations: H = Tt^-1 · Hn · Tf
  const Hn = [hn[0]!, hn[1]!, hn[2]!, hn[3]!, hn[4]!, hn[5]!, hn[6]!, hn[7]!, 1];
  const Tf = [nf.s, 0, -nf.s * nf.cx, 0, nf.s, -nf.s * nf.cy, 0, 0, 1];
  const TtInv = [1 / nt.s, 0, nt.cx, 0, 1 / nt.s, nt.cy, 0, 0, 1];
  const H = mul(TtInv, mul(Hn, Tf));
  const k = H[8]!;
  if (Math.abs(k) < 1e-12) return undefined;
  return [H[0]! / k, H[1]! / k, H[2]! / k, H[3]! / k, H[4]! / k, H[5]! / k, H[6]! / k, H[7]! / k];
}

function normaliser(pts: readonly Point[]): { cx: number; cy: number; s: number } {
  const cx = pts.reduce((a, p) => a + p.x, 0) / pts.length;
  const cy = pts.reduce((a, p) => a + p.y, 0) / pts.length;
  const d = pts.reduce((a, p) => a + Math.hypot(p.x - cx, p.y - cy), 0) / pts.length;
  return { cx, cy, s: d > 0 ? Math.SQRT2 / d : 1 };
}

function mul(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c]! += a[r * 3 + k]! * b[k * 3 + c]!;
  return out;
}

/** Gaussian elimination with partial pivoting on an 8×8 system. */
function solve(a: Float64Array[], b: Float64Array): Float64Array | undefined {
  const n = b.length;
  const m = a.map((row, i) => {
    const r = new Float64Array(n + 1);
    r.set(row);
    r[n] = b[i]!;
    return r;
  });
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-12) return undefined;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / m[col]![col]!;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = m[i]![n]! / m[i]![i]!;
  return x;
}

/** The image-space bounding box of a page rectangle (mm) grown by `marginMm`. */
export function imageRectOf(h: Homography, r: { x: number; y: number; width: number; height: number }, marginMm: number): { x: number; y: number; width: number; height: number } {
  const pts = [
    applyHomography(h, r.x - marginMm, r.y - marginMm),
    applyHomography(h, r.x + r.width + marginMm, r.y - marginMm),
    applyHomography(h, r.x - marginMm, r.y + r.height + marginMm),
    applyHomography(h, r.x + r.width + marginMm, r.y + r.height + marginMm),
  ];
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  return { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
}
