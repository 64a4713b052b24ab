import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { STATION_ALLOCATOR_ENV } from '../../app/station/allocator-env';
import { tempDir, writeTestKeys } from '../support/ballots';
import { ELECTION, PASSPHRASE, PRECINCT } from '../station/support/constants';
import { writeSheets } from '../station/support/rig';

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

let launcher: ChildProcess | undefined;
afterAll(() => {
  if (launcher?.exitCode === null) launcher.kill('SIGKILL');
});

describe('tallyproof station, started the way bin/tallyproof starts it', () => {
  it('runs the station in a process with its allocator settings, and a SIGINT to the launcher stops it cleanly', async () => {
    const dir = tempDir('station-launch');
    fs.writeFileSync(path.join(dir, 'pins'), 'poll-worker=1111,captain=2222,auditor=3333\n');
    fs.writeFileSync(path.join(dir, 'passphrase'), `${PASSPHRASE}\n`);
    fs.mkdirSync(path.join(dir, 'deck'));
    const deck = await writeSheets([{ kind: 'normal', n: 0 }], path.join(dir, 'deck'));
    const env = { ...process.env };
    for (const k of Object.keys(STATION_ALLOCATOR_ENV)) delete env[k];
    launcher = spawn(
      process.execPath,
      [path.join(ROOT, 'scripts', 'run-ts.js'), path.join(__dirname, 'support', 'launch-child.ts'), 'station', '--headless', '--port', '0', '--simulate', deck.dir, '--simulate-timings', 'zero',
        '--data', path.join(dir, 'data'), '--election', ELECTION, '--keys', writeTestKeys(dir), '--precinct', PRECINCT, '--pins-file', path.join(dir, 'pins'), '--passphrase-file', path.join(dir, 'passphrase')],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    launcher.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    launcher.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => launcher?.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      launcher?.stdout?.on('data', () => {
        const m = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`exited ${code} before serving:\n${stdout}\n${stderr}`)));
    });
    expect(((await (await fetch(new URL('/api/status', url))).json()) as { polls: string }).polls).toBe('configured');

    // the launcher itself started without the settings; the station is its child, with them
    const pid = launcher.pid ?? -1;
    expect(environOf(pid)['MALLOC_MMAP_THRESHOLD_']).toBeUndefined();
    const [station] = childrenOf(pid);
    expect(station).toBeDefined();
    expect(environOf(station ?? -1)).toMatchObject(STATION_ALLOCATOR_ENV);
    expect(stderr).not.toContain('started without');

    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('tallyproof station: SIGINT, stopping');
    expect(stdout).toContain('tallyproof station: stopped');
    expect(fs.existsSync(`/proc/${station}`)).toBe(false);
  });
});
