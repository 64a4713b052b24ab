import fs from 'node:fs';
import path from 'node:path';
import { runStation } from '../../app/cli/commands/station';
import { run } from '../../app/cli/main';
import type { StationStatus } from '../../app/station/api';
import { runCli } from '../support/cli';
import { writeSheets } from '../station/support/rig';
import { stationKit } from './support/station-kit';

describe('tallyproof station --simulate-faults and --streak-alarm-after', () => {
  it('refuse a plan that is not one, a plan without the simulator, a streak count and a reader thread count out of range, before anything starts', async () => {
    const { dir, args } = stationKit('station-cli');
    const bad = await runCli(['station', '--headless', '--simulate', dir, '--simulate-faults', '3=jam', ...args]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--simulate-faults: sheet 3: "jam" needs a stage: one of jam@feeding');
    const real = await runCli(['station', '--headless', '--serial', '/dev/ttyUSB0', '--simulate-faults', '3=jam@feeding', ...args]);
    expect(real.code).toBe(2);
    expect(real.stderr).toContain('--simulate-faults needs --simulate <dir>');
    const streak = await runCli(['station', '--headless', '--simulate', dir, '--streak-alarm-after', '0', ...args]);
    expect(streak.code).toBe(2);
    expect(streak.stderr).toContain('--streak-alarm-after must be between 1 and 100, got 0');
    const workers = await runCli(['station', '--headless', '--simulate', dir, '--reader-workers', '9', ...args]);
    expect(workers.code).toBe(2);
    expect(workers.stderr).toContain('--reader-workers must be between 0 and 8, got 9');
    // nothing was started: no data directory
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('plays the planned jam on the simulated scanner the station drives', async () => {
    const { dir, args } = stationKit('station-cli');
    fs.mkdirSync(path.join(dir, 'deck'));
    const deck = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }], path.join(dir, 'deck'));
    let stdout = '';
    let seen: StationStatus | undefined;
    const ctx = { io: { stdout: (s: string) => void (stdout += s), stderr: () => undefined }, cwd: dir, exitCode: 0, run };
    const until = async (): Promise<string> => {
      seen = await openPollsAndWatch(stdout, (s) => s.scanner.alarms.includes('jam'));
      return 'test done';
    };
    const code = await runStation(ctx, { simulate: deck.dir, simulateTimings: 'zero', simulateFaults: '1=jam@accepting', readerWorkers: 1, headless: true, port: 0, ...optionsOf(args) }, until);
    expect(code).toBe(0);
    expect(seen?.scanner.alarms).toContain('jam');
    // the jammed first ballot is not counted
    expect(seen?.counts.public).toBe(0);
    expect(stdout).toContain('tallyproof station: test done, stopping');
  });

  it('lets streaked sheets go back without the alarm until --streak-alarm-after of them come in a row', async () => {
    const { dir, args } = stationKit('station-cli');
    fs.mkdirSync(path.join(dir, 'deck'));
    // with the default (1) the first streaked sheet raises the alarm and stops the feeder: the second never goes in
    const deck = await writeSheets([{ kind: 'normal', n: 0, streaks: true }, { kind: 'normal', n: 1, streaks: true }, { kind: 'normal', n: 2 }], path.join(dir, 'deck'));
    let stdout = '';
    let seen: StationStatus | undefined;
    const ctx = { io: { stdout: (s: string) => void (stdout += s), stderr: () => undefined }, cwd: dir, exitCode: 0, run };
    const until = async (): Promise<string> => {
      seen = await openPollsAndWatch(stdout, (s) => s.counts.public + s.counts.rejected >= 3 || s.scanner.alarms.length > 0);
      return 'test done';
    };
    expect(await runStation(ctx, { simulate: deck.dir, simulateTimings: 'zero', streakAlarmAfter: 3, readerWorkers: 0, headless: true, port: 0, ...optionsOf(args) }, until)).toBe(0);
    expect(seen?.counts).toMatchObject({ public: 1, rejected: 2 });
    expect(seen?.scanner.alarms).toEqual([]);
  });
});

/**
 * The captain signed in on the headless station's screen, as a browser would be: the login's session
 * cookie goes back with every staff call (without it the station refuses them while a role is signed in).
 */
async function captainScreen(stdout: string): Promise<{ post: (call: string, body: unknown) => Promise<unknown>; status: () => Promise<StationStatus> }> {
  const url = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
  if (url === undefined) throw new Error(`no URL in: ${stdout}`);
  const send = (call: string, body: unknown, cookie?: string): Promise<Response> =>
    fetch(new URL(call, url), { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie === undefined ? {} : { cookie }) }, body: JSON.stringify(body) });
  const login = await send('/api/login', { role: 'captain', pin: '2222' });
  expect(await login.json()).toMatchObject({ ok: true });
  const cookie = login.headers.getSetCookie()[0]?.split(';')[0];
  if (cookie === undefined) throw new Error('the login set no session cookie');
  return {
    post: async (call, body) => (await send(call, body, cookie)).json(),
    status: async () => (await (await fetch(new URL('/api/status', url))).json()) as StationStatus,
  };
}

/** The captain prints the zero tape and opens the polls; the station's status is then watched until `done` (at most a minute). */
async function openPollsAndWatch(stdout: string, done: (s: StationStatus) => boolean): Promise<StationStatus | undefined> {
  const screen = await captainScreen(stdout);
  expect(await screen.post('/api/command', { command: 'print-zero-tape' })).toMatchObject({ ok: true });
  expect(await screen.post('/api/command', { command: 'open-polls', confirm: true })).toMatchObject({ ok: true });
  let seen: StationStatus | undefined;
  for (let i = 0; i < 600 && !(seen !== undefined && done(seen)); i++) {
    await new Promise((r) => setTimeout(r, 100));
    seen = await screen.status();
  }
  return seen;
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
