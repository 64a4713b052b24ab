import type { GrayImage } from '../../ballots/gray-image';
import type { Target } from '../../ballots/layout';
import { BALLOT } from '../../ballots/layout';
import type { Homography } from '../../ballots/read/homography';
import { targetScore } from '../../ballots/read/score';
import { DEFAULT_PROFILE } from '../../calibration/profile';

/*
 * VVSG 1.1.6-I: folds and paper flaws inside a target are not marks. Synthetic scans at 200 dpi, drawn
 * pixel by pixel so each case holds exactly one flaw: a fold, dust specks on paper and on a grey erasure
 * smudge (lighter than the ink cut on its own), and the marks those flaws must not hide.
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

const score = (img: GrayImage) => targetScore(img, toImage, target, CUT, DEFAULT_PROFILE.insetMm, offsets, DPI);

test.each([
  ['vertical', 'x' as const],
  ['horizontal', 'y' as const],
])('a %s fold through an empty oval is not a mark', (_name, axis) => {
  const img = page();
  fold(img, axis, axis === 'x' ? cx : cy, 35);
  expect(score(img)).toBe(0);
});

test('a filled oval with a fold through it reads filled', () => {
  const img = page();
  paint(img, insideOval(0.95), () => 35);
  fold(img, 'x', cx, 35);
  expect(score(img)).toBeGreaterThanOrEqual(DEFAULT_PROFILE.thresholds.definite);
});

test('an erasure smudge alone is not a mark', () => {
  const img = page();
  smudge(img);
  expect(score(img)).toBe(0);
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
  expect(score(img)).toBe(0);
});


test('dust specks on blank paper are not a mark, and a thin pen stroke through the oval still counts', () => {
  const img = page();
  for (let py = Math.round((cy - 1) * K); py <= Math.round((cy + 1) * K); py += 3) {
    for (let px = Math.round((cx - 1.8) * K); px <= Math.round((cx + 1.8) * K); px += 3) img.data[py * img.width + px] = 0;
  }
  expect(score(img)).toBe(0);
  const marked = page();
  // a 0.4 mm pen stroke (three pixels wide at 200 dpi) across the oval is ink along its length
  paint(marked, (x, y) => Math.abs(y - cy) <= 0.2 && Math.abs(x - cx) <= 2.5, () => INK);
  expect(score(marked)).toBeGreaterThan(0.1);
});
