import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { STATION_ALLOCATOR_ENV } from '../../app/station/allocator-env';
import { writeSheets } from '../station/support/rig';
import { stationKit } from './support/station-kit';

const ROOT = path.join(__dirname, '..', '..');

/** The environment a process started with, from /proc. */
function environOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const launchers: ChildProcess[] = [];
/** station processes seen: each leads its own process group (with its socat), killed whole if a test fails */
const stations: number[] = [];
afterAll(() => {
  for (const l of launchers) if (l.exitCode === null && l.signalCode === null) l.kill('SIGKILL');
  for (const pid of stations) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

interface Launched {
  launcher: ChildProcess;
  url: string;
  /** everything written to the launcher's stdout and stderr, which the station shares */
  out: { stdout: string; stderr: string };
  /** the launcher's exit code */
  exited: Promise<number | null>;
  /** both pipes closed: every process that held them (the station too) has ended */
  closed: Promise<void>;
}

/** `tallyproof station` on a one-sheet simulated deck, started as bin/tallyproof starts it, without the allocator settings. */
async function launchStation(): Promise<Launched> {
  const { dir, args } = stationKit('station-launch');
  fs.mkdirSync(path.join(dir, 'deck'));
  const deck = await writeSheets([{ kind: 'normal', n: 0 }], path.join(dir, 'deck'));
  const env = { ...process.env };
  for (const k of Object.keys(STATION_ALLOCATOR_ENV)) delete env[k];
  const launcher = spawn(
    process.execPath,
    [path.join(ROOT, 'scripts', 'run-ts.js'), path.join(__dirname, 'support', 'launch-child.ts'), 'station', '--headless', '--port', '0', '--simulate', deck.dir, '--simulate-timings', 'zero', ...args],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  launchers.push(launcher);
  const out = { stdout: '', stderr: '' };
  launcher.stdout?.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
  launcher.stderr?.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
  const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
  const closed = Promise.all([launcher.stdout, launcher.stderr].map((s) => new Promise<void>((resolve) => s?.on('close', () => resolve())))).then(() => undefined);
  const url = await new Promise<string>((resolve, reject) => {
    launcher.stdout?.on('data', () => {
      const m = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out.stdout);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`exited ${code} before serving:\n${out.stdout}\n${out.stderr}`)));
  });
  return { launcher, url, out, exited, closed };
}

describe('tallyproof station, started the way bin/tallyproof starts it', () => {
  it('runs the station in a process with its allocator settings, and a SIGINT to the launcher stops it cleanly', async () => {
    const { launcher, url, out, exited } = await launchStation();
    expect(((await (await fetch(new URL('/api/status', url))).json()) as { polls: string }).polls).toBe('configured');

    // the launcher itself started without the settings; the station is its child, with them
    const pid = launcher.pid ?? -1;
    expect(environOf(pid)['MALLOC_MMAP_THRESHOLD_']).toBeUndefined();
    const [station] = childrenOf(pid);
    expect(station).toBeDefined();
    if (station !== undefined && station > 1) stations.push(station);
    expect(environOf(station ?? -1)).toMatchObject(STATION_ALLOCATOR_ENV);
    expect(out.stderr).not.toContain('started without');

    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out.stdout).toContain('tallyproof station: SIGINT, stopping');
    expect(out.stdout).toContain('tallyproof station: stopped');
    expect(fs.existsSync(`/proc/${station}`)).toBe(false);
  });

  it('stops the station the orderly way when the launcher is killed outright (it cannot pass a signal on)', async () => {
    const { launcher, out, closed } = await launchStation();
    const [station] = childrenOf(launcher.pid ?? -1);
    expect(station).toBeDefined();
    if (station !== undefined && station > 1) stations.push(station);
    launcher.kill('SIGKILL');
    // the station held the same pipes: they close when it has ended
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 30_000)));
    expect(await Promise.race([closed.then(() => 'ended' as const), late])).toBe('ended');
    clearTimeout(timer);
    expect(out.stdout).toContain('tallyproof station: its launcher is gone, stopping');
    expect(out.stdout).toContain('tallyproof station: stopped');
    // ended: gone, or a zombie left for whatever adopted the orphan to reap
    for (let i = 0; i < 50 && isRunning(station ?? -1); i++) await new Promise((r) => setTimeout(r, 100));
    expect(isRunning(station ?? -1)).toBe(false);
  });
});

/** The process exists and is not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
