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

describe('crashes', () => {
  const entriesFrom = (start: number, count: number, tag: string): Uint8Array[] => Array.from({ length: count }, (_, i) => Buffer.from(`${tag} checkpoint ${start + i}\n`));

  test('a batch cut while writing its tiles (a full tile cut short, a bundle missing, a partial tile half written, no checkpoint naming them): the log opens at its last checkpoint and the next batch rewrites every one whole', async () => {
    const a = entriesFrom(0, 1000, 'a');
    const b = entriesFrom(1000, 600, 'b');
    const log = TileLog.open(dir, ORIGIN, signer);
    await log.append(a);
    const stagedBefore = fs.readFileSync(path.join(dir, 'checkpoint.staged'));
    // the files batch b writes, as a crash would leave them: written, but its checkpoint never renamed in
    await log.append(b);
    fs.writeFileSync(path.join(dir, 'checkpoint.staged'), stagedBefore);
    fs.truncateSync(path.join(dir, 'tile/0/004'), 100);
    fs.rmSync(path.join(dir, 'tile/entries/005'));
    fs.truncateSync(path.join(dir, 'tile/0/006.p/64'), 33);
    fs.truncateSync(path.join(dir, 'tile/entries/006.p/64'), 7);
    // its checkpoint, written under a temporary name beside the tiles, never renamed in
    fs.writeFileSync(path.join(dir, '.checkpoint.staged.4242-0badcafe.tmp'), 'half a checkpoi');
    const reopened = TileLog.open(dir, ORIGIN, signer);
    expect(reopened.size).toBe(1000);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // another batch of the same length lands on exactly the paths the cut one wrote
    const c = entriesFrom(1000, 600, 'c');
    expect(await reopened.append(c)).toBe(1000);
    const all = [...a, ...c];
    const expected = expectedFiles(all, [1000, 1600]);
    const actual = filesUnder(dir);
    const differing = [...expected].filter(([rel, bytes]) => !bytes.equals(actual.get(rel) as Buffer)).map(([rel]) => rel);
    expect(differing).toEqual([]);
    expect(TileLog.open(dir, ORIGIN, signer).size).toBe(1600);
  });

  test('a tile after the last flush that a crash cut short or lost is written again from the journal at open, byte for byte', async () => {
    const log = TileLog.open(dir, ORIGIN, signer);
    const a = entriesFrom(0, 600, 'a');
    const b = entriesFrom(600, 40, 'b');
    await log.append(a);
    await log.append(b);
    expect(log.synced).toBe(0);
    const expected = expectedFiles([...a, ...b], [600, 640]);
    fs.truncateSync(path.join(dir, 'tile/0/001'), 8160);
    fs.rmSync(path.join(dir, 'tile/0/000'));
    fs.rmSync(path.join(dir, 'tile/0/002.p/88'));
    fs.truncateSync(path.join(dir, 'tile/1/000.p/2'), 0);
    fs.truncateSync(path.join(dir, 'tile/entries/002.p/88'), 50);
    fs.rmSync(path.join(dir, 'tile/entries/002.p/128'));
    const reopened = TileLog.open(dir, ORIGIN, signer);
    expect(reopened.size).toBe(640);
    expectSameFiles(filesUnder(dir), expected);
  });

  test('a journal record lost below the staged checkpoint, with tiles to rebuild, is refused at open, naming what is missing', async () => {
    const log = TileLog.open(dir, ORIGIN, signer);
    await log.append(entriesFrom(0, 600, 'a'));
    await log.append(entriesFrom(600, 40, 'b'));
    const journalFile = path.join(dir, 'journal', log.journalFiles()[0] as string);
    // the second record cut short: the tiles from 600 on cannot come back
    fs.truncateSync(journalFile, fs.statSync(journalFile).size - 5);
    expect(() => TileLog.open(dir, ORIGIN, signer)).toThrow(/the journal holds entries up to 600, but the staged checkpoint names 640 and the tiles are synced only to 0/);
    fs.rmSync(journalFile);
    expect(() => TileLog.open(dir, ORIGIN, signer)).toThrow(/the journal holds entries up to 0, but the staged checkpoint names 640/);
  });

  test('a staged checkpoint naming a flushed tree whose tile is short or missing is refused at open, naming the tile', async () => {
    const log = TileLog.open(dir, ORIGIN, signer);
    await log.append(entriesFrom(0, 600, 'a'));
    await log.close();
    expect(log.synced).toBe(600);
    const keep = (rel: string): Buffer => fs.readFileSync(path.join(dir, rel));
    const cases: [string, (file: string) => void, RegExp][] = [
      ['tile/0/001', (f) => fs.truncateSync(f, 8160), /the tile tile\/0\/001 of the staged tree \(600 entries\) is short: 8160 bytes, not 8192/],
      ['tile/0/000', (f) => fs.rmSync(f), /the tile tile\/0\/000 of the staged tree \(600 entries\) is missing/],
      ['tile/0/002.p/88', (f) => fs.truncateSync(f, 87 * 32), /the right-edge tile tile\/0\/002.p\/88 of the staged tree \(600 entries\) is short: 2784 bytes, not 2816/],
      ['tile/1/000.p/2', (f) => fs.rmSync(f), /the right-edge tile tile\/1\/000.p\/2 of the staged tree \(600 entries\) is missing/],
      ['tile/entries/002.p/88', (f) => fs.truncateSync(f, 50), /the right-edge entry bundle tile\/entries\/002.p\/88 is damaged: an entry bundle ends inside an entry/],
    ];
    for (const [rel, damage, error] of cases) {
      const bytes = keep(rel);
      damage(path.join(dir, rel));
      expect(() => TileLog.open(dir, ORIGIN, signer)).toThrow(error);
      fs.writeFileSync(path.join(dir, rel), bytes);
      expect(TileLog.open(dir, ORIGIN, signer).size).toBe(600);
    }
  });
});
