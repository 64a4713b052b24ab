import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { leafHash, verifyInclusion } from '../../app/ledger/merkle';
import { CountyLog } from '../../app/county/log/county-log';
import { serveCountyLog, type LogServer } from '../../app/county/log/log-server';
import { serveWitness, type WitnessServer } from '../../app/county/witness/witness-server';
import { WitnessDb } from '../../app/county/witness/witness-db';
import { LogClient, openWitnessedCheckpoint } from '../../app/county/client/log-client';
import { ALG_COSIGNATURE_V1, ALG_ED25519, generateSigner, type Signer } from '../../app/county/tlog/note';
import { TlogError } from '../../app/county/tlog/stored-hashes';
import { makeStations, registryOf, stationEntry } from './support';

const ORIGIN = 'county.test/2026-general';
const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(11));
const witnessKeys = [1, 2, 3].map((i) => generateSigner(`observer-${i}.test/witness`, ALG_COSIGNATURE_V1, new Uint8Array(32).fill(20 + i)));
const stations = makeStations(5);

let dir: string;
let dbs: WitnessDb[] = [];
let witnesses: WitnessServer[] = [];
let county: CountyLog | undefined;
let server: LogServer | undefined;

async function startWitnesses(keys: Signer[]): Promise<void> {
  dbs = keys.map((_, i) => new WitnessDb(path.join(dir, `w${i}`, 'witness.sqlite')));
  witnesses = await Promise.all(
    keys.map((k, i) => serveWitness({ signers: [k], logs: [{ origin: ORIGIN, keys: [logKey] }], now: () => BigInt(Math.floor(Date.now() / 1000)) }, dbs[i] as WitnessDb, { port: 0, host: '127.0.0.1' })),
  );
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'county-'));
});
afterEach(async () => {
  await server?.close();
  await county?.stop();
  await Promise.all(witnesses.map((w) => w.close()));
  dbs.forEach((d) => d.close());
  server = undefined;
  county = undefined;
  witnesses = [];
  dbs = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

const trust = { log: logKey, witnesses: witnessKeys, quorum: 2 };

test('stations report over HTTP; the log publishes a checkpoint cosigned by its witnesses; a client proves each entry from authenticated tiles', async () => {
  await startWitnesses(witnessKeys);
  county = new CountyLog({ dir: path.join(dir, 'log'), origin: ORIGIN, signer: logKey, registry: registryOf(stations), witnesses: witnesses.map((w, i) => ({ url: w.url, key: witnessKeys[i] as Signer })), quorum: 2, intervalMs: 20 });
  server = await serveCountyLog(county, { port: 0, host: '127.0.0.1' });
  const entries = stations.flatMap((s) => [1, 2, 3].map((b) => stationEntry(s, b)));
  const answers = await Promise.all(entries.map((e) => fetch(`${(server as LogServer).url}/add-entry`, { method: 'POST', body: e }).then(async (r) => ({ status: r.status, body: (await r.json()) as { index: number } }))));
  expect(answers.every((a) => a.status === 200)).toBe(true);
  expect(new Set(answers.map((a) => a.body.index)).size).toBe(entries.length);
  await county.round();

  const client = new LogClient(server.url, trust);
  const cp = await client.checkpoint();
  expect(cp.checkpoint.size).toBe(15);
  expect(cp.cosignedBy).toHaveLength(3);
  for (const [i, e] of entries.entries()) {
    const index = (answers[i] as { body: { index: number } }).body.index;
    const proof = await client.inclusionProof(cp.checkpoint, index, e);
    expect(() => verifyInclusion(index, 15, leafHash(e), proof, cp.checkpoint.root)).not.toThrow();
  }
  const bundle = await client.entryBundle(cp.checkpoint, 0);
  expect(bundle.map((b) => Buffer.from(b).toString())).toContain(Buffer.from(entries[4] as Uint8Array).toString());

  // the same entry again: the same index, nothing appended; a different checkpoint for a logged batch: refused
  const again = await fetch(`${server.url}/add-entry`, { method: 'POST', body: entries[0] as Uint8Array });
  expect(((await again.json()) as { duplicate: boolean }).duplicate).toBe(true);
  const conflicting = await fetch(`${server.url}/add-entry`, { method: 'POST', body: stationEntry(stations[0] as (typeof stations)[number], 1, { rootByte: 99 }) });
  expect(conflicting.status).toBe(409);
  expect(county.log.size).toBe(15);
});

test('entries from an unregistered station, another election, test mode or with a forged signature are refused', async () => {
  county = new CountyLog({ dir: path.join(dir, 'log'), origin: ORIGIN, signer: logKey, registry: registryOf(stations.slice(0, 2)), witnesses: [], quorum: 0, intervalMs: 10 });
  server = await serveCountyLog(county, { port: 0, host: '127.0.0.1' });
  const post = async (body: Uint8Array | string): Promise<[number, string]> => {
    const r = await fetch(`${(server as LogServer).url}/add-entry`, { method: 'POST', body });
    return [r.status, await r.text()];
  };
  expect(await post(stationEntry(stations[3] as (typeof stations)[number], 1))).toEqual([403, expect.stringMatching(/^unknown-station/)]);
  expect(await post(stationEntry(stations[0] as (typeof stations)[number], 1, { election: 'cd'.repeat(32) }))).toEqual([403, expect.stringMatching(/^wrong-election/)]);
  expect(await post(stationEntry(stations[0] as (typeof stations)[number], 1, { mode: 'test' }))).toEqual([403, expect.stringMatching(/^wrong-election/)]);
  const forged = Buffer.from(stationEntry(stations[0] as (typeof stations)[number], 1));
  forged.write('0', forged.length - 2);
  expect((await post(forged))[0]).toBe(403);
  expect((await post('hello\n'))[0]).toBe(400);
  expect((await post(Buffer.alloc(9000, 0x61)))[0]).toBe(413);
  expect((await fetch(`${server.url}/tile/0/../../etc/passwd`)).status).toBe(404);
  expect(county.log.size).toBe(0);
});

test('without a quorum of cosignatures nothing is published, and a client refuses a checkpoint short of its policy', async () => {
  await startWitnesses(witnessKeys.slice(0, 1));
  county = new CountyLog({ dir: path.join(dir, 'log'), origin: ORIGIN, signer: logKey, registry: registryOf(stations), witnesses: [{ url: (witnesses[0] as WitnessServer).url, key: witnessKeys[0] as Signer }, { url: 'http://127.0.0.1:9', key: witnessKeys[1] as Signer }], quorum: 2, intervalMs: 10 });
  server = await serveCountyLog(county, { port: 0, host: '127.0.0.1' });
  const included = await county.submit(stationEntry(stations[0] as (typeof stations)[number], 1));
  expect(included.ok).toBe(true);
  const report = await county.round();
  expect(report.published).toBe(false);
  expect(report.failures.join(' ')).toMatch(/did not answer/);
  expect((await fetch(`${server.url}/checkpoint`)).status).toBe(404);
  // the entry is on disk, but its tiles are not served before a checkpoint naming them is witnessed
  expect(fs.existsSync(path.join(dir, 'log', 'tile', 'entries', '000.p', '1'))).toBe(true);
  const early = await fetch(`${server.url}/tile/entries/000.p/1`);
  expect([early.status, await early.text()]).toEqual([404, expect.stringMatching(/beyond the published tree of 0/)]);
  // the staged note carries the log's signature and one cosignature at most: short of a quorum of 2
  expect(openWitnessedCheckpoint(county.log.staged, trust)).toBeInstanceOf(TlogError);
});

test('a log that cannot write its tiles answers every waiting station that it may send again, and takes the same entries once it can', async () => {
  county = new CountyLog({ dir: path.join(dir, 'log'), origin: ORIGIN, signer: logKey, registry: registryOf(stations), witnesses: [], quorum: 0, intervalMs: 10 });
  const first = await county.submit(stationEntry(stations[0] as (typeof stations)[number], 1));
  expect(first.ok).toBe(true);
  // the entry bundles' directory becomes a file: even root cannot write beneath it
  const entries = path.join(dir, 'log', 'tile', 'entries');
  fs.renameSync(entries, `${entries}.away`);
  fs.writeFileSync(entries, 'not a directory');
  const waiting = [stationEntry(stations[1] as (typeof stations)[number], 1), stationEntry(stations[2] as (typeof stations)[number], 1)];
  const refused = await Promise.all(waiting.map((e) => county?.submit(e)));
  expect(refused.map((r) => (r?.ok === false ? r.error.kind : 'ok'))).toEqual(['busy', 'busy']);
  expect(county.log.size).toBe(1);
  fs.rmSync(entries);
  fs.renameSync(`${entries}.away`, entries);
  const again = await Promise.all(waiting.map((e) => county?.submit(e)));
  expect(again.map((r) => (r?.ok === true ? r.value.index : -1)).sort()).toEqual([1, 2]);
  expect(county.log.size).toBe(3);
});
