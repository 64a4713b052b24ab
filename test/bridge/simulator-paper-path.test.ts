import { ManualClock } from '../../firmware-bridge/clock';
import type { Frame } from '../../firmware-bridge/protocol/frame';
import { LinkEndpoint } from '../../firmware-bridge/protocol/link';
import { decodeEvent, decodeResponse, encodeCommand, encodeHello, MsgType, type DeviceCommand, type DeviceEvent, type StatusReport } from '../../firmware-bridge/protocol/messages';
import { deckSource, type DeckSheet } from '../../firmware-bridge/simulator/deck';
import { faultsAt, type FaultPlan } from '../../firmware-bridge/simulator/faults';
import { FirmwareSimulator, realisticTimings } from '../../firmware-bridge/simulator/firmware-simulator';

const sheet: DeckSheet = { name: 'a.png', front: { format: 'png', bytes: Uint8Array.of(1, 2, 3) } };

/** The firmware on a manual clock, wired synchronously to a bare host link end: no real time passes. */
function bench(hostTimeoutMs = 0, faults?: FaultPlan, sheets = 2) {
  const clock = new ManualClock();
  const sim = new FirmwareSimulator({ source: deckSource([sheet], sheets), clock, timings: realisticTimings, autoFeed: true, hostTimeoutMs, ...(faults ? { faults } : {}) });
  const events: DeviceEvent[] = [];
  const statuses: StatusReport[] = [];
  const host = new LinkEndpoint({
    clock,
    send: (b) => sim.receive(b),
    onFrame: (f: Frame) => {
      if (f.type === MsgType.event) {
        const e = decodeEvent(f.payload);
        if (e.ok) events.push(e.value);
      }
      if (f.type === MsgType.response) {
        const r = decodeResponse(f.payload);
        if (r.ok && r.value.body.kind === 'status') statuses.push(r.value.body.status);
      }
    },
  });
  sim.attach((b) => host.receive(b));
  host.sendUnreliable(MsgType.hello, encodeHello({ nonce: 7, minVersion: 1, maxVersion: 1 }));
  let id = 0;
  const command = (c: DeviceCommand): void => void host.sendReliable(MsgType.command, encodeCommand(++id, c));
  const status = (): StatusReport => {
    command({ op: 'status' });
    const s = statuses[statuses.length - 1];
    if (!s) throw new Error('no status');
    return s;
  };
  return { clock, sim, events, command, status };
}

describe('firmware simulator paper path on an injected clock', () => {
  it('moves a sheet through the sensors at the configured timings and drops it only when told', () => {
    const { clock, events, command, status } = bench();
    command({ op: 'enable-feed' });
    clock.advance(realisticTimings.insertMs - 1);
    expect(status()).toMatchObject({ path: 'idle', sensors: 0 });
    clock.advance(1);
    expect(status()).toMatchObject({ path: 'feeding', sensors: 1, sheetsFed: 1 });
    clock.advance(realisticTimings.feedMs);
    expect(status()).toMatchObject({ path: 'scanning', sensors: 2 });
    clock.advance(realisticTimings.scanMs);
    expect(status()).toMatchObject({ path: 'held', sensors: 4, current: { sheetId: 'SIM0001-000001', stage: 'held' } });
    // held means held: an hour later it is still there
    clock.advance(3_600_000);
    expect(status()).toMatchObject({ path: 'held' });
    command({ op: 'accept', sheetId: 'SIM0001-000001' });
    expect(status()).toMatchObject({ path: 'accepting', sensors: 8 });
    clock.advance(realisticTimings.acceptMs);
    expect(events.map((e) => e.kind)).toEqual(['sheet-inserted', 'sheet-held', 'sheet-done']);
    expect(events[2]).toEqual({ kind: 'sheet-done', sheetId: 'SIM0001-000001', outcome: { kind: 'box' } });
    expect(status().recent).toEqual([{ sheetId: 'SIM0001-000001', outcome: { kind: 'box' } }]);
  });

  it('stops feeding when the host falls silent (no paper moves without a station)', () => {
    const { clock, command, status, sim } = bench(5000);
    command({ op: 'enable-feed' });
    expect(sim.state.feedEnabled).toBe(true);
    clock.advance(realisticTimings.insertMs + realisticTimings.feedMs + realisticTimings.scanMs);
    expect(status().path).toBe('held');
    clock.advance(5000 * 2);
    expect(sim.state.feedEnabled).toBe(false);
    expect(sim.state.path).toBe('held');
  });

  it('keeps sheet numbers in non-volatile memory across a power cycle', () => {
    const { clock, command, status, sim } = bench();
    command({ op: 'enable-feed' });
    clock.advance(realisticTimings.insertMs + realisticTimings.feedMs + realisticTimings.scanMs);
    const before = status().bootId;
    sim.powerCycle();
    const s = status();
    expect(s.bootId).not.toBe(before);
    // the paper is still on the hold sensor, but the pictures were in RAM
    expect(s.current).toEqual({ sheetId: 'SIM0001-000001', stage: 'held', images: [] });
    expect(sim.nvram.nextSheetNo).toBe(2);
  });

  it('stops its own feeder on a double feed: the next sheet stays in the tray however late the host answers', () => {
    // the first feed pulls in two sheets; the pile holds two more after them
    const { clock, events, command, status, sim } = bench(0, faultsAt({ 0: { kind: 'double-sheet' } }), 4);
    command({ op: 'enable-feed' });
    clock.advance(realisticTimings.insertMs);
    expect(events.map((e) => e.kind)).toEqual(['sheet-inserted', 'double-sheet']);
    expect(sim.state.feedEnabled).toBe(false);
    // the host is stalled and sends nothing (no disable-feed either): the sheets go back to the voter, and a
    // whole minute later the feeder has still not taken the next one
    clock.advance(realisticTimings.returnMs + realisticTimings.takeMs);
    expect(events.at(-1)).toEqual({ kind: 'sheet-done', sheetId: 'SIM0001-000001', outcome: { kind: 'returned', reason: 'double-sheet' } });
    clock.advance(60_000);
    expect(status()).toMatchObject({ path: 'idle', feedEnabled: false, sheetsFed: 1 });
    expect(events.filter((e) => e.kind === 'sheet-inserted')).toHaveLength(1);
    // only the host's enable-feed (the poll worker cleared the alarm) starts it again
    command({ op: 'enable-feed' });
    clock.advance(realisticTimings.insertMs);
    expect(status()).toMatchObject({ path: 'feeding', feedEnabled: true, sheetsFed: 2, current: { sheetId: 'SIM0001-000002' } });
  });
});
