import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readCastSheetDetails } from '../../app/ledger/cast-sheet-details';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { Rig } from './support/rig';
import { stationImageStore } from './support/images';
import { GENERAL_PRECINCT, captainDoes, startRig, waitForStatus, writeSheets } from './support/rig';
import { EXAMPLES } from '../support/ballots';

let rig: Rig;
afterEach(async () => rig?.stop());

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('what the station keeps of each sheet in the ledger (sheet detail)', () => {
  it('records every target score, the marginal options and each side with a random image ID and its SHA-256', async () => {
    const { dir, truth } = await writeSheets([{ kind: 'normal', marginal: true }, { kind: 'normal', n: 1 }]);
    rig = await startRig({ deck: dir });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const held = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
    expect((await rig.station.voterDecision({ sheetId: held.sheet?.sheetId ?? '', decision: 'cast-as-is' })).ok).toBe(true);
    await waitForStatus(rig.station, (s) => s.counts.public === 2);
    const file = dataLayout(rig.dataDir).ledger('official');
    const report = verifyLedgerFile(file);
    expect(report.ok).toBe(true);
    const contests = report.summary?.genesis.election.contests ?? [];
    const got = readCastSheetDetails(file);
    expect(got.map((g) => g.ballotId)).toEqual(truth.map((t) => t.serial));
    const store = stationImageStore(rig.dataDir);
    for (const [i, g] of got.entries()) {
      const t = truth[i];
      const d = g.detail;
      if (t === undefined || d === undefined) throw new Error('a cast ballot without its sheet detail');
      // the scanned side as the simulator sent it: the deck file's bytes
      const png = fs.readFileSync(path.join(dir, `${String(i).padStart(4, '0')}.png`));
      expect(d.sides.map((s) => Buffer.from(s.sha256).toString('hex'))).toEqual([sha(png)]);
      expect(Buffer.from(g.imageSha256).toString('hex')).toBe(sha(png));
      expect(d.sides[0]?.imageId).toMatch(/^[0-9a-f]{32}$/);
      // kept by default (retention "all"), encrypted, readable with the station key, flagged recorded
      for (const side of d.sides) {
        expect(side.kept).toBe(true);
        const img = store.get(side.imageId, side.sha256);
        expect(img.ok && img.value.meta).toEqual({ disposition: 'recorded', mode: 'official', side: 1, sides: 1 });
      }
      for (const c of d.contests) {
        const def = contests[c.contest];
        if (def === undefined) throw new Error(`contest ${c.contest}`);
        expect(c.scores.length).toBe(def.options.length);
        const marks = t.marks.filter((m) => m.contestId === def.id);
        const expectedMarginal = marks.filter((m) => m.expected === 'marginal').map((m) => def.options.indexOf(m.optionId)).sort((a, b) => a - b);
        expect(c.marginal).toEqual(expectedMarginal);
        for (const m of marks) {
          const s = c.scores[def.options.indexOf(m.optionId)] ?? -1;
          if (m.expected === 'filled') expect(s).toBeGreaterThan(3000);
          if (m.expected === 'empty') expect(s).toBeLessThan(1500);
        }
        for (const [k, s] of c.scores.entries()) if (!marks.some((m) => m.optionId === def.options[k])) expect(s).toBeLessThan(1500);
      }
    }
    expect(got[0]?.detail?.contests.some((c) => c.marginal.length > 0)).toBe(true);
    expect(got[0]?.detail?.sides[0]?.imageId).not.toBe(got[1]?.detail?.sides[0]?.imageId);
  });

  it('keeps two sides apart in scan order for a two-sided ballot; the record digest stays SHA-256 over both', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', general: true }]);
    rig = await startRig({ deck: dir, election: path.join(EXAMPLES, 'general.json'), precinct: GENERAL_PRECINCT });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await waitForStatus(rig.station, (s) => s.counts.public === 1);
    const [g] = readCastSheetDetails(dataLayout(rig.dataDir).ledger('official'));
    const front = fs.readFileSync(path.join(dir, '0000.png'));
    const back = fs.readFileSync(path.join(dir, '0000.back.png'));
    expect(g?.detail?.sides.map((s) => Buffer.from(s.sha256).toString('hex'))).toEqual([sha(front), sha(back)]);
    expect(Buffer.from(g?.imageSha256 ?? []).toString('hex')).toBe(sha(Buffer.concat([front, back])));
  });
});
