import { layoutBallot } from '../../ballots/layout';
import type { GrayImage, MarkKind } from '../../ballots/testdeck';
import { EXPECTED_CLASS, MARK_KINDS, Rng } from '../../ballots/testdeck';
import { cloneImage, mmToPx } from '../../ballots/gray-image';
import { drawMark } from '../../ballots/testdeck/marks';
import { renderSideTemplate } from '../../ballots/testdeck/template';
import { example } from '../support/ballots';

/**
 * The classes the truth file promises must be visible in the pixels: this measures, for every mark kind,
 * the share of the oval's inside that turned dark (the score the reader computes), on many random draws.
 */
const DARK = 180;

function insideScore(blank: GrayImage, marked: GrayImage, t: { x: number; y: number; width: number; height: number }, dpi: number): number {
  const cx = mmToPx(t.x + t.width / 2, dpi);
  const cy = mmToPx(t.y + t.height / 2, dpi);
  // inside the printed outline: shrink by the line width and a pixel of anti-aliasing
  const rx = mmToPx(t.width / 2 - 0.35, dpi) - 1;
  const ry = mmToPx(t.height / 2 - 0.35, dpi) - 1;
  let total = 0;
  let dark = 0;
  for (let y = Math.floor(cy - ry); y <= Math.ceil(cy + ry); y++) {
    for (let x = Math.floor(cx - rx); x <= Math.ceil(cx + rx); x++) {
      const u = (x + 0.5 - cx) / rx;
      const v = (y + 0.5 - cy) / ry;
      if (u * u + v * v > 1) continue;
      total++;
      const i = y * marked.width + x;
      if (marked.data[i]! < DARK && blank.data[i]! >= DARK) dark++;
    }
  }
  return dark / total;
}

describe.each([150, 200, 300])('mark kinds at %i dpi', (dpi) => {
  const election = example('municipal').definition;
  const layout = layoutBallot(election, 'ward-1');
  if (!layout.ok) throw new Error('layout');
  const side = layout.value.sides[0]!;
  let template: GrayImage;
  beforeAll(async () => {
    template = await renderSideTemplate(side, layout.value.page, dpi);
  });

  it.each(MARK_KINDS.map((k) => [k, EXPECTED_CLASS[k]] as [MarkKind, string]))('%s reads as %s on every draw', (kind, cls) => {
    const rng = new Rng(`marks/${kind}/${dpi}`);
    const scores: number[] = [];
    for (let n = 0; n < 60; n++) {
      const img = cloneImage(template);
      const t = side.targets[n % side.targets.length]!;
      drawMark(img, kind, t, dpi, rng);
      scores.push(insideScore(template, img, t, dpi));
    }
    // Bands with room between them: a reader with thresholds near 0.05 (marginal) and 0.2 (filled) reads each kind right.
    const outside = scores.filter((v) => (cls === 'filled' ? v < 0.3 : cls === 'marginal' ? v < 0.07 || v > 0.16 : v > 0.01));
    expect({ kind, outside }).toEqual({ kind, outside: [] });
  });
});

