import type { RegistrationMark } from '../layout';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { GrayImage } from '../gray-image';
import type { Component } from './components';
import { darkComponents, downsample } from './components';
import type { Homography, Point } from './homography';
import { applyHomography, fitHomography } from './homography';
import type { Levels } from './levels';
import { between } from './levels';

/** Letter and legal are both 8.5 in wide: a full-page scan's width gives its resolution. */
export const PAGE_WIDTH_MM = 215.9;

/** Printed scale the reader accepts: 97–103 %, plus the 0.3 % its own measurement may be off. */
export const SCALE_LIMITS = { min: 0.967, max: 1.033 } as const;

export interface Registration {
  /** Page millimetres (layout coordinates, upright) → image pixels. */
  readonly toImage: Homography;
  readonly upsideDown: boolean;
  /** Scan resolution, from the image width. */
  readonly dpi: number;
  /** Printed scale relative to the layout (1 = 100 %). */
  readonly scale: number;
  /** Mean distance, in pixels, between where the fit puts the marks and where they were found. */
  readonly residualPx: number;
  /** Timing marks found and used to refine the fit. */
  readonly timingMarks: number;
}

export type RegistrationError =
  | { readonly code: 'blank-page'; readonly message: string }
  | { readonly code: 'not-a-ballot'; readonly message: string }
  | { readonly code: 'unalignable'; readonly message: string }
  | { readonly code: 'mis-scaled'; readonly message: string; readonly scale: number };

interface Found extends Point {
  readonly size: number;
}

/**
 * Finds the corner and orientation marks, fits page → image, refines the fit with the timing marks, and
 * measures the printed scale. Works on a block-mean downsampled copy (≈ 50 dpi) to find candidates, then
 * takes sub-pixel centres from the full image.
 */
export function register(img: GrayImage, levels: Levels, page: { width: number; height: number }, marks: readonly RegistrationMark[]): Result<Registration, RegistrationError> {
  const dpi = img.width / (PAGE_WIDTH_MM / 25.4);
  const pxPerMm = dpi / 25.4;
  // told apart from another document: the blank back of a one-sided ballot on a duplex scanner is normal
  if (levels.paper - levels.ink < 40) return err({ code: 'blank-page', message: `the page has no dark printing (paper ${levels.paper}, darkest ${levels.ink}): blank` });
  const factor = Math.max(1, Math.floor(dpi / 50));
  const small = downsample(img, factor);
  const smallPxPerMm = pxPerMm / factor;
  const threshold = between(levels, 0.5);
  const side = 5 * smallPxPerMm;
  const comps = darkComponents(small, threshold, side * side * 3);
  const squares = comps.filter((c) => isSquareMark(c, side)).map((c) => refineCentre(img, c, factor, threshold));
  if (squares.length < 4) {
    return err({ code: squares.length === 0 && comps.length < 20 ? 'not-a-ballot' : 'unalignable', message: `found ${squares.length} of the 4 corner marks` });
  }

  const W = img.width;
  const H = img.height;
  const nearest = (cx: number, cy: number): Found => squares.reduce((best, s) => (Math.hypot(s.x - cx, s.y - cy) < Math.hypot(best.x - cx, best.y - cy) ? s : best));
  const imgTL = nearest(0, 0);
  const imgTR = nearest(W, 0);
  const imgBL = nearest(0, H);
  const imgBR = nearest(W, H);
  if (new Set([imgTL, imgTR, imgBL, imgBR]).size < 4) return err({ code: 'unalignable', message: 'the corner marks do not form a page' });

  // The orientation mark sits 8 mm from the top-left corner mark along the top edge.
  const gap = 8 * pxPerMm;
  const near = (a: Found, b: Found): boolean => squares.some((s) => s !== a && Math.abs(Math.hypot(s.x - a.x, s.y - a.y) - gap) < 2 * pxPerMm && towards(a, b, s) > 0.9);
  const upright = near(imgTL, imgTR);
  const flipped = near(imgBR, imgBL);
  if (upright === flipped) return err({ code: 'unalignable', message: upright ? 'the orientation mark is ambiguous' : 'the orientation mark is missing' });
  const upsideDown = flipped;

  const layoutCorners = marks.filter((m) => m.kind === 'corner').map(centre);
  const layoutOrientation = centre(marks.find((m) => m.kind === 'orientation')!);
  // layout order: TL, TR, BL, BR
  const imageCorners = upsideDown ? [imgBR, imgBL, imgTR, imgTL] : [imgTL, imgTR, imgBL, imgBR];
  const orientationFound = squares.find((s) => !imageCorners.includes(s) && Math.abs(Math.hypot(s.x - imageCorners[0]!.x, s.y - imageCorners[0]!.y) - gap) < 2 * pxPerMm);
  const from: Point[] = [...layoutCorners];
  const to: Point[] = [...imageCorners];
  if (orientationFound) {
    from.push(layoutOrientation);
    to.push(orientationFound);
  }
  let H1 = fitHomography(from, to);
  if (!H1) return err({ code: 'unalignable', message: 'the registration marks are degenerate' });

  // Shape check before trusting the fit: the mark rectangle's sides, in page millimetres at this dpi.
  const sideRatio = (a: number, b: number, lenMm: number) => Math.hypot(imageCorners[a]!.x - imageCorners[b]!.x, imageCorners[a]!.y - imageCorners[b]!.y) / (lenMm * pxPerMm);
  const widthMm = layoutCorners[1]!.x - layoutCorners[0]!.x;
  const heightMm = layoutCorners[2]!.y - layoutCorners[0]!.y;
  const ratios = [sideRatio(0, 1, widthMm), sideRatio(2, 3, widthMm), sideRatio(0, 2, heightMm), sideRatio(1, 3, heightMm)];
  if (Math.max(...ratios) / Math.min(...ratios) > 1.04) {
    return err({ code: 'unalignable', message: 'the corner marks do not form the ballot’s rectangle (torn, folded over, or not this election’s paper)' });
  }
  const scale = ratios.reduce((a, b) => a + b, 0) / ratios.length;

  // Refine with timing marks: each one predicted by the corner fit, found as a local dark centroid.
  let timing = 0;
  for (const m of marks.filter((mk) => mk.kind === 'timing')) {
    const c = centre(m);
    const p = applyHomography(H1, c.x, c.y);
    const found = localCentroid(img, p, (m.width / 2 + 1.2) * pxPerMm, (m.height / 2 + 1.2) * pxPerMm, threshold, m.width * m.height * pxPerMm * pxPerMm * scale * scale);
    if (!found) continue;
    from.push(c);
    to.push(found);
    timing++;
  }
  if (timing > 0) H1 = fitHomography(from, to) ?? H1;
  const residualPx = from.reduce((acc, f, i) => {
    const q = applyHomography(H1!, f.x, f.y);
    return acc + Math.hypot(q.x - to[i]!.x, q.y - to[i]!.y);
  }, 0) / from.length;

  if (scale < SCALE_LIMITS.min || scale > SCALE_LIMITS.max) {
    return err({ code: 'mis-scaled', scale, message: `the ballot is printed at ${(scale * 100).toFixed(1)} % of its size; 97–103 % is accepted` });
  }
  return ok({ toImage: H1, upsideDown, dpi, scale, residualPx, timingMarks: timing });
}

function centre(m: { x: number; y: number; width: number; height: number }): Point {
  return { x: m.x + m.width / 2, y: m.y + m.height / 2 };
}

/** Cosine between a→b and a→s: is s on the way from a to b? */
function towards(a: Point, b: Point, s: Point): number {
  const ux = b.x - a.x;
  const uy = b.y - a.y;
  const vx = s.x - a.x;
  const vy = s.y - a.y;
  return (ux * vx + uy * vy) / (Math.hypot(ux, uy) * Math.hypot(vx, vy) || 1);
}

/** A solid square of about 5 mm, skewed up to 5°, scaled 90–110 %. */
function isSquareMark(c: Component, side: number): boolean {
  const w = c.maxX - c.minX + 1;
  const h = c.maxY - c.minY + 1;
  if (w < side * 0.7 || h < side * 0.7 || w > side * 1.5 + 1 || h > side * 1.5 + 1) return false;
  if (Math.abs(w - h) > Math.max(2, 0.3 * side)) return false;
  const areaRatio = c.area / (side * side);
  return areaRatio > 0.65 && areaRatio < 1.5 && c.area / (w * h) > 0.6;
}

/** Darkness-weighted centroid of a candidate at full resolution; also rejects hollow shapes (QR finders). */
function refineCentre(img: GrayImage, c: Component, f: number, threshold: number): Found {
  const x0 = Math.max(0, (c.minX - 1) * f);
  const y0 = Math.max(0, (c.minY - 1) * f);
  const x1 = Math.min(img.width - 1, (c.maxX + 2) * f);
  const y1 = Math.min(img.height - 1, (c.maxY + 2) * f);
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const v = img.data[y * img.width + x] as number;
      if (v >= threshold) continue;
      const w = threshold - v;
      sw += w;
      sx += w * x;
      sy += w * y;
    }
  }
  const cx = sw > 0 ? sx / sw : ((x0 + x1) / 2);
  const cy = sw > 0 ? sy / sw : ((y0 + y1) / 2);
  return { x: cx + 0.5, y: cy + 0.5, size: (c.maxX - c.minX + 1) * f };
}

/** Centroid of dark pixels in a window around `p`, if their count looks like a mark of `expectedArea` px. */
function localCentroid(img: GrayImage, p: Point, halfW: number, halfH: number, threshold: number, expectedArea: number): Point | undefined {
  const x0 = Math.max(0, Math.floor(p.x - halfW));
  const y0 = Math.max(0, Math.floor(p.y - halfH));
  const x1 = Math.min(img.width - 1, Math.ceil(p.x + halfW));
  const y1 = Math.min(img.height - 1, Math.ceil(p.y + halfH));
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if ((img.data[y * img.width + x] as number) >= threshold) continue;
      n++;
      sx += x;
      sy += y;
    }
  }
  if (n < expectedArea * 0.6 || n > expectedArea * 1.6) return undefined;
  return { x: sx / n + 0.5, y: sy / n + 0.5 };
}
