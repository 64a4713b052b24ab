import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { StationStatus } from '../../app/station/api';
import type { MotorTimings } from '../../firmware-bridge/simulator/firmware-simulator';
import { zeroTimings } from '../../firmware-bridge/simulator/firmware-simulator';
import type { Clock } from '../../firmware-bridge/clock';
import { systemClock } from '../../firmware-bridge/clock';
import type { SimulatedScanner } from '../../firmware-bridge/simulator/start';
import { startSimulatedScanner } from '../../firmware-bridge/simulator/start';
import { tempDir } from '../support/ballots';
import { electionKeysFile, writeSheets } from './support/rig';

jest.setTimeout(300_000);

const ROOT = path.join(__dirname, '..', '..');

/** The station process: its last status, and a way to wait for one. */
class Child {
  status: StationStatus | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { pred: (s: StationStatus) => boolean; resolve: (s: StationStatus) => void }[] = [];
  stderr = '';

  /** resolves once the station process logged a line containing `text` */
  logged(text: string): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.stderr.includes(text)) resolve();
        else setTimeout(check, 20);
      };
      check();
    });
  }

  constructor(readonly proc: ChildProcess) {
    // POWER_DEBUG=1 echoes the child's statuses and log as the test runs: a hang then shows where it stopped
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (process.env.POWER_DEBUG) process.stderr.write(`child: ${line}\n`);
      const msg = JSON.parse(line) as { status?: StationStatus };
      if (msg.status === undefined) return;
      this.status = msg.status;
      for (const w of [...this.waiters]) {
        if (w.pred(msg.status)) {
          this.waiters = this.waiters.filter((x) => x !== w);
          w.resolve(msg.status);
        }
      }
    });
    proc.stderr!.on('data', (b: Buffer) => {
      this.stderr += b.toString();
      if (process.env.POWER_DEBUG) process.stderr.write(b);
    });
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  }

  waitFor(pred: (s: StationStatus) => boolean): Promise<StationStatus> {
    if (this.status !== undefined && pred(this.status)) return Promise.resolve(this.status);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }
}

function startChild(scanner: SimulatedScanner, dataDir: string, crash?: { on: number; at: 'before-accept' | 'after-accept' }): Child {
  const env = { ...process.env, ...(crash ? { CRASH_ON: String(crash.on), CRASH_AT: crash.at } : {}) };
  const proc = spawn(process.execPath, [path.join(ROOT, 'scripts', 'run-ts.js'), path.join(__dirname, 'support', 'station-child.ts'), scanner.path, dataDir, electionKeysFile()], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Child(proc);
}

interface LedgerView {
  cast: string[];
  returned: string[];
  pending: number;
}
function ledgerView(dataDir: string): LedgerView {
  const cast: string[] = [];
  const returned: string[] = [];
  const r = verifyLedgerFile(dataLayout(dataDir).ledger('official'), {}, { onCast: (rec) => cast.push(rec.ballotId), onReturned: (_rec, reason) => returned.push(reason) });
  expect(r.ok).toBe(true);
  return { cast, returned, pending: r.summary?.pending ?? -1 };
}

let scanner: SimulatedScanner | undefined;
afterEach(async () => {
  await scanner?.stop();
  scanner = undefined;
});

/** The system clock, except that the ballot's fall into the box waits until the test lets it go. */
const FALL_MS = 3333;
class GatedClock implements Clock {
  private held: (() => void)[] = [];
  now(): number {
    return Date.now();
  }
  after(ms: number, fn: () => void): () => void {
    if (ms !== FALL_MS) return systemClock.after(ms, fn);
    let cancelled = false;
    this.held.push(() => cancelled || fn());
    return () => {
      cancelled = true;
    };
  }
  release(): void {
    for (const fn of this.held.splice(0)) fn();
  }
}

async function crashRun(deckDir: string, crash: { on: number; at: 'before-accept' | 'after-accept' }, timings: MotorTimings = zeroTimings, clock: Clock = systemClock): Promise<string> {
  scanner = await startSimulatedScanner({ deckDir, timings, clock });
  const dataDir = tempDir('station-power');
  const first = startChild(scanner, dataDir, crash);
  await first.waitFor(() => true);
  first.send('open');
  const end = await first.exited;
  expect(end.signal).toBe('SIGKILL');
  return dataDir;
}

describe('power loss between the pending record and the count', () => {
  it.each([
    ['the station and the scanner', true],
    ['only the station (the scanner keeps the sheet held)', false],
  ])('%s lose power before the drop: the restart gives the ballot back, the voter feeds it again, it counts once', async (_what, scannerToo) => {
    // the fourth sheet is the second ballot fed again
    const { dir, truth } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }, { kind: 'normal', n: 2 }, { kind: 'normal', n: 1 }]);
    const dataDir = await crashRun(dir, { on: 2, at: 'before-accept' });
    const mid = ledgerView(dataDir);
    expect(mid.cast).toEqual([truth[0]!.serial]);
    expect(mid.pending).toBe(1);
    if (scannerToo) scanner!.simulator.powerCycle();

    const second = startChild(scanner!, dataDir);
    const s = await second.waitFor((x) => x.attention !== null && !x.attention.startsWith('The station stopped'));
    expect(s.attention).toContain(`Ballot ${truth[1]!.serial} was not counted. Take it from the scanner's return tray and have the voter feed it again.`);
    expect(s.counts.public).toBe(1);
    expect(ledgerView(dataDir)).toMatchObject({ pending: 0, returned: ['reconciled:returned'] });
    second.send('clear');
    const done = await second.waitFor((x) => x.counts.public === 3);
    expect(done.attention).toBeNull();
    second.send('exit');
    expect((await second.exited).code).toBe(0);
    const end = ledgerView(dataDir);
    expect(end.cast.sort()).toEqual([truth[0]!.serial, truth[1]!.serial, truth[2]!.serial].sort());
    expect(end.pending).toBe(0);
  });

  it('after the drop was asked, while the ballot is still falling: the restart waits for the scanner and counts it', async () => {
    const { dir, truth } = await writeSheets([{ kind: 'normal', n: 0 }]);
    const clock = new GatedClock();
    const dataDir = await crashRun(dir, { on: 1, at: 'after-accept' }, { ...zeroTimings, acceptMs: FALL_MS }, clock);
    expect(ledgerView(dataDir)).toMatchObject({ cast: [], pending: 1 });
    expect(scanner!.simulator.state.path).toBe('accepting');
    const second = startChild(scanner!, dataDir);
    // the new station found the pending ballot and asks the scanner, which is still dropping it
    await second.logged('reconciling: asking the scanner about sheet');
    clock.release();
    const s = await second.waitFor((x) => x.attention !== null && !x.attention.startsWith('The station stopped'));
    expect(s.attention).toContain(`Ballot ${truth[0]!.serial} is in the box and is now counted.`);
    expect(s.counts.public).toBe(1);
    second.send('exit');
    await second.exited;
    expect(ledgerView(dataDir)).toMatchObject({ cast: [truth[0]!.serial], pending: 0, returned: [] });
  });

  it('after the ballot dropped while no station listened: the scanner remembers it reached the box, so the new station counts it once', async () => {
    const { dir, truth } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }]);
    const dataDir = await crashRun(dir, { on: 2, at: 'after-accept' });
    expect(ledgerView(dataDir)).toMatchObject({ cast: [truth[0]!.serial], pending: 1 });
    const second = startChild(scanner!, dataDir);
    const s = await second.waitFor((x) => x.attention !== null && !x.attention.startsWith('The station stopped'));
    expect(s.attention).toContain(`Ballot ${truth[1]!.serial} is in the box and is now counted.`);
    expect(s.counts.public).toBe(2);
    second.send('exit');
    await second.exited;
    // counted exactly once, on the scanner's word
    expect(ledgerView(dataDir)).toMatchObject({ cast: [truth[0]!.serial, truth[1]!.serial], pending: 0, returned: [] });
  });
});
