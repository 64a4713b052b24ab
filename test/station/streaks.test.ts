import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import type { Rig, SheetSpec } from './support/rig';
import { PINS, VoterPile, captainDoes, paperLocations, sheetFeedbacks, startRig, stationSettled, waitForStatus, writeSheets } from './support/rig';

let rig: Rig;
afterEach(async () => rig?.stop());

const streaked = (n: number): SheetSpec => ({ kind: 'normal', n, streaks: true });
const clean = (n: number): SheetSpec => ({ kind: 'normal', n });

function ledgerView(dataDir: string): { cast: number; pending: number; rejections: string[] } {
  const events: AuditEvent[] = [];
  const r = verifyLedgerFile(dataLayout(dataDir).ledger('official'), {}, { onEvent: (e) => events.push(e) });
  expect(r.ok).toBe(true);
  return { cast: r.summary?.cast ?? -1, pending: r.summary?.pending ?? -1, rejections: events.filter((e) => e.type === 'ballot-rejected').map((e) => String(e.detail['reason'])) };
}

const alarmLog = (r: Rig): string[] => r.events.flatMap((e) => (e.type === 'alarm' ? [`${e.alarm}:${e.active}`] : []));

/** Starts a station on these sheets (all in the voters' pile at once) and opens the polls. */
async function start(specs: readonly SheetSpec[], streakAlarmAfter?: number): Promise<void> {
  const { dir, truth } = await writeSheets(specs);
  // the deck draws the streaks the reader must catch
  expect(truth.map((t) => t.expected.reasons.includes('scanner-streaks'))).toEqual(specs.map((s) => s.streaks === true));
  const pile = new VoterPile(readDeck(dir));
  pile.allow(specs.length);
  rig = await startRig({ deck: dir, pile, ...(streakAlarmAfter === undefined ? {} : { streakAlarmAfter }) });
  await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
}

/** The poll worker cleans the glass and clears the alarm. */
async function pollWorkerClears(): Promise<void> {
  expect((await rig.station.login({ role: 'poll-worker', pin: PINS['poll-worker'] })).ok).toBe(true);
  expect(await rig.station.command({ command: 'clear-alarm' })).toEqual({ ok: true, value: { message: 'Cleared.' } });
  await rig.station.logout();
}

describe('scanner streaks', () => {
  it('reject the sheet with the streak reason and raise the alarm at once by default; the scanner takes no sheet until a poll worker clears it', async () => {
    await start([streaked(0), clean(1)]);
    const s = await waitForStatus(rig.station, (x) => x.scanner.alarms.includes('streaks') && x.counts.rejected === 1);
    // what the poll worker sees: the alarm, and beside the sheet's reason what to do
    expect(s.scanner.alarms).toEqual(['streaks']);
    expect(s.sheet?.outcome).toBe('rejected');
    expect(s.sheet?.canCastAsIs).toBe(false);
    expect(s.sheet?.reasons.map((r) => r.code)).toEqual(['scanner-streaks']);
    expect(s.sheet?.reasons[0]?.voter).toBe('The scanner needs cleaning. Please ask a poll worker.');
    expect(s.sheet?.reasons[0]?.pollWorker).toMatch(/clean the scanner glass/);
    expect(s.counts).toMatchObject({ public: 0, rejected: 1 });
    await stationSettled(rig.station);
    // the next voter's sheet stays in the throat: the feeder stopped before the streaked sheet went back
    expect(rig.sim.state.feedEnabled).toBe(false);
    expect(await paperLocations(rig, 1)).toEqual(['returned']);
    expect(rig.events.flatMap((e) => (e.type === 'cue' ? [e.cue] : []))).toEqual(['alarm', 'rejected']);

    await pollWorkerClears();
    const done = await waitForStatus(rig.station, (x) => x.counts.public === 1);
    expect(done.scanner.alarms).toEqual([]);
    expect(await paperLocations(rig, 2)).toEqual(['returned', 'box']);
    expect(alarmLog(rig)).toEqual(['streaks:true', 'streaks:false']);
    expect(ledgerView(rig.dataDir)).toEqual({ cast: 1, pending: 0, rejections: ['scanner-streaks'] });
  });

  it('with streakAlarmAfter 2: one streaked sheet is only rejected; two in a row raise the alarm; a clean sheet between starts the count again', async () => {
    await start([streaked(0), clean(1), streaked(2), streaked(3), clean(4)], 2);
    const s = await waitForStatus(rig.station, (x) => x.scanner.alarms.includes('streaks') && x.counts.rejected === 3);
    expect(s.counts).toMatchObject({ public: 1, rejected: 3 });
    await stationSettled(rig.station);
    expect(rig.sim.state.feedEnabled).toBe(false);
    expect(await paperLocations(rig, 4)).toEqual(['returned', 'box', 'returned', 'returned']);
    // the alarm came with the fourth sheet, not before
    expect(sheetFeedbacks(rig.events).map((f) => `${f.outcome}:${f.reasons.map((r) => r.code).join(',')}`)).toEqual(['rejected:scanner-streaks', 'counted:', 'rejected:scanner-streaks', 'rejected:scanner-streaks']);
    const cues = rig.events.flatMap((e) => (e.type === 'cue' ? [e.cue] : []));
    expect(cues).toEqual(['rejected', 'counted', 'rejected', 'alarm', 'rejected']);

    await pollWorkerClears();
    const done = await waitForStatus(rig.station, (x) => x.counts.public === 2);
    expect(done.scanner.alarms).toEqual([]);
    expect(await paperLocations(rig, 5)).toEqual(['returned', 'box', 'returned', 'returned', 'box']);
    expect(ledgerView(rig.dataDir)).toEqual({ cast: 2, pending: 0, rejections: ['scanner-streaks', 'scanner-streaks', 'scanner-streaks'] });
  });
});
