/**
 * The host's event loop stalls (a tape's PDF, a swapping machine) while the scanner keeps talking: a stall of
 * a few seconds must not look like a lost device. The scanner here is the simulator in its own process on a
 * socat pseudo-terminal, so it really goes on answering while this process is blocked; the stall is a
 * synchronous Atomics.wait, which blocks the event loop without burning the machine's CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ScannerEvent } from '../../firmware-bridge/driver';
import { SerialScannerDriver } from '../../firmware-bridge/serial/serial-driver';
import { makeDeck } from './support/deck';

const root = join(__dirname, '../..');

function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function startScannerProcess(): Promise<{ child: ChildProcess; path: string; exited: Promise<number | null> }> {
  const { dir } = await makeDeck(2, { small: true });
  const child = spawn(process.execPath, [join(root, 'scripts/run-ts.js'), join(root, 'firmware-bridge/simulator/main.ts'), '--deck', dir, '--timings', 'zero'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  return { child, path: (JSON.parse(line) as { path: string }).path, exited };
}

/** Resolves after `n` heartbeat answers have reached the driver: time measured in the link's own traffic. */
function heartbeats(driver: SerialScannerDriver, n: number): Promise<void> {
  const start = driver.stats.link.frames;
  return new Promise((resolve) => {
    const poll = (): void => {
      if (driver.stats.link.frames - start >= n) resolve();
      else setTimeout(poll, 50);
    };
    poll();
  });
}

describe('a stall of the host', () => {
  let scanner: Awaited<ReturnType<typeof startScannerProcess>> | undefined;
  let driver: SerialScannerDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    if (scanner && scanner.child.exitCode === null) {
      scanner.child.kill('SIGTERM');
      await scanner.exited;
    }
  });

  it('of 4 s does not drop the link, fail the command that was waiting, or stop the scanner feeding', async () => {
    scanner = await startScannerProcess();
    const events: ScannerEvent['type'][] = [];
    const logs: string[] = [];
    driver = new SerialScannerDriver({ path: scanner.path, log: (m) => logs.push(m) });
    const done: string[] = [];
    driver.on((e) => {
      events.push(e.type);
      if (e.type === 'sheet-scanned') void driver?.accept(e.sheetId);
      if (e.type === 'sheet-done') done.push(e.sheetId);
    });
    expect((await driver.connect()).ok).toBe(true);
    await heartbeats(driver, 3);
    // a command goes out, then the host freezes for longer than the command timeout (3 s) and the silence
    // limit (2 s); the device answers at once, but the answer sits unread until the loop wakes
    const status = driver.status();
    blockEventLoop(4000);
    const answered = await status;
    expect(answered.ok).toBe(true);
    // the link lives on well past the 2 s limit after the stall, the heartbeats flowing again
    await heartbeats(driver, 12);
    expect(events).not.toContain('disconnected');
    expect(logs.filter((l) => l.startsWith('link lost'))).toEqual([]);
    expect(driver.connected).toBe(true);
    // and the scanner takes ballots as before
    expect((await driver.enableFeeding()).ok).toBe(true);
    await new Promise<void>((resolve) => {
      const check = (): void => (done.length >= 2 ? resolve() : void setTimeout(check, 20));
      check();
    });
    expect(events).not.toContain('disconnected');
  }, 60_000);

  it('again and again while connecting does not keep the hello handshake from completing', async () => {
    scanner = await startScannerProcess();
    const logs: string[] = [];
    driver = new SerialScannerDriver({ path: scanner.path, log: (m) => logs.push(m) });
    // a loaded host: the loop is blocked 300 ms at a time with a few ms awake between, so every 200 ms hello
    // timer falls due during a block and runs before the loop can read the answer waiting for it
    const stalls = setInterval(() => blockEventLoop(300), 1);
    let connected: Awaited<ReturnType<SerialScannerDriver['connect']>>;
    try {
      connected = await driver.connect();
    } finally {
      clearInterval(stalls);
    }
    expect(connected).toEqual(expect.objectContaining({ ok: true }));
    expect(driver.connected).toBe(true);
  }, 60_000);

  it('is not how an unplugged scanner is judged: the closed pseudo-terminal raises the alarm at once', async () => {
    scanner = await startScannerProcess();
    driver = new SerialScannerDriver({ path: scanner.path });
    const lost = new Promise<{ at: number; reason: string }>((resolve) => {
      driver?.on((e) => {
        if (e.type === 'disconnected') resolve({ at: Date.now(), reason: e.reason });
      });
    });
    expect((await driver.connect()).ok).toBe(true);
    await heartbeats(driver, 2);
    // the simulator process stops its socat: both ends of the pseudo-terminal vanish, as when the cable is pulled
    const pulledAt = Date.now();
    scanner.child.kill('SIGTERM');
    const l = await lost;
    expect(l.reason).toMatch(/port|no frame/);
    // within the 2 s silence limit at the latest (the closed port itself is usually reported at once)
    expect(l.at - pulledAt).toBeLessThan(2500);
    expect(driver.connected).toBe(false);
  }, 60_000);
});
