import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CountyLog } from '../../app/county/log/county-log';
import { serveCountyLog, type LogServer } from '../../app/county/log/log-server';
import { TileLog } from '../../app/county/log/tile-log';
import { serveWitness, type WitnessServer } from '../../app/county/witness/witness-server';
import { WitnessDb } from '../../app/county/witness/witness-db';
import { WitnessClient } from '../../app/county/witness/witness-client';
import { LogClient, openWitnessedCheckpoint } from '../../app/county/client/log-client';
import { Monitor } from '../../app/county/client/monitor';
import { ALG_COSIGNATURE_V1, ALG_ED25519, formatSignatureLine, generateSigner, openNote, signNote, type Signer } from '../../app/county/tlog/note';
import { TlogError } from '../../app/county/tlog/stored-hashes';
import { makeStations, registryOf, stationEntry } from './support';

const ORIGIN = 'county.test/2026-general';
const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(31));
const [w1, w2, liar] = [1, 2, 3].map((i) => generateSigner(`observer-${i}.test/witness`, ALG_COSIGNATURE_V1, new Uint8Array(32).fill(40 + i))) as [Signer, Signer, Signer];
const stations = makeStations(4);
const registry = registryOf(stations);
const trust = { log: logKey, witnesses: [w1, w2, liar], quorum: 2 };

/** A witness that cosigns whatever the log signs, without keeping or checking anything. */
function serveLyingWitness(key: Signer): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const note = body.slice(body.indexOf('\n\n') + 2);
      const opened = openNote(note, [logKey]);
      if (opened instanceof TlogError) return res.writeHead(403).end();
      const signed = signNote(opened.text, [key], [], BigInt(Math.floor(Date.now() / 1000)));
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(signed.slice(opened.text.length + 1));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) }),
    ),
  );
}

let dir: string;
let dbs: WitnessDb[];
let honest: WitnessServer[];
let lying: { url: string; close: () => Promise<void> };
let county: CountyLog;
let server: LogServer;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'monitor-'));
  dbs = [0, 1].map((i) => new WitnessDb(path.join(dir, `w${i}.sqlite`)));
  honest = await Promise.all([w1, w2].map((k, i) => serveWitness({ signers: [k], logs: [{ origin: ORIGIN, keys: [logKey] }], now: () => 1_800_000_000n }, dbs[i] as WitnessDb, { port: 0, host: '127.0.0.1' })));
  lying = await serveLyingWitness(liar);
  county = new CountyLog({
    dir: path.join(dir, 'log'),
    origin: ORIGIN,
    signer: logKey,
    registry,
    witnesses: [...honest.map((w, i) => ({ url: w.url, key: [w1, w2][i] as Signer })), { url: lying.url, key: liar }],
    quorum: 2,
    intervalMs: 10,
  });
  server = await serveCountyLog(county, { port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  await server.close();
  await county.stop();
  await Promise.all([...honest.map((w) => w.close()), lying.close()]);
  dbs.forEach((d) => d.close());
  fs.rmSync(dir, { recursive: true, force: true });
});

async function report(batches: number[]): Promise<void> {
  await Promise.all(stations.flatMap((s) => batches.map((b) => county.submit(stationEntry(s, b)))));
  await county.round();
}

/** The log's operator signs a second history and asks every witness to cosign it. */
async function fork(size: number): Promise<string> {
  const other = TileLog.open(path.join(dir, `fork-${size}`), ORIGIN, logKey);
  await other.append(Array.from({ length: size }, (_, i) => stationEntry(stations[i % 4] as (typeof stations)[number], 100 + i)));
  const outcomes = await Promise.all(
    [...honest.map((w, i) => ({ url: w.url, key: [w1, w2][i] as Signer })), { url: lying.url, key: liar }].map((endpoint) =>
      new WitnessClient(endpoint).cosign({ note: other.staged, size, proofFrom: (old) => (old === 0 || old === size ? [] : other.consistencyProof(old, size)) }),
    ),
  );
  return `${other.staged}${outcomes.flatMap((o) => (o.ok ? [formatSignatureLine(o.cosignature)] : [])).join('')}`;
}

test('a monitor follows the honest log: every entry re-hashed and checked, every checkpoint consistent', async () => {
  const monitor = new Monitor(new LogClient(server.url, trust), registry);
  await report([1, 2]);
  let r = await monitor.poll();
  expect(r.size).toBe(8);
  await report([3]);
  r = await monitor.poll();
  expect(r).toMatchObject({ size: 12, entriesChecked: 12, alarms: [] });
  expect([...r.stations.values()]).toEqual([3, 3, 3, 3]);
});

test('a forked history the lying witness cosigned is short of the quorum, and the monitor names the log and the liar', async () => {
  await report([1, 2, 3]);
  const monitor = new Monitor(new LogClient(server.url, trust), registry);
  expect((await monitor.poll()).alarms).toEqual([]);
  // a split view at the size the witnesses already cosigned: the honest witnesses refuse (409/422), the liar signs
  const sameSize = await fork(12);
  const forkOpened = openWitnessedCheckpoint(sameSize, trust);
  expect(forkOpened).toBeInstanceOf(TlogError);
  expect((forkOpened as TlogError).message).toMatch(/cosigned by 1 known witness\(es\) \(observer-3\.test\/witness\)/);
  const alarm = await monitor.observe(sameSize);
  expect(alarm).toMatchObject({ kind: 'split-view', size: 12 });
  if (alarm?.kind !== 'split-view') throw new Error('expected a split view');
  expect([...alarm.signedBoth].sort()).toEqual([ORIGIN, 'observer-3.test/witness']);

  // a fork at a size the log reaches only later is caught when it gets there
  const ahead = await fork(14);
  expect(await monitor.observe(ahead)).toBeUndefined();
  await report([4]);
  const r = await monitor.poll();
  expect(r.alarms.filter((a) => a.kind === 'split-view').map((a) => (a as { size: number }).size)).toEqual([12, 14]);
});

test('a log serving changed entries, or going back to an older checkpoint, is caught', async () => {
  await report([1, 2]);
  const old = county.log.published() as string;
  const monitor = new Monitor(new LogClient(server.url, trust), registry);
  await report([3]);
  // the bundle a monitor reads is changed on the server after the tree was signed
  const bundle = path.join(dir, 'log', 'tile', 'entries', '000.p/12');
  const original = fs.readFileSync(bundle);
  const bytes = Buffer.from(original);
  bytes.write('X', 40);
  fs.writeFileSync(bundle, bytes);
  const r = await monitor.poll();
  expect(r.alarms.map((a) => a.kind)).toContain('inconsistent');
  fs.writeFileSync(bundle, original);
  const second = new Monitor(new LogClient(server.url, trust), registry);
  expect((await second.poll()).alarms).toEqual([]);
  fs.writeFileSync(path.join(dir, 'log', 'checkpoint'), old);
  const back = await second.poll();
  expect(back.alarms.some((a) => a.kind === 'inconsistent' && /went back from 12 to 8/.test(a.message))).toBe(true);
});

test('a monitor started before the log has witnessed anything raises no alarm; a log that stops showing its checkpoint does', async () => {
  // the log as the monitor reaches it: passed through, until the log hides its checkpoint
  let hidden = false;
  const front = http.createServer((req, res) => {
    if (hidden) return void res.writeHead(404).end('no checkpoint\n');
    void fetch(`${server.url}${req.url ?? '/'}`).then(async (up) => res.writeHead(up.status).end(Buffer.from(await up.arrayBuffer())));
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  try {
    const monitor = new Monitor(new LogClient(`http://127.0.0.1:${(front.address() as AddressInfo).port}`, trust), registry, 1);
    expect(await monitor.poll()).toMatchObject({ size: 0, entriesChecked: 0, alarms: [] });
    await report([1]);
    expect(await monitor.poll()).toMatchObject({ size: 4, entriesChecked: 4, alarms: [] });
    hidden = true;
    expect((await monitor.poll()).alarms).toEqual([{ kind: 'unreadable', message: 'GET checkpoint: 404' }]);
  } finally {
    front.closeAllConnections();
    await new Promise<void>((r) => front.close(() => r()));
  }
});
