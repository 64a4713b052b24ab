import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import type { BallotRecord } from '../../app/ledger/record';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import { faultsAt } from '../../firmware-bridge/simulator/faults';
import type { Rig } from './support/rig';
import { VoterPile, captainDoes, paperLocations, sheetFeedbacks, startRig, stationSettled, waitForStatus, writeSheets } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

interface LedgerView {
  cast: BallotRecord[];
  pending: number;
  returned: string[];
  events: AuditEvent[];
}

function ledgerView(dataDir: string): LedgerView {
  const cast: BallotRecord[] = [];
  const returned: string[] = [];
  const events: AuditEvent[] = [];
  const r = verifyLedgerFile(dataLayout(dataDir).ledger('official'), {}, { onCast: (rec) => cast.push(rec), onReturned: (_rec, reason) => returned.push(reason), onEvent: (e) => events.push(e) });
  expect(r.ok).toBe(true);
  expect(r.summary?.cast).toBe(cast.length);
  return { cast, pending: r.summary?.pending ?? -1, returned, events };
}

const alarmLog = (r: Rig): string[] => r.events.flatMap((e) => (e.type === 'alarm' ? [`${e.alarm}:${e.active}`] : []));
const eventTypes = (v: LedgerView): string[] => v.events.map((e) => e.type).filter((t) => t.startsWith('scanner-'));

describe('the scanner link drops', () => {
  it('while the polls open: the feeder is started once the scanner is back, and the ballot counts', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }]);
    const pile = new VoterPile(readDeck(dir));
    rig = await startRig({ deck: dir, pile });
    rig.link.unplug();
    await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('disconnected'));
    // the captain opens the polls with the cable out: nothing to tell the feeder yet
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    expect(rig.station.status()).toMatchObject({ polls: 'open', scanner: { connected: false, alarms: ['disconnected'] } });
    pile.allow(1);
    rig.link.plug();
    const up = await waitForStatus(rig.station, (s) => s.counts.public === 1);
    expect(up.scanner).toMatchObject({ connected: true, alarms: [] });
    expect(await paperLocations(rig, 1)).toEqual(['box']);
  });

  it('between ballots: alarm and cue, the scanner shows disconnected, and the next ballot counts once it is back', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }]);
    const pile = new VoterPile(readDeck(dir));
    pile.allow(1);
    rig = await startRig({ deck: dir, pile });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await waitForStatus(rig.station, (s) => s.counts.public === 1);

    rig.link.unplug();
    const down = await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('disconnected'));
    expect(down.scanner.connected).toBe(false);
    expect(down.scanner.state).toMatch(/^disconnected: /);
    expect(rig.events.some((e) => e.type === 'cue' && e.cue === 'alarm')).toBe(true);
    expect(eventTypes(ledgerView(rig.dataDir))).toEqual(['scanner-connected', 'scanner-disconnected']);

    // the next voter's sheet waits in the throat until the scanner is back
    pile.allow(1);
    rig.link.plug();
    const up = await waitForStatus(rig.station, (s) => s.counts.public === 2);
    expect(up.scanner).toMatchObject({ connected: true, state: 'ready', alarms: [] });
    expect(alarmLog(rig)).toEqual(['disconnected:true', 'disconnected:false']);
    expect(await paperLocations(rig, 2)).toEqual(['box', 'box']);
    const l = ledgerView(rig.dataDir);
    expect([l.cast.length, l.pending, l.returned]).toEqual([2, 0, []]);
    expect(eventTypes(l)).toEqual(['scanner-connected', 'scanner-disconnected', 'scanner-connected']);
  });

  it('while a sheet is held and while one drops into the box: each ballot counts exactly once after the reconnect', async () => {
    const { dir } = await writeSheets([0, 1, 2, 3].map((n) => ({ kind: 'normal' as const, n })));
    rig = await startRig({ deck: dir, unplugOnLinkFault: true, faults: faultsAt({ 1: { kind: 'disconnect', at: 'held' }, 2: { kind: 'disconnect', at: 'accepting' } }) });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');

    // the cable comes out with the second sheet held in the scanner, its images perhaps half across
    const first = await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('disconnected'));
    expect(first.counts.public).toBe(1);
    expect(rig.sim.state).toMatchObject({ path: 'held', sheetId: 'SIM0001-000002' });
    await stationSettled(rig.station);
    // whatever the station had done with it, the ballot is not counted while the scanner holds it
    expect(ledgerView(rig.dataDir).cast).toHaveLength(1);
    expect(rig.station.status().counts.public).toBe(1);
    rig.link.plug();
    await waitForStatus(rig.station, (s) => s.counts.public >= 2 && !s.scanner.alarms.includes('disconnected'));

    // the third comes out as the sheet falls into the box: the scanner tells of the drop once it is back
    await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('disconnected'));
    await stationSettled(rig.station);
    const during = ledgerView(rig.dataDir);
    expect(rig.station.status().counts.public).toBe(during.cast.length);
    expect(during.cast.length + during.pending).toBeLessThanOrEqual(4);
    rig.link.plug();

    const done = await waitForStatus(rig.station, (s) => s.counts.public === 4);
    expect(done.scanner.alarms).toEqual([]);
    expect(await paperLocations(rig, 4)).toEqual(['box', 'box', 'box', 'box']);
    const l = ledgerView(rig.dataDir);
    expect([l.cast.length, l.pending, l.returned]).toEqual([4, 0, []]);
    expect(new Set(l.cast.map((r) => r.ballotId)).size).toBe(4);
    expect(alarmLog(rig)).toEqual(['disconnected:true', 'disconnected:false', 'disconnected:true', 'disconnected:false']);
    expect(sheetFeedbacks(rig.events).map((f) => f.outcome)).toEqual(['counted', 'counted', 'counted', 'counted']);
  });

  it('while a held ballot waits for the voter, who casts it as is meanwhile: recorded pending, counted only once the reconnected scanner drops it', async () => {
    const { dir } = await writeSheets([{ kind: 'overvote' }, { kind: 'normal' }]);
    rig = await startRig({ deck: dir });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    const held = await waitForStatus(rig.station, (s) => s.sheet?.outcome === 'awaiting-voter');
    const sheetId = held.sheet?.sheetId ?? '';

    rig.link.unplug();
    await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('disconnected'));
    const cast = await rig.station.voterDecision({ sheetId, decision: 'cast-as-is' });
    // the choice is made: the screen says the ballot waits for the box, with no cast-as-is button left
    expect(cast).toEqual({ ok: true, value: { sheetId, outcome: 'dropping', reasons: [], canCastAsIs: false } });
    expect(rig.station.status().sheet).toEqual({ sheetId, outcome: 'dropping', reasons: [], canCastAsIs: false });
    // recorded (durably pending), not counted: the drop waits for the scanner
    const waiting = ledgerView(rig.dataDir);
    expect([waiting.cast.length, waiting.pending]).toEqual([0, 1]);
    expect(rig.station.status().counts.public).toBe(0);
    expect(rig.sim.state).toMatchObject({ path: 'held', sheetId });
    // a second press of the button does not record it again
    expect((await rig.station.voterDecision({ sheetId, decision: 'cast-as-is' })).ok).toBe(false);

    rig.link.plug();
    const done = await waitForStatus(rig.station, (s) => s.counts.public === 2);
    expect(done.counts).toEqual({ public: 2, lifetime: 2, returned: 0, rejected: 0, castAsIs: 1 });
    expect(await paperLocations(rig, 2)).toEqual(['box', 'box']);
    const l = ledgerView(rig.dataDir);
    expect([l.cast.length, l.pending, l.returned]).toEqual([2, 0, []]);
    expect(l.cast.map((r) => r.castAsIs)).toEqual([true, false]);
    expect(alarmLog(rig)).toEqual(['disconnected:true', 'disconnected:false']);
    // the voter saw: held, waiting for the box, counted
    expect(sheetFeedbacks(rig.events).filter((f) => f.sheetId === sheetId).map((f) => f.outcome)).toEqual(['awaiting-voter', 'dropping', 'counted']);
  });
});
