import { dataLayout } from '../../app/ledger/layout';
import type { BallotRecord } from '../../app/ledger/record';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { Rig } from './support/rig';
import { PINS, captainDoes, startRig, waitForStatus, writeSheets, paperLocations } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

describe('an overvoted ballot cast as is', () => {
  it('counts only after the voter confirms, is marked cast-as-is, and its overvoted contest gives no votes', async () => {
    const { dir, truth } = await writeSheets([{ kind: 'overvote' }]);
    rig = await startRig({ deck: dir });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const held = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
    const sheetId = held.sheet!.sheetId;
    // a bad decision value is refused by the schema, the sheet stays held
    expect((await rig.station.voterDecision({ sheetId, decision: 'cast' as 'cast-as-is' })).ok).toBe(false);
    expect(rig.station.status().sheet?.outcome).toBe('awaiting-voter');

    const r = await rig.station.voterDecision({ sheetId, decision: 'cast-as-is' });
    expect(r.ok).toBe(true);
    const s = await waitForStatus(rig.station, (x) => x.counts.public === 1);
    expect(s.counts.castAsIs).toBe(1);
    expect(s.sheet?.outcome).toBe('counted');
    expect(await paperLocations(rig, 1)).toEqual(['box']);

    const records: BallotRecord[] = [];
    expect(verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'), {}, { onCast: (rec) => records.push(rec) }).ok).toBe(true);
    expect(records).toHaveLength(1);
    expect(records[0]?.castAsIs).toBe(true);
    expect(records[0]?.ballotId).toBe(truth[0]?.serial);
    expect(records[0]?.contests.some((c) => c.overvote)).toBe(true);

    // the auditor finds it
    await rig.station.login({ role: 'auditor', pin: PINS.auditor });
    const found = await rig.station.lookupBallot({ ballotId: truth[0]!.serial.toLowerCase() });
    expect(found.ok && found.value.state).toBe('cast');
  });
});
