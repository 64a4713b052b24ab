import fs from 'node:fs';
import path from 'node:path';
import { runStation } from '../../app/cli/commands/station';
import { run } from '../../app/cli/main';
import type { ScannerAlarm, StationStatus } from '../../app/station/api';
import { openStream } from '../kiosk/support/http-client';
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
      seen = (await openPollsAndWatch(stdout, (s) => s.scanner.alarms.includes('jam'))).last;
      return 'test done';
    };
    const code = await runStation(ctx, { simulate: deck.dir, simulateTimings: 'zero', simulateFaults: '1=jam@accepting', readerWorkers: 1, headless: true, port: 0, ...optionsOf(args) }, until);
    expect(code).toBe(0);
    expect(seen?.scanner.alarms).toContain('jam');
    // the jammed first ballot is not counted
    expect(seen?.counts.public).toBe(0);
    expect(stdout).toContain('tallyproof station: test done, stopping');
  }, 300_000);

  it('lets streaked sheets go back without the alarm until --streak-alarm-after of them come in a row', async () => {
    const { dir, args } = stationKit('station-cli');
    fs.mkdirSync(path.join(dir, 'deck'));
    // with the default (1) the first streaked sheet raises the alarm and stops the feeder: the second never goes in
    const deck = await writeSheets([{ kind: 'normal', n: 0, streaks: true }, { kind: 'normal', n: 1, streaks: true }, { kind: 'normal', n: 2 }], path.join(dir, 'deck'));
    let stdout = '';
    let seen: Awaited<ReturnType<typeof openPollsAndWatch>> | undefined;
    const ctx = { io: { stdout: (s: string) => void (stdout += s), stderr: () => undefined }, cwd: dir, exitCode: 0, run };
    const until = async (): Promise<string> => {
      // ends at the third sheet's outcome, or at once when the streaks alarm stops the feeder (what this guards)
      seen = await openPollsAndWatch(stdout, (s) => s.counts.public + s.counts.rejected >= 3 || s.scanner.alarms.includes('streaks'));
      return 'test done';
    };
    expect(await runStation(ctx, { simulate: deck.dir, simulateTimings: 'zero', streakAlarmAfter: 3, readerWorkers: 0, headless: true, port: 0, ...optionsOf(args) }, until)).toBe(0);
    expect(seen?.last.counts).toMatchObject({ public: 1, rejected: 2 });
    // not at the end and not on the way: two streaked sheets in a row are below the three asked for
    expect(seen?.last.scanner.alarms).not.toContain('streaks');
    expect(seen?.alarmsRaised).not.toContain('streaks');
    // a loaded machine (CI's two cores under two Jest workers) makes the deck, the start and each sheet slow
  }, 300_000);
});

/**
 * The captain signed in on the headless station's screen, as a browser would be: the login's session
 * cookie goes back with every staff call (without it the station refuses them while a role is signed in).
 */
async function captainScreen(stdout: string): Promise<{ port: number; cookie: string; post: (call: string, body: unknown) => Promise<unknown> }> {
  const url = /open (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(stdout);
  if (url?.[1] === undefined || url[2] === undefined) throw new Error(`no URL in: ${stdout}`);
  const base = url[1];
  const send = (call: string, body: unknown, cookie?: string): Promise<Response> =>
    fetch(new URL(call, base), { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie === undefined ? {} : { cookie }) }, body: JSON.stringify(body) });
  const login = await send('/api/login', { role: 'captain', pin: '2222' });
  expect(await login.json()).toMatchObject({ ok: true });
  const cookie = login.headers.getSetCookie()[0]?.split(';')[0];
  if (cookie === undefined) throw new Error('the login set no session cookie');
  return { port: Number(url[2]), cookie, post: async (call, body) => (await send(call, body, cookie)).json() };
}

/** What the captain's screen saw: the status that ended the watch and every alarm raised on the way. */
interface Watched {
  readonly last: StationStatus;
  readonly alarmsRaised: readonly ScannerAlarm[];
}

/**
 * The captain prints the zero tape and opens the polls; the station's event stream (the one the staff screen
 * listens to) is then followed until a status satisfies `done`. It waits on the station's events, not on a
 * clock: a loaded machine makes every sheet slower, never lost. The limit only turns a station that stopped
 * moving into a failure that says what the station last said.
 */
async function openPollsAndWatch(stdout: string, done: (s: StationStatus) => boolean, limitMs = 200_000): Promise<Watched> {
  const screen = await captainScreen(stdout);
  // opened before the polls open, so no status change can slip between a poll and the next
  const stream = openStream(screen.port, { cookie: screen.cookie });
  try {
    expect(await screen.post('/api/command', { command: 'print-zero-tape' })).toMatchObject({ ok: true });
    expect(await screen.post('/api/command', { command: 'open-polls', confirm: true })).toMatchObject({ ok: true });
    const alarmsRaised: ScannerAlarm[] = [];
    let last: StationStatus | undefined;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'limit'>((resolve) => (timer = setTimeout(() => resolve('limit'), limitMs)));
    try {
      for (let i = 0; ; i++) {
        const events = await Promise.race([stream.until(i + 1), limit, stream.ended.then(() => 'ended' as const)]);
        if (events === 'limit' || events === 'ended') {
          throw new Error(`the station's event stream ${events === 'limit' ? `showed no finish within ${limitMs} ms` : 'ended'}; last status: ${JSON.stringify(last)}`);
        }
        const e = events[i];
        if (e?.type === 'alarm' && e.active) alarmsRaised.push(e.alarm);
        if (e?.type !== 'status') continue;
        last = e.status;
        if (last.polls === 'open' && done(last)) return { last, alarmsRaised };
      }
    } finally {
      clearTimeout(timer);
    }
  } finally {
    stream.close();
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
