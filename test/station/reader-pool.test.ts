import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { ReaderPool } from '../../ballots/read/pool';
import type { Rig } from './support/rig';
import { captainDoes, paperLocations, sheetFeedbacks, startRig, waitForStatus, writeSheets } from './support/rig';

let rig: Rig;
afterEach(async () => {
  await rig?.stop();
  jest.restoreAllMocks();
});

describe('the station reading on worker threads (readerWorkers > 0)', () => {
  it('counts, holds and rejects as the in-process reader does, every page read by the ReaderPool', async () => {
    // watched, not replaced: every call still goes to the real pool and its worker thread
    const reads = jest.spyOn(ReaderPool.prototype, 'read');
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'overvote', n: 0 }, { kind: 'counterfeit', n: 0 }, { kind: 'normal', n: 1 }]);
    rig = await startRig({ deck: dir, readerWorkers: 1 });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');

    const held = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
    expect(held.sheet?.reasons.map((r) => r.code)).toEqual(['overvote']);
    expect(held.counts.public).toBe(1);
    const back = await rig.station.voterDecision({ sheetId: held.sheet?.sheetId ?? '', decision: 'return' });
    expect(back.ok && back.value.outcome).toBe('returned');

    const done = await waitForStatus(rig.station, (s) => s.counts.public === 2 && s.counts.rejected === 1);
    expect(done.counts).toEqual({ public: 2, lifetime: 2, returned: 1, rejected: 1, castAsIs: 0 });
    const fb = sheetFeedbacks(rig.events);
    expect(fb.map((f) => `${f.outcome}:${f.reasons.map((r) => r.code).join(',')}`)).toEqual(['counted:', 'awaiting-voter:overvote', 'returned:overvote', 'rejected:counterfeit', 'counted:']);
    expect(await paperLocations(rig, 4)).toEqual(['box', 'returned', 'returned', 'box']);
    expect(reads).toHaveBeenCalledTimes(4);
    const report = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'));
    expect([report.ok, report.summary?.cast, report.summary?.pending, report.summary?.returned]).toEqual([true, 2, 0, 0]);
  });
});
