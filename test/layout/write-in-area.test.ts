import path from 'node:path';
import type { GrayImage } from '../../ballots/gray-image';
import { mmToPx } from '../../ballots/gray-image';
import type { Rect, SideLayout, Target } from '../../ballots/layout';
import { layoutBallot } from '../../ballots/layout';
import { TestDeck } from '../../ballots/testdeck';
import { renderSideTemplate } from '../../ballots/testdeck/template';
import { EXAMPLES, example } from '../support/ballots';
import { runCli } from '../support/cli';
import { deckOptions } from '../support/reader';

const DPI = 150;

/** Pixel bounds of a rectangle in mm, grown by `grow` mm on every side. */
function px(r: Rect, grow = 0): { x0: number; y0: number; x1: number; y1: number } {
  return { x0: Math.floor(mmToPx(r.x - grow, DPI)), y0: Math.floor(mmToPx(r.y - grow, DPI)), x1: Math.ceil(mmToPx(r.x + r.width + grow, DPI)), y1: Math.ceil(mmToPx(r.y + r.height + grow, DPI)) };
}
const within = (x: number, y: number, b: ReturnType<typeof px>): boolean => x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1;

function writeIns(side: SideLayout): Array<Target & { writeInArea: Rect }> {
  return side.targets.filter((t): t is Target & { writeInArea: Rect } => t.writeInArea !== undefined);
}

describe('the write-in area of the layout', () => {
  const election = example('municipal');
  const layout = (() => {
    const r = layoutBallot(election.definition, 'ward-1');
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  })();

  it('is given for every write-in option and no other, and holds the line the generator draws', () => {
    let areas = 0;
    for (const side of layout.sides) {
      for (const t of side.targets) expect(t.writeInArea !== undefined).toBe(t.writeIn);
      for (const t of writeIns(side)) {
        areas += 1;
        const a = t.writeInArea;
        // the printed write-in line is one of the drawing's lines: wholly inside the area, spanning its width
        const lines = side.drawing.filter((op) => op.op === 'line' && op.y1 === op.y2 && op.y1 > a.y && op.y1 < a.y + a.height && op.x1 >= a.x - 1e-9 && op.x2 <= a.x + a.width + 1e-9);
        expect(lines).toHaveLength(1);
        const line = lines[0] as { x1: number; x2: number };
        expect(line.x2 - line.x1).toBeCloseTo(a.width, 6);
        // beside the oval, never over it, and inside its contest's box
        expect(a.x).toBeGreaterThan(t.x + t.width);
        const box = side.contests.find((c) => c.contestId === t.contestId) as Rect;
        expect(a.x + a.width).toBeLessThanOrEqual(box.x + box.width);
        expect(a.y).toBeGreaterThanOrEqual(box.y);
        expect(a.y + a.height).toBeLessThanOrEqual(box.y + box.height);
      }
    }
    expect(areas).toBeGreaterThanOrEqual(2);
  });

  it('holds the printed line and the handwritten name on a rendered ballot, and nothing else the voter added lies outside the ovals and these areas', async () => {
    // every target filled, write-in names written by the test deck's hand
    const deck = new TestDeck(deckOptions({ dpi: DPI, kinds: { 'all-filled': 1 }, markKinds: ['full'], seed: 'write-in-area' }));
    const sheet = await deck.sheet(0);
    expect(sheet.truth.styleId).toBe('ward-1');
    // the blank ballot with the same header words (precinct and mode change words, never geometry)
    const worded = layoutBallot(election.definition, 'ward-1', { precinctId: sheet.truth.precinctId, mode: sheet.truth.mode });
    if (!worded.ok) throw new Error(worded.error.message);
    const blank = new Map<string, GrayImage>();
    for (const side of worded.value.sides) blank.set(side.side, await renderSideTemplate(side, layout.page, DPI));
    let named = 0;
    for (const [i, img] of sheet.rasters.entries()) {
      const sideName = sheet.truth.images[i]?.side;
      const side = layout.sides.find((s) => s.side === sideName) as SideLayout;
      const tpl = blank.get(side.side) as GrayImage;
      expect([img.width, img.height]).toEqual([tpl.width, tpl.height]);
      const areas = writeIns(side).map((t) => ({ t, b: px(t.writeInArea) }));
      // the printed line: a dark row across the area's width on the blank ballot
      for (const { b } of areas) {
        let best = 0;
        for (let y = b.y0; y < b.y1; y++) {
          let dark = 0;
          for (let x = b.x0; x < b.x1; x++) if ((tpl.data[y * tpl.width + x] as number) < 128) dark += 1;
          best = Math.max(best, dark);
        }
        expect(best).toBeGreaterThanOrEqual(0.9 * (b.x1 - b.x0));
      }
      // what the voter added: darker than the blank ballot by a clear margin
      const ovals = side.targets.map((t) => px(t, 1));
      const codes = side.codes.map((c) => px(c, 3));
      const inArea = new Map(areas.map(({ t }) => [t.optionId, 0]));
      const outside: string[] = [];
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) {
          const k = y * img.width + x;
          if ((tpl.data[k] as number) - (img.data[k] as number) < 80) continue;
          if (ovals.some((b) => within(x, y, b)) || codes.some((b) => within(x, y, b))) continue;
          const hit = areas.find(({ b }) => within(x, y, b));
          if (hit === undefined) outside.push(`(${x}, ${y}) px`);
          else inArea.set(hit.t.optionId, (inArea.get(hit.t.optionId) ?? 0) + 1);
        }
      }
      expect(outside.slice(0, 10)).toEqual([]);
      for (const n of inArea.values()) {
        expect(n).toBeGreaterThan(50);
        named += 1;
      }
    }
    expect(named).toBeGreaterThanOrEqual(2);
  });

  it('is in `ballots layout --json`, in the same millimetres as the ovals', async () => {
    const r = await runCli(['ballots', 'layout', '--election', path.join(EXAMPLES, 'municipal.json'), '--style', 'ward-1', '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { targets: Array<{ optionId: string; contestId: string; writeIn: boolean; writeInArea?: Rect }> };
    const fromLayout = layout.sides.flatMap((s) => s.targets);
    for (const t of json.targets) {
      const l = fromLayout.find((u) => u.contestId === t.contestId && u.optionId === t.optionId) as Target;
      if (!t.writeIn) {
        expect(t.writeInArea).toBeUndefined();
        continue;
      }
      const a = l.writeInArea as Rect;
      expect(t.writeInArea).toEqual({ x: expect.closeTo(a.x, 3), y: expect.closeTo(a.y, 3), width: expect.closeTo(a.width, 3), height: expect.closeTo(a.height, 3) });
    }
    expect(json.targets.filter((t) => t.writeInArea !== undefined).length).toBeGreaterThanOrEqual(2);
  });
});
