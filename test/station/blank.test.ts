import type { Rig } from './support/rig';
import { captainDoes, startRig, waitForStatus, writeSheets, paperLocations } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

describe('a blank ballot', () => {
  it('is held for the voter with the blank-ballot reason; returned, it is not counted', async () => {
    const { dir } = await writeSheets([{ kind: 'blank' }, { kind: 'blank', n: 1 }]);
    rig = await startRig({ deck: dir });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const first = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
    expect(first.sheet?.reasons.map((r) => [r.code, r.contests])).toEqual([['blank-ballot', []]]);
    expect(first.sheet?.reasons[0]?.voter).toMatch(/No marks/);
    await rig.station.voterDecision({ sheetId: first.sheet!.sheetId, decision: 'return' });
    const second = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter' && s.sheet.sheetId !== first.sheet!.sheetId);
    await rig.station.voterDecision({ sheetId: second.sheet!.sheetId, decision: 'cast-as-is' });
    const s = await waitForStatus(rig.station, (x) => x.counts.public === 1);
    expect(s.counts).toEqual({ public: 1, lifetime: 1, returned: 1, rejected: 0, castAsIs: 1 });
    expect(await paperLocations(rig, 2)).toEqual(['returned', 'box']);
  });
});
