import type { GrayImage } from '../../ballots/gray-image';
import type { Target } from '../../ballots/layout';
import { BALLOT } from '../../ballots/layout';
import type { Homography } from '../../ballots/read/homography';
import { findFlawLine, targetScore } from '../../ballots/read/score';
import { DEFAULT_PROFILE } from '../../calibration/profile';

/*
 * VVSG 1.1.6-I: folds and paper flaws inside a target are not marks. Synthetic scans at 200 dpi, drawn
 * pixel by pixel so each case holds exactly one flaw: a grey erasure smudge (lighter than the ink cut on
 * its own) crossed by a fold, pepper specks on the smudge, and the marks a fold must not hide.
 */
const DPI = 200;
const K = DPI / 25.4;
const toImage: Homography = [K, 0, 0, 0, K, 0, 0, 0];
const PAPER = 230;
const INK = 20;
const CUT = PAPER - DEFAULT_PROFILE.inkCut * (PAPER - INK);
const target: Target = { side: 'front', contestId: 'mayor', optionId: 'a', writeIn: false, x: 10, y: 8, width: BALLOT.oval.width, height: BALLOT.oval.height };
const cx = target.x + target.width / 2;
const cy = target.y + target.height / 2;
const offsets = { x: 0, y: 0 };

function page(): GrayImage {
  const width = Math.round(30 * K);
  const height = Math.round(20 * K);
  const img = { width, height, data: new Uint8Array(width * height).fill(PAPER) };
  // the printed outline
  const rx = target.width / 2;
  const ry = target.height / 2;
  paint(img, (x, y) => Math.abs(Math.hypot((x - cx) / rx, (y - cy) / ry) - 1) * Math.min(rx, ry) <= BALLOT.oval.line / 2, () => INK);
  return img;
}

function paint(img: GrayImage, where: (xMm: number, yMm: number) => boolean, value: (old: number, xMm: number, yMm: number) => number): void {
  for (let py = 0; py < img.height; py++) {
    for (let px = 0; px < img.width; px++) {
      const x = (px + 0.5) / K;
      const y = (py + 0.5) / K;
      if (where(x, y)) img.data[py * img.width + px] = Math.max(0, Math.min(255, Math.round(value(img.data[py * img.width + px] as number, x, y))));
    }
  }
}

const insideOval = (s: number) => (x: number, y: number) => Math.hypot((x - cx) / ((target.width / 2) * s), (y - cy) / ((target.height / 2) * s)) <= 1;
const smudge = (img: GrayImage) => paint(img, insideOval(0.85), () => PAPER - 42);
/** a crease: a shadow `depth` deep fading over 0.5 mm on one side of the line, across the whole sheet */
const fold = (img: GrayImage, axis: 'x' | 'y', at: number, depth: number) =>
  paint(
    img,
    (x, y) => {
      const d = (axis === 'x' ? x : y) - at;
      return d >= -0.5 && d <= 0;
    },
    (v, x, y) => v - depth * (1 - Math.abs((axis === 'x' ? x : y) - at) / 0.5),
  );

const score = (img: GrayImage, withFlaw: boolean) => {
  const flaw = withFlaw ? findFlawLine(img, toImage, target, PAPER, CUT, offsets, DPI) : undefined;
  return targetScore(img, toImage, target, CUT, DEFAULT_PROFILE.insetMm, offsets, DPI, flaw);
};

test.each([
  ['vertical', 'x' as const, cx + 0.4],
  ['horizontal', 'y' as const, cy - 0.2],
])('a %s fold across an erasure smudge is found and discounted', (_name, axis, at) => {
  const img = page();
  smudge(img);
  fold(img, axis, at, 30);
  // the fold and the smudge together cross the ink cut: the score alone would call it a marginal mark
  expect(score(img, false)).toBeGreaterThanOrEqual(DEFAULT_PROFILE.thresholds.marginal);
  const flaw = findFlawLine(img, toImage, target, PAPER, CUT, offsets, DPI);
  expect(flaw).toBeDefined();
  const mid = axis === 'x' ? ((flaw!.ax + flaw!.bx) / 2) : ((flaw!.ay + flaw!.by) / 2);
  expect(Math.abs(mid - (at - 0.2))).toBeLessThan(0.4);
  expect(score(img, true)).toBeLessThan(DEFAULT_PROFILE.thresholds.marginal / 2);
});

test('a filled oval with a fold through it still reads filled', () => {
  const img = page();
  paint(img, insideOval(0.95), () => 35);
  fold(img, 'x', cx, 30);
  expect(score(img, true)).toBeGreaterThanOrEqual(DEFAULT_PROFILE.thresholds.definite);
});

test('a pen stroke that runs on beyond the oval is ink, not a fold', () => {
  const img = page();
  paint(img, (x, y) => Math.abs(x - cx) <= 0.5 && Math.abs(y - cy) <= 6, () => 40);
  expect(findFlawLine(img, toImage, target, PAPER, CUT, offsets, DPI)).toBeUndefined();
  expect(score(img, true)).toBeGreaterThanOrEqual(DEFAULT_PROFILE.thresholds.definite);
});

test('a light line on one side of the oval only is not a fold', () => {
  const img = page();
  smudge(img);
  paint(img, (x, y) => Math.abs(x - cx) <= 0.25 && y < cy, (v) => v - 30);
  expect(findFlawLine(img, toImage, target, PAPER, CUT, offsets, DPI)).toBeUndefined();
});

test('a fold that misses the oval changes nothing', () => {
  const img = page();
  smudge(img);
  fold(img, 'x', cx + 6, 30);
  expect(findFlawLine(img, toImage, target, PAPER, CUT, offsets, DPI)).toBeUndefined();
  expect(score(img, false)).toBe(0);
});

test('dust specks on an erasure smudge are not a mark', () => {
  const img = page();
  smudge(img);
  // black specks one pixel each, a few pixels apart: a mean of 3×3 would put each neighbourhood under the cut
  let specks = 0;
  for (let py = Math.round((cy - 1) * K); py <= Math.round((cy + 1) * K); py += 4) {
    for (let px = Math.round((cx - 1.8) * K); px <= Math.round((cx + 1.8) * K); px += 5) {
      img.data[py * img.width + px] = 0;
      specks++;
    }
  }
  expect(specks).toBeGreaterThan(20);
  expect(score(img, false)).toBe(0);
});

test('a stroke whose grey tail runs part way past the oval on both sides is not a fold', () => {
  const img = page();
  const tail = target.width / 2 + BALLOT.oval.line + 1.35;
  // ink across the oval, a lighter drag of the pen beyond it: a fold would darken the whole strip, this only part
  paint(img, (x, y) => Math.abs(y - cy) <= 0.5 && Math.abs(x - cx) <= tail, (_v, x) => (Math.abs(x - cx) <= target.width / 2 ? 40 : CUT + 15));
  expect(findFlawLine(img, toImage, target, PAPER, CUT, offsets, DPI)).toBeUndefined();
  expect(score(img, true)).toBeGreaterThanOrEqual(DEFAULT_PROFILE.thresholds.definite);
});
