import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { LogClient } from '../../app/county/client/log-client';
import { CountyReporter, type SignedStationCheckpoint } from '../../app/county/report/station-reporter';
import { readReceipts, receiptsFile, updateReceipts, type Receipt } from '../../app/county/report/receipts-file';
import { tempDir } from '../support/ballots';
import { makeStations, registryOf, stationEntry, type TestStation } from './support';
import { ORIGIN, deadPort, settingsFor, startCounty, type RunningCounty } from './station-support';

/**
 * The receipts file has two writers: the station's reporter and `county receipts` (proofs carried back on
 * the export device), the second possibly while the station runs. What one writes the other keeps: the
 * reporter counts a proof written beside it on its next pass, without the network, and its own saves
 * merge with the file instead of writing its memory over it.
 */

jest.setTimeout(60_000);

const [st] = makeStations(1) as [TestStation];
const checkpointOf = (batch: number): SignedStationCheckpoint => {
  const m = /^([\s\S]*\n)signature ([0-9a-f]{128})\n$/.exec(Buffer.from(stationEntry(st, batch)).toString()) as RegExpExecArray;
  return { batch, body: m[1] as string, signature: new Uint8Array(Buffer.from(m[2] as string, 'hex')) };
};
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let county: RunningCounty;
/** batch 1's entry at index 0 of the log, and its tlog-proof (what `county submit --trust` would write) */
let proof1: string;
const stopping: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  county = await startCounty(tempDir('receipts-log'), registryOf([st]));
  expect((await county.county.submit(stationEntry(st, 1))).ok).toBe(true);
  await county.county.round();
  proof1 = await new LogClient(county.server.url, settingsFor(county.server.url).trust).tlogProof(0, stationEntry(st, 1));
});
afterAll(async () => {
  for (const s of stopping.reverse()) await s();
  await county.stop();
});

function writeProof(dataDir: string): void {
  const r = updateReceipts(receiptsFile(dataDir, ORIGIN), ORIGIN, 'refuse', (m) => {
    const had = m.get(1);
    const receipt: Receipt = had ?? { batch: 1, entry: sha256(stationEntry(st, 1)), index: 0, answeredAt: '2026-11-03T21:00:00.000Z', tlogProof: null };
    m.set(1, { ...receipt, tlogProof: proof1 });
    return { write: true, value: undefined };
  });
  expect(r.ok).toBe(true);
}

test('a proof another process writes while the reporter waits for the network is counted on its next pass', async () => {
  const dataDir = tempDir('receipts-station');
  const r = new CountyReporter({ settings: settingsFor(`http://127.0.0.1:${await deadPort()}`), dataDir, checkpoints: () => [checkpointOf(1)], timer: () => () => undefined });
  stopping.push(() => r.stop());
  await r.pass();
  expect(r.status()).toMatchObject({ total: 1, reported: 0, proven: 0, waiting: expect.stringMatching(/cannot be reached/) });
  writeProof(dataDir); // `county receipts` beside the running station
  await r.pass();
  expect(r.status()).toEqual({ log: ORIGIN, total: 1, reported: 1, proven: 1, waiting: null });
  expect(r.proofOf(1)).toBe(proof1);
});

test("the reporter's save keeps a proof written between its read and its write (the file merged, not overwritten from memory)", async () => {
  const dataDir = tempDir('receipts-station');
  const file = receiptsFile(dataDir, ORIGIN);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // batch 1 answered (index 0) but not proven yet
  fs.writeFileSync(file, JSON.stringify({ format: 'tallyproof-county-receipts/1', log: ORIGIN, receipts: [{ batch: 1, entry: sha256(stationEntry(st, 1)), index: 0, answeredAt: '2026-11-03T21:00:00.000Z', tlogProof: null }] }));
  // a log whose reads are down and whose add-entry works; the carried proof lands while batch 2 is being sent
  const front = http.createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(503).end('busy');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      writeProof(dataDir);
      void fetch(`${county.server.url}${req.url ?? '/'}`, { method: 'POST', body: Buffer.concat(chunks) }).then(async (up) => {
        res.writeHead(up.status).end(Buffer.from(await up.arrayBuffer()));
      });
    });
  });
  await new Promise<void>((ok) => front.listen(0, '127.0.0.1', ok));
  stopping.push(() => new Promise<void>((ok) => front.close(() => ok())));
  const r = new CountyReporter({ settings: settingsFor(`http://127.0.0.1:${(front.address() as { port: number }).port}`), dataDir, checkpoints: () => [checkpointOf(1), checkpointOf(2)], timer: () => () => undefined });
  stopping.push(() => r.stop());
  await r.pass();
  const onDisk = readReceipts(file, ORIGIN);
  if (!onDisk.ok) throw new Error(onDisk.error);
  expect([...onDisk.value.values()].map((x) => [x.batch, x.index, x.tlogProof === null ? null : x.tlogProof === proof1])).toEqual([
    [1, 0, true],
    [2, 1, null],
  ]);
  expect(r.status()).toMatchObject({ total: 2, reported: 2, proven: 1 });
});

test('a lock left by a process that is gone is taken over; the lock is removed after each write', () => {
  const dataDir = tempDir('receipts-station');
  const file = receiptsFile(dataDir, ORIGIN);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  fs.writeFileSync(`${file}.lock`, `${gone.stdout}\n`);
  writeProof(dataDir);
  expect(fs.existsSync(`${file}.lock`)).toBe(false);
  const read = readReceipts(file, ORIGIN);
  expect(read.ok && read.value.get(1)?.tlogProof).toBe(proof1);
});

test('receipts files that are not what they say are named with what is wrong', () => {
  const dir = tempDir('receipts-bad');
  const f = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const one = { batch: 1, entry: 'ab'.repeat(32), index: 0, answeredAt: 'x', tlogProof: null };
  expect(readReceipts(path.join(dir, 'absent.json'), ORIGIN)).toEqual({ ok: true, value: new Map() });
  expect(readReceipts(f('a.json', '{'), ORIGIN)).toEqual({ ok: false, error: `${dir}/a.json is not a receipts file (not JSON)` });
  expect(readReceipts(f('b.json', JSON.stringify({ format: 'tallyproof-county-receipts/1', log: 'elsewhere', receipts: [] })), ORIGIN)).toEqual({ ok: false, error: `${dir}/b.json holds receipts of the log "elsewhere", not of ${ORIGIN}` });
  expect(readReceipts(f('c.json', JSON.stringify({ format: 'tallyproof-county-receipts/1', log: ORIGIN, receipts: [one, one] })), ORIGIN)).toEqual({ ok: false, error: `${dir}/c.json holds two receipts for batch 1` });
  expect(readReceipts(f('d.json', JSON.stringify({ format: 'tallyproof-county-receipts/1', log: ORIGIN, receipts: [{ ...one, index: -1 }] })), ORIGIN)).toMatchObject({ ok: false, error: expect.stringMatching(/d\.json is not a receipts file \(receipts\.0\.index: /) });
});
