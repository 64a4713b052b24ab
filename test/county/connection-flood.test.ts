import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CountyLog } from '../../app/county/log/county-log';
import { serveCountyLog, type LogServer } from '../../app/county/log/log-server';
import { serveWitness, type WitnessServer } from '../../app/county/witness/witness-server';
import { WitnessDb } from '../../app/county/witness/witness-db';
import { ALG_COSIGNATURE_V1, ALG_ED25519, generateSigner } from '../../app/county/tlog/note';
import { makeStations, registryOf } from './support';

/**
 * A connection flood: sockets opened and left idle (or a slow client) must not take every descriptor of the
 * county log or a witness. Past the server's limit a connection is closed at once, and once the flood's
 * sockets go the server answers again; nothing it holds is lost.
 */

const ORIGIN = 'county.test/flood';
const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(14));
const LIMIT = 16;

let dir: string;
let county: CountyLog;
let server: LogServer | undefined;
let witness: WitnessServer | undefined;
let db: WitnessDb | undefined;
const sockets: net.Socket[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'county-flood-'));
  county = new CountyLog({ dir: path.join(dir, 'log'), origin: ORIGIN, signer: logKey, registry: registryOf(makeStations(1)), witnesses: [], quorum: 0, intervalMs: 5 });
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  await witness?.close();
  db?.close();
  await county.stop();
  server = undefined;
  witness = undefined;
  db = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens n sockets and leaves them idle (connected, nothing sent). */
async function idleSockets(url: string, n: number): Promise<void> {
  const { hostname, port } = new URL(url);
  await Promise.all(
    Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
      const s = net.connect(Number(port), hostname, () => resolve());
      s.on('error', () => undefined);
      s.once('error', reject);
      sockets.push(s);
    })),
  );
}

/** A GET on a fresh connection: its status, or the error that ended it. */
function get(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

async function eventually(f: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`not within 10 s: ${what}`);
}

test('the county log: past its connection limit a new connection is closed at once; once the idle ones go it answers again', async () => {
  server = await serveCountyLog(county, { port: 0, host: '127.0.0.1', maxConnections: LIMIT });
  // a tile the log has (404 for a checkpoint not yet witnessed is still an answer)
  expect(await get(`${server.url}/checkpoint`)).toBe(404);
  await idleSockets(server.url, LIMIT);
  const refused = await get(`${server.url}/checkpoint`);
  expect(typeof refused).toBe('string');
  expect(String(refused)).toMatch(/ECONNRESET|socket hang up|EPIPE/);
  for (const s of sockets.splice(0)) s.destroy();
  await eventually(async () => (await get(`${server?.url}/checkpoint`)) === 404, 'the log answers once the flood has gone');
});

test('a witness: the same limit', async () => {
  db = new WitnessDb(path.join(dir, 'witness.sqlite'));
  const key = generateSigner('observer.test/flood', ALG_COSIGNATURE_V1, new Uint8Array(32).fill(15));
  witness = await serveWitness({ signers: [key], logs: [{ origin: ORIGIN, keys: [logKey] }], now: () => 1_800_000_000n }, db, { port: 0, host: '127.0.0.1', maxConnections: LIMIT });
  // GET is the wrong method for add-checkpoint: a 405 is an answer
  expect(await get(`${witness.url}/add-checkpoint`)).toBe(405);
  await idleSockets(witness.url, LIMIT);
  expect(String(await get(`${witness.url}/add-checkpoint`))).toMatch(/ECONNRESET|socket hang up|EPIPE/);
  for (const s of sockets.splice(0)) s.destroy();
  await eventually(async () => (await get(`${witness?.url}/add-checkpoint`)) === 405, 'the witness answers once the flood has gone');
});
