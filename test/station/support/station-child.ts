/**
 * A station in its own process, for the power-loss test: it runs on the simulated scanner's pty and can be
 * made to die by SIGKILL at the N-th drop, just before asking the scanner to drop the ballot (the ledger
 * holds it pending) or just after the scanner acknowledged the drop (before the ledger counts it).
 * argv: <pty path> <data dir> <election public keys file>; env CRASH_ON=<n>, CRASH_AT=before-accept|after-accept.
 * Prints one JSON status per line; reads commands (open, clear, exit) from stdin.
 */
import readline from 'node:readline';
import type { ScannerDriver } from '../../../firmware-bridge/driver';
import { SerialScannerDriver } from '../../../firmware-bridge/serial/serial-driver';
import { startStation } from '../../../app/station/station';
import { ELECTION, PASSPHRASE, PINS, PRECINCT } from './constants';

const [ptyPath, dataDir, keysFile] = process.argv.slice(2) as [string, string, string];
const crashOn = Number(process.env.CRASH_ON ?? 0);
const crashAt = process.env.CRASH_AT ?? '';

const log = process.env.STATION_LOG ? (m: string) => process.stderr.write(`${Date.now() % 100000} ${m}\n`) : undefined;
const driver = new SerialScannerDriver({ ...(log ? { log } : {}), path: ptyPath, heartbeatMs: 200, deadAfterMs: 5000, reconnectMs: 50, commandTimeoutMs: 10_000 });
/** distinct sheets asked to drop, in order: a retried drop of the same sheet is not a new one */
const sheets: string[] = [];
const scanner: ScannerDriver = {
  capabilities: driver.capabilities,
  connect: () => driver.connect(),
  enableFeeding: () => driver.enableFeeding(),
  disableFeeding: () => driver.disableFeeding(),
  scan: () => driver.scan(),
  returnSheet: (id) => driver.returnSheet(id),
  status: () => driver.status(),
  calibrate: () => driver.calibrate(),
  on: (l) => driver.on(l),
  close: () => driver.close(),
  async accept(id) {
    if (!sheets.includes(id)) sheets.push(id);
    const nth = sheets.indexOf(id) + 1;
    if (nth === crashOn && crashAt === 'before-accept') process.kill(process.pid, 'SIGKILL');
    const r = await driver.accept(id);
    // only once the scanner acknowledged the drop (a timed-out request is asked again)
    if (nth === crashOn && crashAt === 'after-accept' && r.ok) process.kill(process.pid, 'SIGKILL');
    return r;
  },
};

async function main(): Promise<void> {
  const station = await startStation({ dataDir, election: ELECTION, electionKeys: keysFile, precinct: PRECINCT, scanner, stationPassphrase: PASSPHRASE, pins: { ...PINS }, readerWorkers: 0, reconcileWaitMs: 60_000, log: (m) => process.stderr.write(`station: ${m}\n`) });
  const say = (o: unknown): void => {
    process.stdout.write(`${JSON.stringify(o)}\n`);
  };
  station.subscribe((e) => {
    if (e.type === 'status') say({ status: e.status });
  });
  say({ ready: true, status: station.status() });
  const as = async (role: 'captain' | 'poll-worker', ...commands: ('print-zero-tape' | 'open-polls' | 'clear-alarm')[]): Promise<void> => {
    await station.login({ role, pin: PINS[role] });
    for (const command of commands) {
      const r = await station.command({ command, confirm: true });
      say({ command, result: r });
    }
    await station.logout();
  };
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line === 'open') await as('captain', 'print-zero-tape', 'open-polls');
    else if (line === 'clear') await as('poll-worker', 'clear-alarm');
    else if (line === 'exit') {
      await station.close();
      await driver.close();
      process.exit(0);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
