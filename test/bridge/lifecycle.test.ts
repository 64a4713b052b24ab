import { advance, describeOutcome, SheetLifecycle, type SheetInput, type SheetState } from '../../firmware-bridge/lifecycle';
import { SheetTracker } from '../../firmware-bridge/sheet-tracker';
import type { SheetOutcome } from '../../firmware-bridge/lifecycle';

describe('sheet lifecycle', () => {
  it('walks the happy paths to the box and back to the voter', () => {
    const toBox = new SheetLifecycle('s1');
    for (const i of [{ type: 'scan-started' }, { type: 'scanned' }, { type: 'accept' }, { type: 'dropped-in-box' }] as SheetInput[]) expect(toBox.apply(i).ok).toBe(true);
    expect(toBox.state).toEqual({ stage: 'done', outcome: { kind: 'box' } });
    const back = new SheetLifecycle('s2', { stage: 'held' });
    back.apply({ type: 'return', reason: 'scan-lost' });
    back.apply({ type: 'taken-by-voter' });
    expect(back.state).toEqual({ stage: 'done', outcome: { kind: 'returned', reason: 'scan-lost' } });
  });

  it('refuses impossible moves: no accept before the scan, nothing after done', () => {
    const cases: [SheetState, SheetInput][] = [
      [{ stage: 'feeding' }, { type: 'accept' }],
      [{ stage: 'scanning' }, { type: 'return', reason: 'station' }],
      [{ stage: 'held' }, { type: 'dropped-in-box' }],
      [{ stage: 'returning' }, { type: 'dropped-in-box' }],
      [{ stage: 'accepting' }, { type: 'taken-by-voter' }],
      [{ stage: 'done', outcome: { kind: 'box' } }, { type: 'stopped', reason: 'jam' }],
    ];
    for (const [s, i] of cases) {
      const r = advance(s, i);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.message).toContain(s.stage);
    }
  });

  it('flags a sheet stopped at any stage with that stage', () => {
    for (const stage of ['feeding', 'scanning', 'held', 'accepting', 'returning'] as const) {
      expect(advance({ stage }, { type: 'stopped', reason: 'jam' })).toEqual({ ok: true, value: { stage: 'done', outcome: { kind: 'flagged', reason: 'jam', stage } } });
    }
    expect(describeOutcome({ kind: 'flagged', reason: 'jam', stage: 'accepting' })).toBe('needs the poll worker (jam while accepting)');
  });
});

describe('SheetTracker', () => {
  it('reports each sheet done exactly once, whatever reports repeat', () => {
    const done: [string, SheetOutcome][] = [];
    const t = new SheetTracker((id, o) => done.push([id, o]));
    t.begin('a');
    expect(t.begin('a')).toBe(false);
    t.apply('a', { type: 'scan-started' });
    t.apply('a', { type: 'scanned' });
    t.apply('a', { type: 'accept' });
    t.apply('a', { type: 'dropped-in-box' });
    expect(t.settle('a', { kind: 'box' })).toBe(false);
    expect(t.begin('a')).toBe(false);
    expect(t.apply('a', { type: 'dropped-in-box' }).ok).toBe(false);
    t.begin('b', 'held');
    t.settle('b', { kind: 'returned', reason: 'station' });
    t.settle('b', { kind: 'box' });
    expect(done).toEqual([
      ['a', { kind: 'box' }],
      ['b', { kind: 'returned', reason: 'station' }],
    ]);
    expect(t.openSheets()).toEqual([]);
  });
});
