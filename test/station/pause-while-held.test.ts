import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import type { Rig } from './support/rig';
import { PINS, VoterPile, captainDoes, paperLocations, sheetFeedbacks, startRig, stationSettled, waitForStatus, writeSheets } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

function ledgerView(dataDir: string): { cast: number; pending: number; returned: number; polls: string[] } {
  const events: AuditEvent[] = [];
  const r = verifyLedgerFile(dataLayout(dataDir).ledger('official'), {}, { onEvent: (e) => events.push(e) });
  expect(r.ok).toBe(true);
  return { cast: r.summary?.cast ?? -1, pending: r.summary?.pending ?? -1, returned: r.summary?.returned ?? -1, polls: events.filter((e) => e.type.startsWith('polls-')).map((e) => e.type) };
}

describe('the polls paused while a ballot waits for the voter', () => {
  it('give the ballot back unrecorded with the reason; nothing is taken while paused; after resuming the voter feeds it again and decides', async () => {
    // the overvoted ballot, the same ballot fed again after the pause, the next voter's ballot
    const { dir } = await writeSheets([{ kind: 'overvote', n: 0 }, { kind: 'overvote', n: 0 }, { kind: 'normal', n: 0 }]);
    const pile = new VoterPile(readDeck(dir));
    pile.allow(1);
    rig = await startRig({ deck: dir, pile });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const held = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
    const sheetId = held.sheet?.sheetId ?? '';

    expect((await rig.station.login({ role: 'poll-worker', pin: PINS['poll-worker'] })).ok).toBe(true);
    // the polls-paused report comes with the pause (PDF only: this station has no printer)
    expect(await rig.station.command({ command: 'pause-polls' })).toEqual({ ok: true, value: { message: 'Polls are paused: the scanner takes no ballots. The polls-paused report is printed.', file: expect.stringMatching(/tapes\/polls-paused-official-\d{8}T\d{6}Z\.pdf$/) } });
    const paused = rig.station.status();
    expect(paused.polls).toBe('paused');
    expect(paused.sheet).toMatchObject({ sheetId, outcome: 'returned', canCastAsIs: false });
    expect(paused.sheet?.reasons.map((r) => r.code)).toEqual(['not-accepting']);
    expect(paused.sheet?.reasons[0]?.voter).toBe('The scanner is not taking ballots right now. Please ask a poll worker.');
    expect(paused.sheet?.reasons[0]?.pollWorker).toMatch(/The polls are paused\.$/);
    // not a returned ballot in the counts: the voter never chose, and the ballot is still to be cast
    expect(paused.counts).toEqual({ public: 0, lifetime: 0, returned: 0, rejected: 0, castAsIs: 0 });
    expect(await paperLocations(rig, 1)).toEqual(['returned']);
    expect(rig.sim.state.feedEnabled).toBe(false);
    // the voter's late "cast as is" finds no ballot to cast
    const late = await rig.station.voterDecision({ sheetId, decision: 'cast-as-is' });
    expect(late.ok).toBe(false);
    expect(ledgerView(rig.dataDir)).toEqual({ cast: 0, pending: 0, returned: 0, polls: ['polls-opened', 'polls-paused'] });

    // the voter puts the ballot in again while paused: the feeder does not take it
    pile.allow(2);
    await stationSettled(rig.station);
    expect(rig.sim.physical).toHaveLength(1);

    expect((await rig.station.command({ command: 'resume-polls' })).ok).toBe(true);
    await rig.station.logout();
    const again = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter' && s.sheet.sheetId !== sheetId);
    const cast = await rig.station.voterDecision({ sheetId: again.sheet?.sheetId ?? '', decision: 'cast-as-is' });
    expect(cast.ok).toBe(true);
    const done = await waitForStatus(rig.station, (s) => s.counts.public === 2);
    expect(done.counts).toEqual({ public: 2, lifetime: 2, returned: 0, rejected: 0, castAsIs: 1 });
    expect(await paperLocations(rig, 3)).toEqual(['returned', 'box', 'box']);
    expect(sheetFeedbacks(rig.events).map((f) => f.outcome)).toEqual(['awaiting-voter', 'returned', 'awaiting-voter', 'counted', 'counted']);
    expect(ledgerView(rig.dataDir)).toEqual({ cast: 2, pending: 0, returned: 0, polls: ['polls-opened', 'polls-paused', 'polls-resumed'] });
  });
});
