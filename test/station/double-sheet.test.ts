import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import { faultsAt } from '../../firmware-bridge/simulator/faults';
import type { Rig } from './support/rig';
import { PINS, VoterPile, captainDoes, paperLocations, sheetFeedbacks, startRig, stationSettled, waitForStatus, writeSheets } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

describe('two sheets fed at once', () => {
  it('raise the double-sheet alarm, go back uncounted with nothing in the ledger, and feeding waits for the poll worker', async () => {
    // the voter's pile: a ballot, then two stuck together (fed as one), then the same two again one at a time
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }, { kind: 'normal', n: 2 }, { kind: 'normal', n: 1 }, { kind: 'normal', n: 2 }]);
    const pile = new VoterPile(readDeck(dir));
    pile.allow(3);
    rig = await startRig({ deck: dir, pile, faults: faultsAt({ 1: { kind: 'double-sheet' } }) });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');

    const s = await waitForStatus(rig.station, (x) => x.scanner.alarms.includes('double-sheet') && x.sheet?.outcome === 'returned');
    expect(s.counts.public).toBe(1);
    expect(s.counts.returned).toBe(1);
    expect(s.sheet?.canCastAsIs).toBe(false);
    expect(s.sheet?.reasons.map((r) => r.code)).toEqual(['double-sheet']);
    expect(s.sheet?.reasons[0]?.voter).toMatch(/Two sheets went in together .* feed one sheet at a time/);
    expect(s.sheet?.reasons[0]?.pollWorker).toMatch(/two sheets at once .* Clear the alarm/);
    // both sheets of the double feed are back in the voter's hands
    expect(await paperLocations(rig, 3)).toEqual(['box', 'returned', 'returned']);
    const cues = rig.events.flatMap((e) => (e.type === 'cue' ? [e.cue] : []));
    expect(cues).toEqual(['counted', 'alarm', 'returned']);

    // nothing of the double feed reaches the ledger, and the scanner takes no sheet until the alarm is cleared
    await stationSettled(rig.station);
    expect(rig.sim.state.feedEnabled).toBe(false);
    const events: AuditEvent[] = [];
    const before = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'), {}, { onEvent: (e) => events.push(e) });
    expect(before.ok).toBe(true);
    expect([before.summary?.cast, before.summary?.pending, before.summary?.returned]).toEqual([1, 0, 0]);
    expect(events.filter((e) => e.type === 'scanner-fault').map((e) => e.detail['code'])).toEqual(['double-sheet']);

    // the voter puts the two sheets in again, one behind the other: the feeder does not take them yet
    pile.allow(2);
    await stationSettled(rig.station);
    expect(rig.sim.physical).toHaveLength(3);
    // only a poll worker clears it
    expect((await rig.station.command({ command: 'clear-alarm' })).ok).toBe(false);
    expect(rig.station.status().scanner.alarms).toEqual(['double-sheet']);
    await rig.station.login({ role: 'poll-worker', pin: PINS['poll-worker'] });
    expect(await rig.station.command({ command: 'clear-alarm' })).toEqual({ ok: true, value: { message: 'Cleared.' } });

    // feeding resumes and takes the two sheets one at a time: both count
    const done = await waitForStatus(rig.station, (x) => x.counts.public === 3);
    expect(done.scanner.alarms).toEqual([]);
    expect(await paperLocations(rig, 5)).toEqual(['box', 'returned', 'returned', 'box', 'box']);
    expect(sheetFeedbacks(rig.events).map((f) => f.outcome)).toEqual(['counted', 'returned', 'counted', 'counted']);
    const alarms = rig.events.flatMap((e) => (e.type === 'alarm' ? [`${e.alarm}:${e.active}`] : []));
    expect(alarms).toEqual(['double-sheet:true', 'double-sheet:false']);
    const after = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'));
    expect([after.summary?.cast, after.summary?.pending, after.summary?.returned]).toEqual([3, 0, 0]);
  });

  it('a poll worker who clears the alarm the moment it sounds (before the station has settled its own record of feeding) still gets the feeder back', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }, { kind: 'normal', n: 2 }, { kind: 'normal', n: 1 }, { kind: 'normal', n: 2 }]);
    const pile = new VoterPile(readDeck(dir));
    pile.allow(3);
    rig = await startRig({ deck: dir, pile, faults: faultsAt({ 1: { kind: 'double-sheet' } }) });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await rig.station.login({ role: 'poll-worker', pin: PINS['poll-worker'] });
    const station = rig.station;
    const cleared: Promise<unknown>[] = [];
    // the clear goes in while the alarm is being raised: ahead of the alarm's own queued feeding update
    const unsubscribe = station.subscribe((e) => {
      if (e.type === 'alarm' && e.alarm === 'double-sheet' && e.active) {
        pile.allow(2); // the voter's two sheets, to feed again one at a time once the feeder is back
        cleared.push(station.command({ command: 'clear-alarm' }));
      }
    });
    // the alarm comes and goes within one turn of the station's queue: wait for the clear itself (bounded)
    for (let i = 0; i < 800 && cleared.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await Promise.all(cleared)).toEqual([{ ok: true, value: { message: 'Cleared.' } }]);
    await stationSettled(station);
    unsubscribe();
    expect(station.status().counts.returned).toBe(1);
    // the station's record of feeding was settled by the clear, not left saying "on" while the feeder was off:
    // the voter's two sheets, fed again one at a time, both count
    const done = await waitForStatus(station, (x) => x.counts.public === 3);
    expect(done.scanner.alarms).toEqual([]);
  });
});
