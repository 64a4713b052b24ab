import type { Target } from '../layout';
import { BALLOT } from '../layout';
import type { GrayImage } from '../gray-image';
import type { Homography } from './homography';

/**
 * A straight paper flaw crossing a target — a fold or a crease — as a line in page millimetres through
 * two points, and how far either side of it the flaw darkens the paper.
 */
export interface FlawLine {
  readonly ax: number;
  readonly ay: number;
  readonly bx: number;
  readonly by: number;
  readonly halfMm: number;
}

interface Sampler {
  /** 3×3 mean gray at a page position: sensor noise and pencil grain average out */
  at(x: number, y: number): number;
}

function sampler(img: GrayImage, toImage: Homography): Sampler {
  const [h0, h1, h2, h3, h4, h5, h6, h7] = toImage;
  const { width, height, data } = img;
  return {
    at(x, y) {
      const w = h6 * x + h7 * y + 1;
      const px = Math.min(width - 2, Math.max(1, ((h0 * x + h1 * y + h2) / w) | 0));
      const py = Math.min(height - 2, Math.max(1, ((h3 * x + h4 * y + h5) / w) | 0));
      const i = py * width + px;
      const sum =
        (data[i - width - 1] as number) + (data[i - width] as number) + (data[i - width + 1] as number) +
        (data[i - 1] as number) + (data[i] as number) + (data[i + 1] as number) +
        (data[i + width - 1] as number) + (data[i + width] as number) + (data[i + width + 1] as number);
      return sum / 9;
    },
  };
}

/**
 * The share of a target's inside that is ink: sample points on a grid in page millimetres (about one per
 * pixel), inside the oval shrunk by its printed outline and an alignment inset, mapped into the image. An
 * empty oval's inside is paper, so every dark sample is a new mark; marks outside targets are never seen.
 * Samples on a paper flaw (`flaw`) are left out of both counts, so a fold adds nothing to the score.
 */
export function targetScore(
  img: GrayImage,
  toImage: Homography,
  t: Target,
  inkBelow: number,
  insetMm: number,
  offset: { x: number; y: number },
  dpi: number,
  flaw?: FlawLine,
): number {
  const rx = t.width / 2 - BALLOT.oval.line / 2 - insetMm;
  const ry = t.height / 2 - BALLOT.oval.line / 2 - insetMm;
  const cx = t.x + t.width / 2 + offset.x;
  const cy = t.y + t.height / 2 + offset.y;
  const step = Math.min(0.12, 25.4 / dpi);
  const [h0, h1, h2, h3, h4, h5, h6, h7] = toImage;
  const { width, data } = img;
  // the flaw as a unit normal and offset: |n·p - c| is a sample's distance from its line
  let nx = 0;
  let ny = 0;
  let c = 0;
  let half = -1;
  if (flaw !== undefined) {
    const len = Math.hypot(flaw.bx - flaw.ax, flaw.by - flaw.ay) || 1;
    nx = -(flaw.by - flaw.ay) / len;
    ny = (flaw.bx - flaw.ax) / len;
    c = nx * flaw.ax + ny * flaw.ay;
    half = flaw.halfMm;
  }
  let total = 0;
  let ink = 0;
  for (let dy = -ry; dy <= ry; dy += step) {
    const v = dy / ry;
    const span = rx * Math.sqrt(Math.max(0, 1 - v * v));
    const y = cy + dy;
    for (let dx = -span; dx <= span; dx += step) {
      const x = cx + dx;
      if (half >= 0 && Math.abs(nx * x + ny * y - c) <= half) continue;
      const w = h6 * x + h7 * y + 1;
      const px = ((h0 * x + h1 * y + h2) / w) | 0;
      const py = ((h3 * x + h4 * y + h5) / w) | 0;
      total++;
      // Ink where at least three of the 3×3 pixels are below the cut. A mean would let one black dust
      // speck on an erasure's grey smudge drag its whole neighbourhood over the cut; a vote ignores lone
      // specks and pairs, and three of nine still widens a pen stroke by its anti-aliased edge as the
      // printed thresholds assume.
      const i = py * width + px;
      const dark =
        +((data[i - width - 1] as number) < inkBelow) + +((data[i - width] as number) < inkBelow) + +((data[i - width + 1] as number) < inkBelow) +
        +((data[i - 1] as number) < inkBelow) + +((data[i] as number) < inkBelow) + +((data[i + 1] as number) < inkBelow) +
        +((data[i + width - 1] as number) < inkBelow) + +((data[i + width] as number) < inkBelow) + +((data[i + width + 1] as number) < inkBelow);
      if (dark >= 3) ink++;
    }
  }
  return total === 0 ? 0 : ink / total;
}

/** Darkening (paper minus gray) a flaw must add, in gray levels, before it is looked for: above sensor noise after 3×3 means. */
const FLAW_MIN_DARKENING = 6;
/** Strips beside the oval where a flaw must continue: start clear of the printed outline, run this far. */
const STRIP_GAP_MM = 0.3;
const STRIP_LENGTH_MM = 2.0;
/** A flaw wider than this is not a thin fold line: it is left in the score (and reviewed if it matters). */
const FLAW_MAX_HALF_MM = 1.2;

/** The gray that four in five samples are at least as dark as: a flaw darkens its whole length, a pen stroke's end or a letter only part of it. */
function mostlyAsDark(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.floor(0.8 * (values.length - 1))] as number;
}

/**
 * Looks for a fold or crease running through a target (VVSG 1.1.6-I: paper flaws inside targets are not
 * marks). A fold is a straight band, lighter than ink, that continues beyond the oval on BOTH sides; a
 * voter's mark is ink, and does not run on across the paper. Folds run along the sheet's axes (a ballot
 * folded for an envelope), tilted a little by the fold itself; the alignment already removed the scan's
 * skew. So two strips are read across each axis — above and below the oval for a vertical fold, left and
 * right for a horizontal one — and a flaw is the darkest line in each strip that darkens nearly all of the
 * strip's length (a stroke running on past the oval, a letter or a neighbouring outline covers only part),
 * in line with its twin on the other side.
 */
export function findFlawLine(
  img: GrayImage,
  toImage: Homography,
  t: Target,
  paper: number,
  inkBelow: number,
  offset: { x: number; y: number },
  dpi: number,
): FlawLine | undefined {
  const s = sampler(img, toImage);
  const px = 25.4 / dpi;
  const cx = t.x + t.width / 2 + offset.x;
  const cy = t.y + t.height / 2 + offset.y;
  const outline = BALLOT.oval.line;
  let best: { line: FlawLine; dark: number } | undefined;
  for (const vertical of [true, false]) {
    // across: the axis the strips' columns step along; along: the flaw's own direction
    const acrossHalf = (vertical ? t.width : t.height) / 2 - outline / 2;
    const alongHalf = (vertical ? t.height : t.width) / 2 + outline / 2 + STRIP_GAP_MM;
    const point = (across: number, along: number): [number, number] => (vertical ? [cx + across, cy + along] : [cx + along, cy + across]);
    const profile = (sign: 1 | -1): { dark: number[]; isInk: boolean[] } => {
      const dark: number[] = [];
      const isInk: boolean[] = [];
      for (let a = -acrossHalf; a <= acrossHalf; a += px) {
        const vals: number[] = [];
        for (let l = 0; l <= STRIP_LENGTH_MM; l += px) {
          const [x, y] = point(a, sign * (alongHalf + l));
          vals.push(s.at(x, y));
        }
        const m = mostlyAsDark(vals);
        dark.push(paper - m);
        isInk.push(m < inkBelow);
      }
      return { dark, isInk };
    };
    const near = profile(-1);
    const far = profile(1);
    const peak = (p: { dark: number[]; isInk: boolean[] }): number => {
      let at = -1;
      for (let i = 0; i < p.dark.length; i++) {
        if (p.isInk[i] || (p.dark[i] as number) < FLAW_MIN_DARKENING) continue;
        if (at < 0 || (p.dark[i] as number) > (p.dark[at] as number)) at = i;
      }
      return at;
    };
    const i = peak(near);
    const j = peak(far);
    if (i < 0 || j < 0) continue;
    const span = 2 * (alongHalf + STRIP_LENGTH_MM / 2);
    // a fold's own tilt stays within a few degrees; allow 10 % and at least 0.6 mm between the two sides
    if (Math.abs(i - j) * px > Math.max(0.6, 0.1 * span)) continue;
    // the band's half width: contiguous columns darker than half the peak, plus the reach of a sample's
    // 3×3 vote (one pixel, and one more for rounding a position down to its pixel)
    const reach = (p: { dark: number[]; isInk: boolean[] }, at: number): number => {
      const cut = (p.dark[at] as number) / 2;
      let lo = at;
      let hi = at;
      while (lo > 0 && (p.dark[lo - 1] as number) >= cut && !p.isInk[lo - 1]) lo--;
      while (hi < p.dark.length - 1 && (p.dark[hi + 1] as number) >= cut && !p.isInk[hi + 1]) hi++;
      return Math.max(at - lo, hi - at) * px;
    };
    const halfMm = Math.max(reach(near, i), reach(far, j)) + 2.5 * px;
    if (halfMm > FLAW_MAX_HALF_MM) continue;
    const [ax, ay] = point(-acrossHalf + i * px, -(alongHalf + STRIP_LENGTH_MM / 2));
    const [bx, by] = point(-acrossHalf + j * px, alongHalf + STRIP_LENGTH_MM / 2);
    const dark = Math.min(near.dark[i] as number, far.dark[j] as number);
    if (best === undefined || dark > best.dark) best = { line: { ax, ay, bx, by, halfMm }, dark };
  }
  return best?.line;
}
