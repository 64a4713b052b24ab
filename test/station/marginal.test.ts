import type { Rig } from './support/rig';
import { captainDoes, startRig, waitForStatus, writeSheets } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

describe('marginal marks', () => {
  it('are returned for review with the contest named, and the voter may cast as is', async () => {
    const { dir, truth } = await writeSheets([{ kind: 'normal', marginal: true }]);
    const t = truth[0]!;
    expect(t.expected.reasons).toContain('marginal-marks');
    const contest = t.marks.find((m) => m.expected === 'marginal')?.contestId;
    rig = await startRig({ deck: dir });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const held = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
    const reason = held.sheet?.reasons.find((r) => r.code === 'marginal-marks');
    expect(reason?.contests).toEqual([contest]);
    expect(reason?.pollWorker).toMatch(/recorded for review/);
    expect((await rig.station.voterDecision({ sheetId: held.sheet!.sheetId, decision: 'cast-as-is' })).ok).toBe(true);
    const s = await waitForStatus(rig.station, (x) => x.counts.public === 1);
    expect(s.counts.castAsIs).toBe(1);
  });

  it('an undervote is returned only when the station setting asks for it', async () => {
    const { dir } = await writeSheets([{ kind: 'undervote' }]);
    rig = await startRig({ deck: dir, returnUndervotes: true });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const held = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
    expect(held.sheet?.reasons.map((r) => r.code)).toEqual(['undervote']);
    expect(held.sheet?.reasons[0]?.contests.length).toBeGreaterThan(0);
  });
});
