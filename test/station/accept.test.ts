import { verifyLedgerFile } from '../../app/ledger/verify';
import { dataLayout } from '../../app/ledger/layout';
import type { Rig } from './support/rig';
import { captainDoes, sheetFeedbacks, startRig, waitForStatus, writeSheets, paperLocations } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

describe('good ballots', () => {
  it('are read, recorded pending, dropped on the station\'s word and counted once the drop is confirmed', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }, { kind: 'undervote', n: 0 }]);
    rig = await startRig({ deck: dir });
    expect(rig.station.status().polls).toBe('configured');
    expect(rig.station.status().counts.public).toBe(0);
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const s = await waitForStatus(rig.station, (x) => x.counts.public === 3);
    expect(s.counts).toEqual({ public: 3, lifetime: 3, returned: 0, rejected: 0, castAsIs: 0 });
    const fb = sheetFeedbacks(rig.events);
    expect(fb.map((f) => f.outcome)).toEqual(['counted', 'counted', 'counted']);
    expect(rig.events.filter((e) => e.type === 'cue').map((e) => (e.type === 'cue' ? e.cue : ''))).toEqual(['counted', 'counted', 'counted']);
    // the paper agrees: three sheets in the box
    expect(await paperLocations(rig, 3)).toEqual(['box', 'box', 'box']);
    const report = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'));
    expect(report.ok).toBe(true);
    expect(report.summary?.cast).toBe(3);
    expect(report.summary?.pending).toBe(0);
  });
});
