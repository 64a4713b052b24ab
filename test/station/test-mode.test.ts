import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { Rig } from './support/rig';
import { PINS, captainDoes, sheetFeedbacks, startRig, waitForStatus, writeSheets } from './support/rig';

jest.setTimeout(240_000);

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe('test mode (logic and accuracy)', () => {
  it('counts test ballots in the test ledger only; entering it again clears that ledger; the official ledger is never touched', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', mode: 'test', n: 0 }, { kind: 'normal', mode: 'test', n: 1 }, { kind: 'normal', mode: 'official' }]);
    rig = await startRig({ deck: dir });
    const layout = dataLayout(rig.dataDir);
    const before = verifyLedgerFile(layout.ledger('official')).summary!.head;
    const headBefore = { seq: before.seq, hash: Buffer.from(before.hash).toString('hex'), what: 'the head before test mode' };
    await captainDoes(rig.station, 'enter-test-mode');
    expect(rig.station.status()).toMatchObject({ polls: 'testing', mode: 'test' });
    // two test ballots count; the official one is rejected in test mode
    const s = await waitForStatus(rig.station, (x) => x.counts.public === 2 && x.counts.rejected === 1);
    expect(sheetFeedbacks(rig.events).map((f) => f.reasons[0]?.code ?? f.outcome)).toEqual(['counted', 'counted', 'official-ballot-in-test-mode']);
    expect(s.counts.lifetime).toBe(2);
    expect(verifyLedgerFile(layout.ledger('test')).summary?.cast).toBe(2);
    expect(verifyLedgerFile(layout.ledger('official')).summary?.cast).toBe(0);

    // entering test mode again starts over with an empty test ledger
    await captainDoes(rig.station, 'enter-test-mode');
    expect(rig.station.status().counts.public).toBe(0);
    expect(rig.station.status().counts.lifetime).toBe(2);
    const again = verifyLedgerFile(layout.ledger('test'));
    expect(again.ok).toBe(true);
    expect(again.summary?.cast).toBe(0);
    expect(again.summary?.entries).toBe(1);

    // leaving test mode, the official zero tape, then the polls open; official ballots land in the official ledger
    await captainDoes(rig.station, 'leave-test-mode', 'print-zero-tape', 'open-polls');
    expect(rig.station.status()).toMatchObject({ polls: 'open', mode: 'official' });
    // and test mode is closed for the rest of the election
    await rig.station.login({ role: 'captain', pin: PINS.captain });
    expect(await rig.station.command({ command: 'enter-test-mode' })).toEqual({ ok: false, error: expect.objectContaining({ code: 'wrong-state' }) });
    // the official ledger only grew (audit events of the test): everything before it is unchanged
    const official = verifyLedgerFile(layout.ledger('official'), { expectedHeads: [headBefore] });
    expect(official.ok).toBe(true);
    expect(official.summary?.cast).toBe(0);
    expect(official.summary?.returned).toBe(0);
  });
});
