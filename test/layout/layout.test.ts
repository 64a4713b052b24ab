import type { ElectionDefinition } from '../../ballots/election';
import { contestOptions, styleContests } from '../../ballots/election';
import type { Rect, SideLayout } from '../../ballots/layout';
import { BALLOT, layoutBallot } from '../../ballots/layout';
import { example } from '../support/ballots';
import { runCli } from '../support/cli';
import path from 'node:path';
import { EXAMPLES } from '../support/ballots';

const overlap = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (inner: Rect, outer: Rect) =>
  inner.x >= outer.x - 1e-9 && inner.y >= outer.y - 1e-9 && inner.x + inner.width <= outer.x + outer.width + 1e-9 && inner.y + inner.height <= outer.y + outer.height + 1e-9;

function layoutOf(def: ElectionDefinition, style: string) {
  const r = layoutBallot(def, style);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe.each([
  ['municipal', 'ward-1'],
  ['municipal', 'ward-2'],
  ['general', 'general'],
] as const)('layout of %s / %s', (name, style) => {
  const election = example(name).definition;
  const layout = layoutOf(election, style);
  const sides: readonly SideLayout[] = layout.sides;

  it('has exactly one target per option of every contest on the style', () => {
    const expected = styleContests(election, election.ballotStyles.find((s) => s.id === style)!).flatMap((c) => contestOptions(c).map((o) => `${c.id}/${o.id}`));
    const actual = sides.flatMap((s) => s.targets.map((t) => `${t.contestId}/${t.optionId}`));
    expect(actual.sort()).toEqual(expected.sort());
  });

  it('keeps targets apart, inside their contest boxes, and away from codes and marks', () => {
    for (const side of sides) {
      const targets = side.targets;
      for (let i = 0; i < targets.length; i++) {
        for (let j = i + 1; j < targets.length; j++) expect(overlap(targets[i]!, targets[j]!)).toBe(false);
        const box = side.contests.find((c) => c.contestId === targets[i]!.contestId)!;
        expect(inside(targets[i]!, box)).toBe(true);
      }
      for (const c of side.contests) {
        for (const q of side.codes) expect(overlap(c, { x: q.x - BALLOT.qr.quietZone, y: q.y - BALLOT.qr.quietZone, width: q.width + 6, height: q.height + 6 })).toBe(false);
        for (const m of side.marks) expect(overlap(c, m)).toBe(false);
      }
      for (let i = 0; i < side.contests.length; i++) {
        for (let j = i + 1; j < side.contests.length; j++) expect(overlap(side.contests[i]!, side.contests[j]!)).toBe(false);
      }
    }
  });

  it('gives every side its own three codes and registration marks, with one orientation mark', () => {
    for (const side of sides) {
      expect(side.codes.map((c) => c.kind).sort()).toEqual(['address', 'ballotId', 'votingId']);
      expect(side.marks.filter((m) => m.kind === 'corner')).toHaveLength(4);
      expect(side.marks.filter((m) => m.kind === 'orientation')).toHaveLength(1);
      for (const m of side.marks) expect(inside(m, { x: 0, y: 0, width: layout.page.width, height: layout.page.height })).toBe(true);
    }
  });

  it('has the same geometry for every precinct and mode; only the words change', () => {
    const geometry = (l: typeof layout) => JSON.stringify(l.sides.map((s) => [s.targets, s.codes, s.marks, s.contests]));
    const stylePrecincts = election.ballotStyles.find((s) => s.id === style)!.precincts;
    for (const precinctId of stylePrecincts) {
      for (const mode of ['test', 'official'] as const) {
        const r = layoutBallot(election, style, { precinctId, mode });
        expect(r.ok && geometry(r.value)).toBe(geometry(layout));
      }
    }
    const test = layoutBallot(election, style, { mode: 'test' });
    expect(test.ok && JSON.stringify(test.value.sides[0]!.drawing)).toContain('TEST BALLOT');
  });
});

describe('layout limits', () => {
  it('puts at least 100 targets on the general election sheet, over both sides', () => {
    const l = layoutOf(example('general').definition, 'general');
    expect(l.sides).toHaveLength(2);
    expect(l.sides.reduce((n, s) => n + s.targets.length, 0)).toBeGreaterThanOrEqual(100);
    expect(l.sides.every((s) => s.targets.length > 0)).toBe(true);
  });

  it('names the first contest that does not fit the paper', () => {
    const e = structuredClone(example('general').definition) as ElectionDefinition;
    const r = layoutBallot({ ...e, paper: { size: 'letter', sides: 1 } }, 'general');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('does-not-fit');
    // the failing contest is the first whose box runs past the last column of the front
    const firstMissing = r.error.code === 'does-not-fit' ? r.error.contestId : '';
    expect(e.contests.map((c) => c.id)).toContain(firstMissing);
    expect(r.error.message).toContain(`contest "${firstMissing}"`);
    const idx = e.contests.findIndex((c) => c.id === firstMissing);
    const fitted = layoutBallot({ ...e, contests: e.contests.slice(0, idx), ballotStyles: [{ ...e.ballotStyles[0]!, contests: e.ballotStyles[0]!.contests.slice(0, idx) }], paper: { size: 'letter', sides: 1 } }, 'general');
    expect(fitted.ok).toBe(true);
  });

  it('refuses a contest taller than a whole column', () => {
    const e = structuredClone(example('municipal').definition) as ElectionDefinition;
    const mayor = e.contests[0]!;
    if (mayor.type !== 'candidate') throw new Error('fixture');
    mayor.candidates = Array.from({ length: 40 }, (_, i) => ({ id: `c-${i}`, name: `Candidate ${i}` }));
    const r = layoutBallot(e, 'ward-1');
    expect(!r.ok && r.error.message).toMatch(/contest "mayor" is taller .* than a whole column/);
  });

  it('refuses an unknown style and a precinct the style is not used in', () => {
    const e = example('municipal').definition;
    expect(layoutBallot(e, 'ward-9')).toMatchObject({ ok: false, error: { code: 'unknown-style' } });
    expect(layoutBallot(e, 'ward-1', { precinctId: 'p-201' })).toMatchObject({ ok: false, error: { code: 'unknown-precinct' } });
  });
});

describe('tallyproof ballots layout', () => {
  it('prints page, targets and codes in mm as JSON', async () => {
    const r = await runCli(['ballots', 'layout', '--election', path.join(EXAMPLES, 'municipal.json'), '--style', 'ward-1', '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { page: { width: number; height: number }; targets: Record<string, unknown>[]; codes: Record<string, unknown>[] };
    expect(json.page).toMatchObject({ width: 215.9, height: 279.4 });
    expect(json.targets[0]).toEqual(expect.objectContaining({ contestId: 'mayor', optionId: 'jose-nunez', x: expect.any(Number), y: expect.any(Number), width: 5.5, height: 3.6 }));
    expect(json.codes.map((c) => c.kind)).toEqual(['address', 'ballotId', 'votingId']);
  });

  it('exits 2 for an unknown style and 1 for an invalid election', async () => {
    const r = await runCli(['ballots', 'layout', '--election', path.join(EXAMPLES, 'municipal.json'), '--style', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has no ballot style "nope"');
    expect((await runCli(['ballots', 'layout', '--election', '/nonexistent.json', '--style', 'x'])).code).toBe(1);
  });
});
