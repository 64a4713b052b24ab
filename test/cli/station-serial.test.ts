import fs from 'node:fs';
import path from 'node:path';
import { runStation } from '../../app/cli/commands/station';
import { run } from '../../app/cli/main';
import type { StationStatus } from '../../app/station/api';
import { checkSerialPath } from '../../firmware-bridge/serial/serial-path';
import { startPtyPair } from '../../firmware-bridge/simulator/pty';
import { startSimulatedScanner } from '../../firmware-bridge/simulator/start';
import { runCli } from '../support/cli';
import { tempDir } from '../support/ballots';
import { writeSheets } from '../station/support/rig';
import { stationKit } from './support/station-kit';

jest.setTimeout(120_000);

describe('tallyproof station --serial', () => {
  it('stops at once, exit 1, naming the path and what it expected, when the path is missing or no serial device; nothing is started', async () => {
    const { dir, args } = stationKit('station-serial');
    const file = path.join(dir, 'not-a-port');
    fs.writeFileSync(file, 'x');
    const cases: [string, RegExp][] = [
      ['/dev/ttyNOPE', /cannot use --serial \/dev\/ttyNOPE: \/dev\/ttyNOPE does not exist: expected the scanner controller's serial port, a character device such as \/dev\/ttyUSB0/],
      [file, /is a regular file, not a serial device: expected the scanner controller's serial port/],
      [dir, /is a directory, not a serial device/],
      ['/dev/null', /\/dev\/null is a character device of class "mem", not a serial port/],
    ];
    for (const [serial, message] of cases) {
      const r = await runCli(['station', '--headless', '--port', '0', '--serial', serial, ...args]);
      expect({ serial, code: r.code }).toEqual({ serial, code: 1 });
      expect(r.stderr).toMatch(message);
      // never said it was serving, and made nothing
      expect(r.stdout).not.toContain('open http');
      expect(r.stdout).not.toContain('stopped');
    }
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('accepts a terminal device and a pseudo-terminal (what a simulator or a serial bridge offers)', async () => {
    expect(checkSerialPath('/dev/tty')).toEqual({ ok: true, value: undefined });
    const sim = await startSimulatedScanner({ deckDir: (await writeSheets([{ kind: 'normal' }], tempDir('serial-deck'))).dir, timings: 'zero' });
    try {
      expect(checkSerialPath(sim.path)).toEqual({ ok: true, value: undefined });
    } finally {
      await sim.stop();
    }
    // and a device it may not use is named as such (a sysfs that calls every device a tty stands in for one)
    const fakeSys = tempDir('serial-sys');
    const st = fs.statSync('/dev/null');
    const devDir = path.join(fakeSys, `${Math.floor(st.rdev / 256) & 0xfff}:${st.rdev & 0xff}`);
    fs.mkdirSync(devDir);
    fs.mkdirSync(path.join(fakeSys, 'tty'));
    fs.symlinkSync(path.join(fakeSys, 'tty'), path.join(devDir, 'subsystem'));
    expect(checkSerialPath('/dev/null', fakeSys)).toEqual({ ok: true, value: undefined });
  });

  it('a scanner unplugged while the station runs raises the disconnected alarm, logged once, not every retry', async () => {
    const { dir, args } = stationKit('station-serial');
    const deck = await writeSheets([{ kind: 'normal' }], tempDir('serial-deck'));
    const sim = await startSimulatedScanner({ deckDir: deck.dir, timings: 'zero' });
    let stdout = '';
    let stderr = '';
    const ctx = { io: { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s) }, cwd: dir, exitCode: 0, run };
    let unplugged: StationStatus | undefined;
    const until = async (): Promise<string> => {
      const url = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1] ?? '';
      const status = async (): Promise<StationStatus> => (await (await fetch(new URL('/api/status', url))).json()) as StationStatus;
      await waitFor(status, (s) => s.scanner.connected);
      await sim.stop();
      unplugged = await waitFor(status, (s) => s.scanner.alarms.includes('disconnected'));
      // a few of the station's 2 s retries
      await new Promise((r) => setTimeout(r, 5000));
      return 'test done';
    };
    const code = await runStation(ctx, { serial: sim.path, simulateTimings: 'zero', readerWorkers: 0, headless: true, port: 0, ...optionsOf(args) }, until);
    expect(code).toBe(0);
    expect(unplugged).toMatchObject({ scanner: { connected: false, alarms: ['disconnected'] } });
    expect(stderr).not.toMatch(/could not (enable|disable) feeding/);
    const notConnected = stderr.split('\n').filter((l) => l.includes('the scanner is not connected'));
    expect(notConnected.length).toBeLessThanOrEqual(1);
  });

  it('a port where no scanner answers (switched off): serves with the disconnected alarm and says why once, not every 2 s', async () => {
    const { dir, args } = stationKit('station-serial');
    const pty = await startPtyPair(tempDir('serial-silent'));
    let stdout = '';
    let stderr = '';
    const ctx = { io: { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s) }, cwd: dir, exitCode: 0, run };
    let seen: StationStatus | undefined;
    const until = async (): Promise<string> => {
      const url = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1] ?? '';
      const status = async (): Promise<StationStatus> => (await (await fetch(new URL('/api/status', url))).json()) as StationStatus;
      seen = await waitFor(status, (s) => s.scanner.alarms.includes('disconnected'));
      // the station tries again every 2 s: long enough for several attempts, each failing the same way
      await new Promise((r) => setTimeout(r, 7000));
      return 'test done';
    };
    try {
      expect(await runStation(ctx, { serial: pty.hostPath, simulateTimings: 'zero', readerWorkers: 0, headless: true, port: 0, ...optionsOf(args) }, until)).toBe(0);
    } finally {
      await pty.stop();
    }
    expect(seen).toMatchObject({ scanner: { connected: false, alarms: ['disconnected'] } });
    expect(stderr).not.toMatch(/could not (enable|disable) feeding/);
    expect(stderr.split('\n').filter((l) => l.startsWith('the scanner is not connected'))).toEqual([expect.stringMatching(/: the scanner did not answer "hello" within \d+ ms; trying again every 2 s$/)]);
  });
});

async function waitFor(status: () => Promise<StationStatus>, pred: (s: StationStatus) => boolean): Promise<StationStatus> {
  for (;;) {
    const s = await status();
    if (pred(s)) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The kit's flags as runStation's options. */
function optionsOf(args: readonly string[]): { data: string; election: string; keys: string; precinct: string; pinsFile: string; passphraseFile: string } {
  const get = (flag: string): string => {
    const v = args[args.indexOf(flag) + 1];
    if (v === undefined) throw new Error(flag);
    return v;
  };
  return { data: get('--data'), election: get('--election'), keys: get('--keys'), precinct: get('--precinct'), pinsFile: get('--pins-file'), passphraseFile: get('--passphrase-file') };
}
