import type { Rig } from './support/rig';
import { captainDoes, sheetFeedbacks, startRig, waitForStatus, writeSheets, paperLocations } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

describe('an overvoted ballot', () => {
  it('is held with the contests named; the voter takes it back, fixes it on a new ballot, and only that one counts', async () => {
    const { dir, truth } = await writeSheets([{ kind: 'overvote' }, { kind: 'normal' }]);
    const overvoted = Object.entries(truth[0]?.expected.contests ?? {}).filter(([, c]) => c.overvote).map(([id]) => id);
    expect(overvoted.length).toBeGreaterThan(0);
    rig = await startRig({ deck: dir });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const held = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
    const fb = held.sheet!;
    expect(fb.canCastAsIs).toBe(true);
    expect(fb.reasons.map((r) => r.code)).toEqual(['overvote']);
    expect(fb.reasons[0]?.contests).toEqual(overvoted);
    expect(fb.reasons[0]?.voter).toMatch(/too many choices/);
    // nothing is recorded while the voter decides
    expect(held.counts.public).toBe(0);
    expect(rig.sim.state.path).toBe('held');

    const back = await rig.station.voterDecision({ sheetId: fb.sheetId, decision: 'return' });
    expect(back.ok && back.value.outcome).toBe('returned');
    const after = await waitForStatus(rig.station, (s) => s.counts.public === 1);
    expect(after.counts).toEqual({ public: 1, lifetime: 1, returned: 1, rejected: 0, castAsIs: 0 });
    expect(await paperLocations(rig, 2)).toEqual(['returned', 'box']);
    expect(sheetFeedbacks(rig.events).map((f) => f.outcome)).toEqual(['awaiting-voter', 'returned', 'counted']);
    // a decision about a sheet no longer in the scanner is refused
    expect((await rig.station.voterDecision({ sheetId: fb.sheetId, decision: 'cast-as-is' })).ok).toBe(false);
  });
});
