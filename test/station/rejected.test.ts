import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { REASON_TEXT } from '../../ballots/read/reasons';
import type { Rig } from './support/rig';
import { captainDoes, sheetFeedbacks, startRig, waitForStatus, writeSheets, paperLocations } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

describe('rejected sheets', () => {
  it('go back with the reason, cannot be cast as is, and leave no ballot record', async () => {
    const { dir } = await writeSheets([{ kind: 'wrong-precinct' }, { kind: 'wrong-election' }, { kind: 'counterfeit' }, { kind: 'test-mode' }, { kind: 'mis-scaled' }, { kind: 'normal' }]);
    rig = await startRig({ deck: dir });
    const tries: Promise<unknown>[] = [];
    rig.station.subscribe((e) => {
      // a voter pressing "cast as is" on a rejected sheet gets nowhere
      if (e.type === 'sheet' && e.feedback.outcome === 'rejected') tries.push(rig.station.voterDecision({ sheetId: e.feedback.sheetId, decision: 'cast-as-is' }));
    });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const s = await waitForStatus(rig.station, (x) => x.counts.public === 1);
    expect(s.counts).toEqual({ public: 1, lifetime: 1, returned: 0, rejected: 5, castAsIs: 0 });
    const fb = sheetFeedbacks(rig.events);
    expect(fb.map((f) => f.outcome)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'counted']);
    expect(fb.slice(0, 5).map((f) => f.reasons.map((r) => r.code))).toEqual([['wrong-precinct'], ['wrong-election'], ['counterfeit'], ['test-ballot-in-official-mode'], ['mis-scaled']]);
    expect(fb.every((f) => !f.canCastAsIs)).toBe(true);
    expect(fb[0]?.reasons[0]?.voter).toBe(REASON_TEXT['wrong-precinct'].voter);
    expect(fb[2]?.reasons[0]?.pollWorker).toBe(REASON_TEXT.counterfeit.pollWorker);
    for (const t of await Promise.all(tries)) expect(t).toEqual({ ok: false, error: expect.objectContaining({ code: 'no-such-sheet' }) });
    expect(await paperLocations(rig, 6)).toEqual(['returned', 'returned', 'returned', 'returned', 'returned', 'box']);
    expect(rig.events.filter((e) => e.type === 'cue').map((e) => (e.type === 'cue' ? e.cue : ''))).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'counted']);

    const events: AuditEvent[] = [];
    const report = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'), {}, { onEvent: (e) => events.push(e) });
    expect(report.summary?.cast).toBe(1);
    expect(report.summary?.returned).toBe(0);
    expect(events.filter((e) => e.type === 'ballot-rejected').map((e) => e.detail.reason)).toEqual(['wrong-precinct', 'wrong-election', 'counterfeit', 'test-ballot-in-official-mode', 'mis-scaled']);
  });
});
