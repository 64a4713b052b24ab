import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { Rig } from './support/rig';
import { captainDoes, sheetFeedbacks, startRig, waitForStatus, writeSheets, paperLocations } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

describe('a photocopied ballot', () => {
  it('is rejected as a duplicate naming the ledger entry of the first copy; the first stays counted once', async () => {
    // the same printed ballot fed twice: identical codes, identical marks
    const { dir, truth } = await writeSheets([{ kind: 'normal' }, { kind: 'normal', n: 1 }, { kind: 'normal' }]);
    expect(truth[2]?.serial).toBe(truth[0]?.serial);
    rig = await startRig({ deck: dir });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const s = await waitForStatus(rig.station, (x) => x.counts.rejected === 1);
    expect(s.counts.public).toBe(2);
    const fb = sheetFeedbacks(rig.events);
    expect(fb.map((f) => f.outcome)).toEqual(['counted', 'counted', 'rejected']);
    const dup = fb[2]!.reasons[0]!;
    expect(dup.code).toBe('duplicate');
    expect(dup.voter).toMatch(/already been counted/);

    const casts: { id: string; seq: number }[] = [];
    const report = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'), {}, { onCast: (r, seq) => casts.push({ id: r.ballotId, seq }) });
    expect(report.ok).toBe(true);
    expect(casts.map((c) => c.id)).toEqual([truth[0]!.serial, truth[1]!.serial]);
    expect(dup.pollWorker).toContain(`counted at ledger entry ${casts[0]!.seq}`);
    expect(await paperLocations(rig, 3)).toEqual(['box', 'box', 'returned']);
  });
});
