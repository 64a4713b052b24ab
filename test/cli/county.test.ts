import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli';
import { startChild } from './support/ready-child';
import { makeStations, registryOf, stationEntry } from '../county/support';

/**
 * The county log as its operators run it: keys made with the CLI, three witnesses and the log as separate
 * processes on loopback, stations reporting over HTTP, and a monitor that checks the result once.
 */

const children: ChildProcess[] = [];
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'county-cli-'));
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray; exited: Promise<number | null> }> {
  const c = startChild({ cwd: dir, children }, args, ready);
  return { child: c.child, match: await c.ready, exited: c.exited };
}

const write = (name: string, value: unknown): void => fs.writeFileSync(path.join(dir, name), JSON.stringify(value, null, 2));

test('keys, three witnesses, the log and a monitor, each its own process: stations report, the log is witnessed, the monitor finds it whole', async () => {
  const logKey = await runCli(['county', 'keys', '--name', 'county.test/2026', '--out', 'log.key'], dir);
  expect(logKey.code).toBe(0);
  expect((fs.statSync(path.join(dir, 'log.key')).mode & 0o777).toString(8)).toBe('600');
  const again = await runCli(['county', 'keys', '--name', 'county.test/2026', '--out', 'log.key'], dir);
  expect(again).toMatchObject({ code: 1, stderr: expect.stringMatching(/refusing to overwrite/) });
  const logVkey = logKey.stdout.trim();
  const stations = makeStations(3);
  write('stations.json', registryOf(stations));

  const witnesses: { url: string; vkey: string; stop: () => Promise<number | null> }[] = [];
  for (const i of [1, 2, 3]) {
    const k = await runCli(['county', 'keys', '--witness', '--name', `observer-${i}.test/w`, '--out', `w${i}.key`], dir);
    write(`w${i}.json`, { format: 'tallyproof-witness/1', keyFile: `w${i}.key`, logs: [{ origin: 'county.test/2026', keys: [logVkey] }] });
    const w = await start(['witness', '--config', `w${i}.json`, '--data', `w${i}`, '--port', '0'], /POST (http:\/\/127\.0\.0\.1:\d+)\/add-checkpoint/);
    witnesses.push({ url: w.match[1] as string, vkey: k.stdout.trim(), stop: () => (w.child.kill('SIGINT'), w.exited) });
  }
  write('county.json', { format: 'tallyproof-county-log/1', origin: 'county.test/2026', keyFile: 'log.key', stations: 'stations.json', witnesses: witnesses.map((w) => ({ url: w.url, key: w.vkey })), quorum: 2, roundSeconds: 0.05 });
  const log = await start(['county', 'serve', '--config', 'county.json', '--data', 'log', '--port', '0'], /serving (http:\/\/127\.0\.0\.1:\d+)/);
  const url = log.match[1] as string;

  const answers = await Promise.all(stations.flatMap((s) => [1, 2].map((b) => fetch(`${url}/add-entry`, { method: 'POST', body: stationEntry(s, b) }).then((r) => r.status))));
  expect(answers).toEqual([200, 200, 200, 200, 200, 200]);
  // published once the round's witnesses answered: wait on the log, bounded
  for (let i = 0; i < 200 && (await fetch(`${url}/checkpoint`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  expect(fs.readFileSync(path.join(dir, 'log', 'checkpoint'), 'utf8')).toMatch(/^county\.test\/2026\n6\n/);

  write('trust.json', { format: 'tallyproof-county-trust/1', log: logVkey, witnesses: witnesses.map((w) => w.vkey), quorum: 3 });
  const monitor = await runCli(['county', 'monitor', url, '--trust', 'trust.json', '--stations', 'stations.json', '--once'], dir);
  expect(monitor).toMatchObject({ code: 0, stdout: expect.stringMatching(/size 6: 6 entries checked from 3 station\(s\), 0 alarm\(s\)/) });
  // which verifier checked the station signatures is said (the native one: `npm test` builds it)
  expect(monitor.stdout).toMatch(/^station signatures checked with libsecp256k1 .*native\/bip340$/m);

  log.child.kill('SIGINT');
  expect(await log.exited).toBe(0);
  for (const w of witnesses) expect(await w.stop()).toBe(0);
});

test('settings that cannot work are refused before anything starts, each with its file and reason', async () => {
  const k = await runCli(['county', 'keys', '--name', 'county.test/x', '--out', 'x.key'], dir);
  expect(k.code).toBe(0);
  write('bad-quorum.json', { format: 'tallyproof-county-log/1', origin: 'county.test/x', keyFile: 'x.key', stations: 'stations.json', witnesses: [], quorum: 1 });
  expect(await runCli(['county', 'serve', '--config', 'bad-quorum.json', '--data', 'x'], dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/bad-quorum\.json: a quorum of 1 cannot be met by 0 witness/) });
  write('wrong-name.json', { format: 'tallyproof-county-log/1', origin: 'county.test/other', keyFile: 'x.key', stations: 'stations.json', quorum: 0 });
  expect(await runCli(['county', 'serve', '--config', 'wrong-name.json', '--data', 'x'], dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/named after its origin/) });
  fs.chmodSync(path.join(dir, 'x.key'), 0o644);
  write('open-key.json', { format: 'tallyproof-county-log/1', origin: 'county.test/x', keyFile: 'x.key', stations: 'stations.json', quorum: 0 });
  expect(await runCli(['county', 'serve', '--config', 'open-key.json', '--data', 'x'], dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/readable by its owner only/) });
  fs.writeFileSync(path.join(dir, 'not-json.json'), '{');
  expect(await runCli(['witness', '--config', 'not-json.json', '--data', 'y'], dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/not-json\.json: the witness settings is not JSON/) });
  expect(await runCli(['county', 'keys', '--name', 'has space', '--out', 'z.key'], dir)).toMatchObject({ code: 2 });
  expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
});
