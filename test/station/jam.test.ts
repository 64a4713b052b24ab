import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { faultsAt } from '../../firmware-bridge/simulator/faults';
import type { Rig } from './support/rig';
import { PINS, captainDoes, paperLocations, startRig, waitForStatus, writeSheets } from './support/rig';

let deckDir: string;
beforeAll(async () => {
  deckDir = (await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }, { kind: 'normal', n: 2 }])).dir;
});

let rig: Rig;
afterEach(async () => rig?.stop());

function ledgerView(dataDir: string): { returned: string[]; events: AuditEvent[]; cast: number } {
  const returned: string[] = [];
  const events: AuditEvent[] = [];
  const r = verifyLedgerFile(dataLayout(dataDir).ledger('official'), {}, { onReturned: (_rec, reason) => returned.push(reason), onEvent: (e) => events.push(e) });
  expect(r.ok).toBe(true);
  return { returned, events, cast: r.summary?.cast ?? -1 };
}

describe('a jam', () => {
  it('while the ballot drops: recorded pending, never counted; the poll worker is told what to look for, then the day goes on', async () => {
    rig = await startRig({ deck: deckDir, faults: faultsAt({ 1: { kind: 'jam', stage: 'accepting' } }) });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('jam'));
    expect(rig.station.status().counts.public).toBe(1);
    // the poll worker opens the path and takes the sheet out
    rig.sim.clearJam();
    const stopped = await waitForStatus(rig.station, (s) => s.attention !== null && !s.scanner.alarms.includes('jam'));
    expect(stopped.attention).toMatch(/was not counted: the scanner stopped \(jam\) while the ballot was accepting/);
    expect(stopped.sheet?.reasons[0]?.code).toBe('scanner-stopped');
    expect(stopped.counts.public).toBe(1);
    // recorded as returned in the ledger: the staff screen's "Returned" says so too (it said 0)
    expect(stopped.counts.returned).toBe(1);
    // no ballot is taken until the poll worker has dealt with it
    expect((await rig.station.command({ command: 'clear-alarm' })).ok).toBe(false);
    await rig.station.login({ role: 'poll-worker', pin: PINS['poll-worker'] });
    expect(await rig.station.command({ command: 'clear-alarm' })).toEqual({ ok: true, value: { message: 'Cleared.' } });
    const done = await waitForStatus(rig.station, (s) => s.counts.public === 2);
    expect(done.attention).toBeNull();
    expect(await paperLocations(rig, 3)).toEqual(['box', 'removed-by-poll-worker', 'box']);
    const l = ledgerView(rig.dataDir);
    expect(l.cast).toBe(2);
    expect(l.returned).toEqual(['scanner-stopped:jam']);
    expect(l.events.filter((e) => e.type === 'scanner-jam')).toHaveLength(1);
    const alarms = rig.events.flatMap((e) => (e.type === 'alarm' ? [`${e.alarm}:${e.active}`] : []));
    expect(alarms).toEqual(['jam:true', 'jam:false']);
  });

  it('before the scan: no record is made and the next ballots count without the poll worker', async () => {
    rig = await startRig({ deck: deckDir, faults: faultsAt({ 1: { kind: 'jam', stage: 'scanning' } }) });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('jam'));
    rig.sim.clearJam();
    const s = await waitForStatus(rig.station, (x) => x.counts.public === 2);
    expect(s.attention).toBeNull();
    expect(await paperLocations(rig, 3)).toEqual(['box', 'removed-by-poll-worker', 'box']);
    expect(ledgerView(rig.dataDir).returned).toEqual([]);
  });
});
