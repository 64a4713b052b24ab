import path from 'node:path';
import { captureOf } from '../../app/station/capture';
import { dataLayout } from '../../app/ledger/layout';
import type { BallotRecord } from '../../app/ledger/record';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import { EXAMPLES } from '../support/ballots';
import type { Rig } from './support/rig';
import { GENERAL_PRECINCT, paperLocations, captainDoes, sheetFeedbacks, startRig, waitForStatus, writeSheets } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

describe('two-sided ballots (the general election)', () => {
  it('are read front and back as one sheet: the record holds both sides\' contests; an overvote on either side is held; a sheet with one side scanned is rejected', async () => {
    const { dir, truth } = await writeSheets([
      { kind: 'normal', n: 0, general: true },
      { kind: 'overvote', n: 0, general: true },
      { kind: 'normal', n: 1, general: true, frontOnly: true },
      { kind: 'normal', n: 2, general: true },
    ]);
    // the simulator scans both sides of the two-sided sheets, one side of the third
    expect(readDeck(dir).map((s) => s.back !== undefined)).toEqual([true, true, false, true]);
    rig = await startRig({ deck: dir, election: path.join(EXAMPLES, 'general.json'), precinct: GENERAL_PRECINCT });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');

    const held = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
    const overvoted = Object.entries(truth[1]?.expected.contests ?? {}).filter(([, c]) => c.overvote).map(([id]) => id);
    expect(overvoted.length).toBeGreaterThan(0);
    expect(held.sheet?.reasons.map((r) => r.code)).toEqual(['overvote']);
    expect(held.sheet?.reasons[0]?.contests).toEqual(overvoted);
    expect(held.counts.public).toBe(1);
    const back = await rig.station.voterDecision({ sheetId: held.sheet?.sheetId ?? '', decision: 'return' });
    expect(back.ok && back.value.outcome).toBe('returned');

    const done = await waitForStatus(rig.station, (s) => s.counts.public === 2 && s.counts.rejected === 1);
    expect(done.counts).toEqual({ public: 2, lifetime: 2, returned: 1, rejected: 1, castAsIs: 0 });
    const fb = sheetFeedbacks(rig.events);
    expect(fb.map((f) => f.outcome)).toEqual(['counted', 'awaiting-voter', 'returned', 'rejected', 'counted']);
    // one side of a two-sided ballot is not counted: the sheet goes back as side-missing
    expect(fb[3]?.reasons.map((r) => r.code)).toEqual(['side-missing']);
    expect(await paperLocations(rig, 4)).toEqual(['box', 'returned', 'returned', 'box']);

    // each record is what the deck marked on both sides, contest by contest
    const cast: BallotRecord[] = [];
    const report = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'), {}, { onCast: (r) => cast.push(r) });
    expect(report.ok).toBe(true);
    expect(report.summary?.pending).toBe(0);
    const contests = report.summary?.genesis.election.contests ?? [];
    for (const [i, t] of [truth[0], truth[3]].entries()) {
      if (t === undefined) throw new Error('no truth');
      const sides = new Set(t.images.map((im) => im.side));
      expect(sides.size).toBe(2);
      const expected = captureOf({ ballotId: t.serial, votingId: '', mode: 'official', castAsIs: false, images: [], calibrationVersion: 1, contests: t.expected.contests }, contests);
      // a version-2 record also carries each contest's target count, from the election
      expect(cast[i]?.contests).toEqual(expected.contests.map((c) => ({ ...c, targets: contests[c.contest]?.options.length })));
      expect(cast[i]?.contests.length).toBe(Object.keys(t.expected.contests).length);
    }
  });
});
