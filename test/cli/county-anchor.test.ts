import type { ChildProcess } from 'node:child_process';
import { startChild, type ReadyChild } from './support/ready-child';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli';
import { fund } from '../chain/helpers';
import { startRegtestNode, type RegtestNode } from '../support/litecoind';
import { makeStations, registryOf, stationEntry } from '../county/support';
import { decodeCountyAnchor } from '../../app/formats/county-anchor';
import { opReturnPayloads, parseTx } from '../../app/formats/raw-tx';

/**
 * The county's anchoring as its operators run it: an anchoring key from the CLI, two witnesses and `county
 * serve` as separate processes with an `anchor` section (rounds every half second against litecoind
 * -regtest), `county proof` for a station checkpoint, `county anchor` on command, and the final round when
 * the log stops.
 */

const children: ChildProcess[] = [];
let dir: string;
let node: RegtestNode;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'county-anchor-cli-'));
  node = await startRegtestNode();
}, 120_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await node?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

const start = (args: string[], ready: RegExp): ReadyChild => startChild({ cwd: dir, children }, args, ready);

const write = (name: string, value: unknown): void => fs.writeFileSync(path.join(dir, name), JSON.stringify(value, null, 2));

async function until(what: string, cond: () => Promise<boolean> | boolean, output: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}:\n${output()}`);
}

async function mempoolAnchorSizes(): Promise<number[]> {
  const sizes: number[] = [];
  for (const t of await node.rpc<string[]>('getrawmempool')) {
    for (const p of opReturnPayloads(parseTx(await node.rpc<string>('getrawtransaction', [t]), { floData: false }))) {
      if (Buffer.from(p.subarray(0, 4)).toString('latin1') === 'TPC\u0001') sizes.push(decodeCountyAnchor(p).size);
    }
  }
  return sizes;
}

test('county serve anchors once a round and at the end; county proof writes the files; county anchor runs a round on command', async () => {
  const logKey = await runCli(['county', 'keys', '--name', 'county.test/cli-anchor', '--out', 'log.key'], dir);
  expect(logKey.code).toBe(0);
  const anchorKey = await runCli(['county', 'keys', '--anchor', '--network', 'litecoin-regtest', '--out', 'anchor.key'], dir);
  expect(anchorKey.code).toBe(0);
  expect((fs.statSync(path.join(dir, 'anchor.key')).mode & 0o777).toString(8)).toBe('600');
  const address = /fund (\S+) on litecoin-regtest/.exec(anchorKey.stdout)?.[1] as string;
  expect(address).toMatch(/^rltc1/);
  await fund(node, address, 4);

  const stations = makeStations(2);
  write('stations.json', registryOf(stations));
  const witnesses: { url: string; vkey: string; stop: () => Promise<number | null> }[] = [];
  for (const i of [1, 2]) {
    const k = await runCli(['county', 'keys', '--witness', '--name', `observer-${i}.test/w`, '--out', `w${i}.key`], dir);
    write(`w${i}.json`, { format: 'tallyproof-witness/1', keyFile: `w${i}.key`, logs: [{ origin: 'county.test/cli-anchor', keys: [logKey.stdout.trim()] }] });
    const w = start(['witness', '--config', `w${i}.json`, '--data', `w${i}`, '--port', '0'], /POST (http:\/\/127\.0\.0\.1:\d+)\/add-checkpoint/);
    const m = await w.ready;
    witnesses.push({ url: m[1] as string, vkey: k.stdout.trim(), stop: () => (w.child.kill('SIGINT'), w.exited) });
  }
  const chain = { name: 'ltc-anchor', network: 'litecoin-regtest', confirmations: 2, rpc: { url: node.rpcUrl, user: node.rpcUser, password: node.rpcPassword } };
  write('county.json', {
    format: 'tallyproof-county-log/1',
    origin: 'county.test/cli-anchor',
    keyFile: 'log.key',
    stations: 'stations.json',
    witnesses: witnesses.map((w) => ({ url: w.url, key: w.vkey })),
    quorum: 2,
    roundSeconds: 0.05,
    anchor: { keyFile: 'anchor.key', roundSeconds: 0.5, chain },
  });
  const log = start(['county', 'serve', '--config', 'county.json', '--data', 'log', '--port', '0'], /serving (http:\/\/127\.0\.0\.1:\d+).*anchoring every 0.5 s to ltc-anchor/);
  const url = (await log.ready)[1] as string;

  const answers = await Promise.all(stations.map((s) => fetch(`${url}/add-entry`, { method: 'POST', body: stationEntry(s, 1) }).then((r) => r.status)));
  expect(answers).toEqual([200, 200]);
  await until('the first round signed', () => /anchor round 1: signed for tree size 2/.test(log.output()), log.output);
  expect(await mempoolAnchorSizes()).toEqual([2]);
  await node.mine(2);
  await until('round 1 published', () => fs.existsSync(path.join(dir, 'log', 'anchor', 'rounds', 'round-1.json')), log.output);

  const proof = await runCli(['county', 'proof', '--config', 'county.json', '--data', 'log', '--station', stations[1]?.id as string, '--batch', '1', '--out', 'proof'], dir);
  expect(proof).toMatchObject({ code: 0, stdout: expect.stringMatching(/station station-002 batch 1: entry \d, anchored in round 1/) });
  expect(fs.readdirSync(path.join(dir, 'proof')).sort()).toEqual(['round-1.json', 'station-002-batch-1.county-proof.json', 'station-002-batch-1.entry', 'station-002-batch-1.leaf', 'station-002-batch-1.leaf.ots', 'station-002-batch-1.tlog-proof']);
  // bad requests are refused before anything is written, each naming what is wrong
  expect(await runCli(['county', 'proof', '--config', 'county.json', '--data', 'log', '--station', 'station-001', '--out', 'p2'], dir)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--station with --batch/) });
  expect(await runCli(['county', 'proof', '--config', 'county.json', '--data', 'log', '--station', 'station-001', '--batch', '7', '--out', 'p2'], dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/no checkpoint of station station-001 batch 7/) });
  expect(fs.existsSync(path.join(dir, 'p2'))).toBe(false);

  // the last stations report and the log stops at once: its final round anchors them before it exits
  expect(await Promise.all(stations.map((s) => fetch(`${url}/add-entry`, { method: 'POST', body: stationEntry(s, 2) }).then((r) => r.status)))).toEqual([200, 200]);
  log.child.kill('SIGINT');
  expect(await log.exited).toBe(0);
  expect(await mempoolAnchorSizes()).toEqual([4]);

  // `county anchor` on command: nothing new to sign; it tracks the final round to its round file
  await node.mine(2);
  const once = await runCli(['county', 'anchor', '--config', 'county.json', '--data', 'log'], dir);
  expect(once).toMatchObject({ code: 0, stdout: expect.stringMatching(/anchor round: nothing new \(anchored size 4\)\nround 1: published[^\n]*\nround 2: published/) });
  for (const w of witnesses) expect(await w.stop()).toBe(0);
}, 120_000);

test('anchor settings that cannot work are refused, naming the file and the reason', async () => {
  write('bad-anchor.json', { format: 'tallyproof-county-log/1', origin: 'county.test/cli-anchor', keyFile: 'log.key', stations: 'stations.json', quorum: 0, anchor: { keyFile: 'missing.key', chain: { name: 'x', network: 'litecoin-regtest' } } });
  expect(await runCli(['county', 'serve', '--config', 'bad-anchor.json', '--data', 'y'], dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/bad-anchor\.json: anchor\.keyFile: cannot read/) });
  fs.writeFileSync(path.join(dir, 'open.key'), `TALLYPROOF-ANCHOR-KEY ${'11'.repeat(32)}\n`, { mode: 0o644 });
  // explicitly: a station test earlier in this Jest worker may have left the process umask at 0077
  fs.chmodSync(path.join(dir, 'open.key'), 0o644);
  write('open-anchor.json', { format: 'tallyproof-county-log/1', origin: 'county.test/cli-anchor', keyFile: 'log.key', stations: 'stations.json', quorum: 0, anchor: { keyFile: 'open.key', chain: { name: 'x', network: 'litecoin-regtest' } } });
  expect(await runCli(['county', 'anchor', '--config', 'open-anchor.json', '--data', 'y'], dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/open\.key: the anchor key must be readable by its owner only/) });
  write('no-anchor.json', { format: 'tallyproof-county-log/1', origin: 'county.test/cli-anchor', keyFile: 'log.key', stations: 'stations.json', quorum: 0 });
  expect(await runCli(['county', 'proof', '--config', 'no-anchor.json', '--data', 'y', '--index', '0', '--out', 'z'], dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/no "anchor" section/) });
  expect(await runCli(['audit', 'verify', '--bundle', '.', '--county-proof', 'z'], dir)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--county-proof and --county-trust go together/) });
  expect(fs.existsSync(path.join(dir, 'y'))).toBe(false);
});
