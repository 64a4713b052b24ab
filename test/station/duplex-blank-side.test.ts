import fs from 'node:fs';
import path from 'node:path';
import { blankScan, encodeImage } from '../../ballots/testdeck';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import { EXAMPLES } from '../support/ballots';
import type { Rig } from './support/rig';
import { GENERAL_PRECINCT, captainDoes, paperLocations, sheetFeedbacks, startRig, waitForStatus, writeSheets } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

// The serial scanner reads both sides of every sheet: a one-sided ballot comes with a blank side.
describe('a duplex scanner and the blank side of a sheet', () => {
  it('counts a one-sided ballot fed face up or face down, and gives back a sheet blank on both sides', async () => {
    const { dir } = await writeSheets([
      { kind: 'normal', n: 0, blank: 'back' },
      { kind: 'normal', n: 1, blank: 'front' },
    ]);
    // a sheet with no printing on either side (a blank page among the ballots)
    const blank = await encodeImage(blankScan(1700, 2200, 'both-sides'), 'png');
    fs.writeFileSync(path.join(dir, '0002.png'), blank);
    fs.writeFileSync(path.join(dir, '0002.back.png'), blank);
    expect(readDeck(dir).map((s) => s.back !== undefined)).toEqual([true, true, true]);
    rig = await startRig({ deck: dir });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');

    const done = await waitForStatus(rig.station, (s) => s.counts.public + s.counts.rejected === 3);
    expect(done.counts).toMatchObject({ public: 2, rejected: 1 });
    const fb = sheetFeedbacks(rig.events);
    expect(fb.map((f) => f.outcome)).toEqual(['counted', 'counted', 'rejected']);
    expect(fb[2]?.reasons.map((r) => r.code)).toEqual(['blank-page']);
    expect(fb[2]?.reasons[0]?.voter).toMatch(/turn it over/);
    expect(await paperLocations(rig, 3)).toEqual(['box', 'box', 'returned']);
    const report = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'));
    expect([report.ok, report.summary?.cast, report.summary?.pending]).toEqual([true, 2, 0]);
  });

  it('does not count the side it read of a two-sided ballot whose back came through blank', async () => {
    const { dir } = await writeSheets([
      { kind: 'normal', n: 0, general: true, blank: 'back' },
      { kind: 'normal', n: 1, general: true },
    ]);
    rig = await startRig({ deck: dir, election: path.join(EXAMPLES, 'general.json'), precinct: GENERAL_PRECINCT });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');

    const done = await waitForStatus(rig.station, (s) => s.counts.public + s.counts.rejected === 2);
    expect(done.counts).toMatchObject({ public: 1, rejected: 1 });
    const fb = sheetFeedbacks(rig.events);
    expect(fb.map((f) => f.outcome)).toEqual(['rejected', 'counted']);
    expect(fb[0]?.reasons.map((r) => r.code)).toEqual(['side-missing']);
    expect(fb[0]?.reasons[0]?.pollWorker).toMatch(/duplex/);
    expect(await paperLocations(rig, 2)).toEqual(['returned', 'box']);
    const report = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'));
    expect([report.ok, report.summary?.cast, report.summary?.pending]).toEqual([true, 1, 0]);
  });
});
