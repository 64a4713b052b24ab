import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../firmware-bridge/clock';
import type { ScannerEvent } from '../../firmware-bridge/driver';
import { SerialScannerDriver } from '../../firmware-bridge/serial/serial-driver';
import { deckSource, type DeckSheet } from '../../firmware-bridge/simulator/deck';
import { FirmwareSimulator } from '../../firmware-bridge/simulator/firmware-simulator';
import { mockLink } from '../../firmware-bridge/simulator/mock-port';
import { startPtyPair } from '../../firmware-bridge/simulator/pty';
import { makeDeck } from './support/deck';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(1, { small: true })).deck;
});

function setup(count = 1) {
  const sim = new FirmwareSimulator({ source: deckSource(deck, count), clock: systemClock, autoFeed: true });
  const link = mockLink(sim);
  const events: ScannerEvent[] = [];
  const driver = new SerialScannerDriver({ path: link.path, opener: link.opener, heartbeatMs: 100, deadAfterMs: 400, reconnectMs: 50, commandTimeoutMs: 300 });
  driver.on((e) => events.push(e));
  return { sim, link, driver, events };
}

function waitFor(events: ScannerEvent[], pred: (e: ScannerEvent) => boolean, driver: SerialScannerDriver): Promise<ScannerEvent> {
  const found = events.find(pred);
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const off = driver.on((e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}

describe('serial driver', () => {
  it('says which path it cannot open', async () => {
    const d = new SerialScannerDriver({ path: '/dev/does-not-exist-tallyproof' });
    const r = await d.connect();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.kind === 'io' && r.error.detail).toContain('/dev/does-not-exist-tallyproof');
  });

  it('gives up the handshake with a timeout when nothing answers on the pty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-silent-'));
    const pty = await startPtyPair(dir);
    try {
      const d = new SerialScannerDriver({ path: pty.hostPath, handshakeTries: 3, handshakeRetryMs: 50 });
      await expect(d.connect()).resolves.toEqual({ ok: false, error: { kind: 'timeout', command: 'hello', ms: 150 } });
      await d.close();
    } finally {
      await pty.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a device that speaks none of its protocol versions', async () => {
    const sim = new FirmwareSimulator({ source: deckSource(deck, 0), clock: systemClock });
    const link = mockLink(sim);
    const d = new SerialScannerDriver({ path: link.path, opener: link.opener, versions: { min: 2, max: 3 } });
    await expect(d.connect()).resolves.toEqual({ ok: false, error: { kind: 'io', detail: 'device speaks no protocol version in 2..3' } });
    await d.close();
    sim.shutdown();
  });

  it('connects, reports device info, status and calibration, and rejects unknown sheets', async () => {
    const { sim, driver } = setup(0);
    const info = await driver.connect();
    expect(info).toEqual({ ok: true, value: { driver: 'serial', model: 'TP-SIM-1', serial: 'SIM0001', firmware: '1.0.0-sim', protocolVersion: 1 } });
    const st = await driver.status();
    expect(st).toEqual({ ok: true, value: { connected: true, feeding: false, path: 'idle', coverOpen: false, boxFull: false, openSheets: [], recent: [] } });
    const cal = await driver.calibrate();
    expect(cal.ok && cal.value.sensors).toEqual({ entry: 12, 'scan-head': 14, hold: 11, 'box-chute': 13, exit: 12 });
    await expect(driver.accept('SIM0001-999999')).resolves.toEqual({ ok: false, error: { kind: 'unknown-sheet', sheetId: 'SIM0001-999999' } });
    await driver.close();
    sim.shutdown();
  });

  it('scans one sheet on command and reports it with its image', async () => {
    const { sim, driver, events } = setup(1);
    await driver.connect();
    await expect(driver.scan()).resolves.toEqual({ ok: true, value: undefined });
    const scanned = await waitFor(events, (e) => e.type === 'sheet-scanned', driver);
    expect(scanned.type === 'sheet-scanned' && Buffer.from(scanned.front.bytes).equals(Buffer.from(deck[0]?.front.bytes ?? []))).toBe(true);
    expect(scanned.type === 'sheet-scanned' && scanned.back).toBeUndefined();
    if (scanned.type !== 'sheet-scanned') throw new Error('unreachable');
    // accept before the scan finished is impossible; after, it is idempotent while the sheet moves
    await expect(driver.accept(scanned.sheetId)).resolves.toEqual({ ok: true, value: undefined });
    const done = await waitFor(events, (e) => e.type === 'sheet-done', driver);
    expect(done).toEqual({ type: 'sheet-done', sheetId: scanned.sheetId, outcome: { kind: 'box' } });
    await expect(driver.returnSheet(scanned.sheetId)).resolves.toEqual({ ok: false, error: { kind: 'unknown-sheet', sheetId: scanned.sheetId } });
    await driver.close();
    sim.shutdown();
  });

  it('a sheet told to drop finishes while no host listens; the next host learns from the device that it reached the box', async () => {
    const { sim, link, driver, events } = setup(2);
    await driver.connect();
    await driver.scan();
    const scanned = await waitFor(events, (e) => e.type === 'sheet-scanned', driver);
    if (scanned.type !== 'sheet-scanned') throw new Error('unreachable');
    await expect(driver.accept(scanned.sheetId)).resolves.toEqual({ ok: true, value: undefined });
    await driver.close(); // the station process dies right after the drop command
    await new Promise((r) => setTimeout(r, 300)); // the paper keeps moving into the box
    const next = new SerialScannerDriver({ path: link.path, opener: link.opener, heartbeatMs: 100, deadAfterMs: 400, reconnectMs: 50, commandTimeoutMs: 300 });
    await next.connect();
    const st = await next.status();
    expect(st.ok && st.value.openSheets).toEqual([]);
    expect(st.ok && st.value.recent).toEqual([{ sheetId: scanned.sheetId, outcome: { kind: 'box' } }]);
    await next.close();
    sim.shutdown();
  });

  it('times out a command the device never answers, bounds waiting commands, then notices the dead link and comes back', async () => {
    const { sim, link, driver, events } = setup(0);
    await driver.connect();
    sim.detach(); // the firmware hangs: bytes still go in, nothing comes out
    const waiting = [driver.status(), driver.status()];
    const many = await Promise.all([...waiting, ...Array.from({ length: 16 }, () => driver.status())]);
    expect(many[0]).toEqual({ ok: false, error: { kind: 'timeout', command: 'status', ms: 300 } });
    expect(many.some((r) => !r.ok && r.error.kind === 'busy')).toBe(true);
    await waitFor(events, (e) => e.type === 'disconnected', driver);
    await waitFor(events, (e) => e.type === 'reconnected', driver);
    expect(events.find((e) => e.type === 'reconnected')).toEqual({ type: 'reconnected', powerCycled: false });
    await expect(driver.status()).resolves.toMatchObject({ ok: true, value: { connected: true } });
    expect(driver.stats.commandTimeouts).toBeGreaterThan(0);
    link.plug();
    await driver.close();
    sim.shutdown();
  });

  it('answers disconnected, not a hang, while the device is unplugged', async () => {
    const { sim, link, driver, events } = setup(0);
    await driver.connect();
    link.unplug();
    await waitFor(events, (e) => e.type === 'disconnected', driver);
    await expect(driver.enableFeeding()).resolves.toEqual({ ok: false, error: { kind: 'disconnected' } });
    const st = await driver.status();
    expect(st.ok && st.value.connected).toBe(false);
    link.plug();
    await waitFor(events, (e) => e.type === 'reconnected', driver);
    await expect(driver.enableFeeding()).resolves.toEqual({ ok: true, value: undefined });
    await driver.close();
    sim.shutdown();
  });
});
