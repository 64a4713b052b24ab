import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { leafHash } from '../../app/ledger/merkle';
import { TileLog } from '../../app/county/log/tile-log';
import { ALG_ED25519, generateSigner } from '../../app/county/tlog/note';
import { storedHashesForRecordHash, type Hash } from '../../app/county/tlog/stored-hashes';
import { c2spTilePath, newTiles, readTileData, TILE_HEIGHT } from '../../app/county/tlog/tile';

/**
 * The log's files against tiles computed another way: the stored hashes of golang.org/x/mod/sumdb/tlog's
 * record-at-a-time algorithm (checked against Go's test vectors in tlog.test.ts) cut into the tiles its
 * newTiles names, and entry bundles written out by hand. The log's own path (a right edge in memory, hashes
 * written straight into reused tile and bundle buffers, batches overlapping) must give the same bytes.
 */

const ORIGIN = 'county.test/bytes';
const signer = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(9));

/** A seeded generator, so a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function randomEntries(count: number, rand: () => number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const r = rand();
    // mostly checkpoint-sized, some empty, some tiny, a few near the 65,535-byte limit (a bundle's buffer grows)
    const len = r < 0.02 ? 0 : r < 0.1 ? Math.floor(rand() * 8) : r < 0.103 ? 65_535 - Math.floor(rand() * 3) : 300 + Math.floor(rand() * 900);
    const e = Buffer.allocUnsafe(len);
    for (let k = 0; k < len; k++) e[k] = (i * 31 + k * 7 + Math.floor(rand() * 256)) & 0xff;
    return e;
  });
}

function bundleBytes(entries: readonly Uint8Array[]): Buffer {
  return Buffer.concat(entries.flatMap((e) => [Buffer.from([e.length >> 8, e.length & 0xff]), Buffer.from(e)]));
}

/** The files a log of these batches holds under tile/, computed from stored hashes a record at a time. */
function expectedFiles(entries: readonly Uint8Array[], batchEnds: readonly number[]): Map<string, Buffer> {
  const stored: Hash[] = [];
  const read = (idx: readonly number[]): Hash[] => idx.map((i) => stored[i] as Hash);
  const files = new Map<string, Buffer>();
  let old = 0;
  for (const end of batchEnds) {
    for (let n = old; n < end; n++) stored.push(...storedHashesForRecordHash(n, leafHash(entries[n] as Uint8Array), read));
    for (const t of newTiles(TILE_HEIGHT, old, end)) {
      files.set(c2spTilePath(t), Buffer.from(readTileData(t, read)));
      if (t.l === 0) files.set(c2spTilePath({ ...t, l: -1 }), bundleBytes(entries.slice(t.n * 256, t.n * 256 + t.w)));
    }
    old = end;
  }
  return files;
}

function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const rel of fs.readdirSync(path.join(dir, 'tile'), { recursive: true }) as string[]) {
    const file = path.join(dir, 'tile', rel);
    if (fs.statSync(file).isFile()) out.set(`tile/${rel.split(path.sep).join('/')}`, fs.readFileSync(file));
  }
  return out;
}

function expectSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  const differing = [...expected].filter(([rel, bytes]) => !bytes.equals(actual.get(rel) as Buffer)).map(([rel]) => rel);
  expect(differing).toEqual([]);
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tile-bytes-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('entries of random sizes in batches of random sizes, some handed in while others flush, a reopen midway: every tile and bundle byte-identical to the record-at-a-time tiles', async () => {
  const rand = prng(20261207);
  const entries = randomEntries(4000, rand);
  const sizes: number[] = [];
  for (let total = 0; total < entries.length; ) {
    const r = rand();
    const n = Math.min(entries.length - total, r < 0.3 ? 1 + Math.floor(rand() * 5) : r < 0.6 ? 250 + Math.floor(rand() * 12) : 1 + Math.floor(rand() * 700));
    sizes.push(n);
    total += n;
  }
  const ends: number[] = [];
  let log = TileLog.open(dir, ORIGIN, signer);
  let at = 0;
  let pending: Promise<number>[] = [];
  for (const [b, n] of sizes.entries()) {
    pending.push(log.append(entries.slice(at, at + n)));
    at += n;
    ends.push(at);
    // every third batch waits for those before it; halfway the log is opened again from its files
    if (b % 3 === 2) {
      await Promise.all(pending);
      pending = [];
    }
    if (b === Math.floor(sizes.length / 2)) {
      await Promise.all(pending);
      pending = [];
      log = TileLog.open(dir, ORIGIN, signer);
    }
  }
  await Promise.all(pending);
  expect(log.size).toBe(entries.length);
  expect(entries.some((e) => e.length >= 65_533)).toBe(true);
  expectSameFiles(filesUnder(dir), expectedFiles(entries, ends));
});

test('an entry longer than a bundle allows is refused, naming it, and nothing of its batch is written', async () => {
  const log = TileLog.open(dir, ORIGIN, signer);
  await log.append([Buffer.from('first')]);
  const before = fs.readFileSync(path.join(dir, 'checkpoint.staged'), 'utf8');
  await expect(log.append([Buffer.from('ok'), Buffer.alloc(65_536)])).rejects.toThrow(/entry 1 of the batch has 65536 bytes, more than an entry bundle allows \(65,535\)/);
  expect(log.size).toBe(1);
  expect(fs.readFileSync(path.join(dir, 'checkpoint.staged'), 'utf8')).toBe(before);
  expect(fs.existsSync(path.join(dir, 'tile/entries/000.p/2'))).toBe(false);
  expect(await log.append([Buffer.from('second')])).toBe(1);
});
