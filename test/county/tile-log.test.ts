import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MerkleTree, leafHash, verifyConsistency, verifyInclusion } from '../../app/ledger/merkle';
import { TileLog } from '../../app/county/log/tile-log';
import { splitBundle } from '../../app/county/log/tile-store';
import { readAuthenticatedHashes, type TileFetcher } from '../../app/county/client/tile-hash-reader';
import { ALG_ED25519, generateSigner, openNote } from '../../app/county/tlog/note';
import { parseCheckpoint, type Checkpoint } from '../../app/county/tlog/checkpoint';
import { proveRecord, recordProofIndexes, TlogError } from '../../app/county/tlog/stored-hashes';
import { c2spTilePath, type Tile } from '../../app/county/tlog/tile';

const signer = generateSigner('county.test/log', ALG_ED25519, new Uint8Array(32).fill(3));
const entry = (i: number): Uint8Array => Buffer.from(`station s-${i % 7} checkpoint ${i}\n`);

function checkpointOf(note: string): Checkpoint {
  const opened = openNote(note, [signer]);
  if (opened instanceof TlogError) throw opened;
  const cp = parseCheckpoint(opened.text);
  if (cp instanceof TlogError) throw cp;
  return cp;
}
const rootOf = (note: string): Uint8Array => checkpointOf(note).root;

describe('a log of 70,000 entries grown in batches of every shape (three levels of tiles)', () => {
  let dir: string;
  let log: TileLog;
  const all: Uint8Array[] = [];
  const staged: { size: number; root: string }[] = [];
  const firsts: number[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tile-log-'));
    log = TileLog.open(dir, 'county.test/log', signer);
    for (const batch of [1, 2, 253, 1, 256, 300, 70000 - 813]) {
      const start = all.length;
      const entries = Array.from({ length: batch }, (_, k) => entry(start + k));
      firsts.push(await log.append(entries));
      all.push(...entries);
      staged.push({ size: all.length, root: Buffer.from(rootOf(log.staged)).toString('hex') });
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('each batch starts where the last ended and its signed root is the RFC 6962 root of every entry so far', () => {
    expect(firsts).toEqual([0, 1, 3, 256, 257, 513, 813]);
    const leaves = all.map((e) => leafHash(e));
    for (const s of staged) expect(s.root).toBe(new MerkleTree(leaves.slice(0, s.size)).root().toString('hex'));
  });

  test('the files are where C2SP tlog-tiles puts them, older partials kept for readers of older checkpoints', () => {
    // 70000 = 273 full bundles + 112; level 1 has 273 hashes (1 full tile + 17), level 2 one hash
    for (const f of ['tile/entries/272', 'tile/entries/273.p/112', 'tile/0/272', 'tile/1/000', 'tile/1/001.p/17', 'tile/2/000.p/1', 'tile/entries/000.p/3']) {
      expect(fs.existsSync(path.join(dir, f))).toBe(true);
    }
    const bundle = splitBundle(fs.readFileSync(path.join(dir, 'tile/entries/273.p/112')), 112);
    expect(Buffer.from(bundle[0] as Uint8Array).toString()).toBe(Buffer.from(entry(273 * 256)).toString());
    for (const i of [0, 255, 256, 69999, 4097]) {
      expect(() => verifyInclusion(i, 70000, leafHash(all[i] as Uint8Array), log.inclusionProof(i), rootOf(log.staged))).not.toThrow();
    }
  });

  /** A server that answers from the log's files, optionally changing one byte of one tile. */
  function server(bent?: string): TileFetcher {
    return (tiles: readonly Tile[]) =>
      Promise.resolve(
        tiles.map((t) => {
          const data = new Uint8Array(fs.readFileSync(path.join(dir, c2spTilePath(t))));
          if (c2spTilePath(t) === bent) data[5] = (data[5] as number) ^ 0x10;
          return data;
        }),
      );
  }

  test('hashes read through the authenticating tile reader give the same proofs the log makes itself', async () => {
    const tree = checkpointOf(log.staged);
    for (const index of [0, 255, 256, 40_000, 69_999]) {
      const idx = recordProofIndexes(tree.size, index);
      const hashes = await readAuthenticatedHashes(tree, idx, server());
      const byIndex = new Map(idx.map((x, i) => [x, hashes[i]]));
      const proof = proveRecord(tree.size, index, (ix) => ix.map((x) => byIndex.get(x) as Uint8Array));
      expect(proof.map((h) => Buffer.from(h).toString('hex'))).toEqual(log.inclusionProof(index).map((h) => Buffer.from(h).toString('hex')));
    }
  });

  test('a server that changes a tile inside the tree or on its right edge is caught by the reader', async () => {
    const tree = checkpointOf(log.staged);
    const idx = recordProofIndexes(tree.size, 300);
    // 300 sits in level-0 tile 1 (full, vouched for by level-1 tile 0)
    await expect(readAuthenticatedHashes(tree, idx, server('tile/0/001'))).rejects.toThrow(/does not vouch/);
    // the level-1 tile is full and vouched for by the level-2 edge tile
    await expect(readAuthenticatedHashes(tree, idx, server('tile/1/000'))).rejects.toThrow(/does not vouch/);
    // the right edge must give the checkpoint's root
    await expect(readAuthenticatedHashes(tree, idx, server('tile/2/000.p/1'))).rejects.toThrow(/do not give the checkpoint's root/);
    await expect(readAuthenticatedHashes(tree, idx, server('tile/0/273.p/112'))).rejects.toThrow(/do not give the checkpoint's root/);
    // and a tree the server never had (another root) is refused whatever it sends
    await expect(readAuthenticatedHashes({ size: tree.size, root: new Uint8Array(32) }, idx, server())).rejects.toThrow(TlogError);
  });
});

describe('opening a log again', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tile-log-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a reopened log goes on where it stopped, and consistency proofs join its checkpoints', async () => {
    const first = TileLog.open(dir, 'county.test/log', signer);
    await first.append(Array.from({ length: 1000 }, (_, i) => entry(i)));
    const oldRoot = rootOf(first.staged);
    const again = TileLog.open(dir, 'county.test/log', signer);
    expect(again.size).toBe(1000);
    await again.append(Array.from({ length: 77 }, (_, i) => entry(1000 + i)));
    expect(() => verifyConsistency(1000, 1077, oldRoot, rootOf(again.staged), again.consistencyProof(1000))).not.toThrow();
  });

  test('a log refuses to open over a right-edge tile that does not give its signed root, or another log\'s directory', async () => {
    const log = TileLog.open(dir, 'county.test/log', signer);
    await log.append(Array.from({ length: 600 }, (_, i) => entry(i)));
    expect(() => TileLog.open(dir, 'county.test/other', signer)).toThrow(/holds the log/);
    // flushed: the tiles are the log's record of these entries (before, the journal's copy rewrites them)
    await log.close();
    expect(log.synced).toBe(600);
    // the right edge is what the next append builds on (tiles inside the tree are the monitor's to check)
    const tile = path.join(dir, 'tile/0/002.p/88');
    const data = fs.readFileSync(tile);
    data.writeUInt8(data.readUInt8(40) ^ 1, 40);
    fs.writeFileSync(tile, data);
    expect(() => TileLog.open(dir, 'county.test/log', signer)).toThrow(/do not give the root/);
  });
});

describe('batches handed in while earlier ones are still being written', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tile-log-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('overlapping batches each get their own place, checkpoints follow in order, and a reopened log agrees', async () => {
    const log = TileLog.open(dir, 'county.test/log', signer);
    const sizes = [300, 1, 255, 700, 2];
    const all: Uint8Array[] = [];
    const pending = sizes.map((n) => {
      const start = all.length;
      const entries = Array.from({ length: n }, (_, k) => entry(start + k));
      all.push(...entries);
      return log.append(entries);
    });
    expect(await Promise.all(pending)).toEqual([0, 300, 301, 556, 1256]);
    expect(log.size).toBe(1258);
    const root = Buffer.from(new MerkleTree(all.map((e) => leafHash(e))).root()).toString('hex');
    expect(Buffer.from(rootOf(log.staged)).toString('hex')).toBe(root);
    const again = TileLog.open(dir, 'county.test/log', signer);
    expect(Buffer.from(rootOf(again.staged)).toString('hex')).toBe(root);
    expect(() => verifyInclusion(400, 1258, leafHash(all[400] as Uint8Array), again.inclusionProof(400), rootOf(again.staged))).not.toThrow();
  });

  test('a batch whose tiles cannot be written fails whole, and the next batch takes its place', async () => {
    const log = TileLog.open(dir, 'county.test/log', signer);
    const a = Array.from({ length: 100 }, (_, i) => entry(i));
    await log.append(a);
    const before = log.staged;
    // the level-0 partial tile the next batch of 50 writes is blocked by a directory of that name
    fs.mkdirSync(path.join(dir, 'tile/0/000.p/150'), { recursive: true });
    const b = log.append(Array.from({ length: 50 }, (_, i) => entry(100 + i)));
    await expect(b).rejects.toThrow(/EISDIR/);
    expect(log.size).toBe(100);
    expect(log.staged).toBe(before);
    expect(fs.readFileSync(path.join(dir, 'checkpoint.staged'), 'utf8')).toBe(before);
    // nothing of b reached the journal or the log's edge: the next batch starts where a ended
    const c = Array.from({ length: 10 }, (_, i) => entry(150 + i));
    expect(await log.append(c)).toBe(100);
    const root = Buffer.from(new MerkleTree([...a, ...c].map((e) => leafHash(e))).root()).toString('hex');
    expect(Buffer.from(rootOf(TileLog.open(dir, 'county.test/log', signer).staged)).toString('hex')).toBe(root);
  });

  test('a batch whose journal record cannot be flushed fails, so does the batch built on it, and the log goes on from its last checkpoint with the journal cut back', async () => {
    const log = TileLog.open(dir, 'county.test/log', signer);
    const a = Array.from({ length: 100 }, (_, i) => entry(i));
    await log.append(a);
    const before = log.staged;
    // the disk refuses the journal's next writes (EIO), as a failing disk would
    const journalFile = path.join(dir, 'journal', log.journalFiles()[0] as string);
    const lengthBefore = fs.statSync(journalFile).size;
    const realWritev = fs.writev;
    let failing = true;
    (fs as { writev: typeof fs.writev }).writev = ((fd: number, buffers: readonly NodeJS.ArrayBufferView[], pos: number | null, cb: (e: NodeJS.ErrnoException | null, n: number, b: NodeJS.ArrayBufferView[]) => void) => {
      if (failing) {
        const e = Object.assign(new Error('EIO: i/o error, writev'), { code: 'EIO' });
        process.nextTick(() => cb(e, 0, [...buffers]));
        return;
      }
      realWritev(fd, [...buffers], pos, cb);
    }) as typeof fs.writev;
    try {
      const b = log.append(Array.from({ length: 50 }, (_, i) => entry(100 + i)));
      const c = log.append(Array.from({ length: 10 }, (_, i) => entry(150 + i)));
      await expect(b).rejects.toThrow(/EIO/);
      await expect(c).rejects.toThrow(/the batch before this one failed/);
      expect(log.size).toBe(100);
      expect(fs.readFileSync(path.join(dir, 'checkpoint.staged'), 'utf8')).toBe(before);
    } finally {
      failing = false;
      (fs as { writev: typeof fs.writev }).writev = realWritev;
    }
    await new Promise((r) => setImmediate(r));
    expect(fs.statSync(journalFile).size).toBe(lengthBefore);
    const d = Array.from({ length: 50 }, (_, i) => entry(1000 + i));
    expect(await log.append(d)).toBe(100);
    const root = Buffer.from(new MerkleTree([...a, ...d].map((e) => leafHash(e))).root()).toString('hex');
    // reopened with every tile after the first batch gone: the journal (a, then d) rebuilds them
    for (const rel of ['tile/0/000.p/150', 'tile/entries/000.p/150']) fs.rmSync(path.join(dir, rel));
    expect(Buffer.from(rootOf(TileLog.open(dir, 'county.test/log', signer).staged)).toString('hex')).toBe(root);
    expect(fs.existsSync(path.join(dir, 'tile/0/000.p/150'))).toBe(true);
  });
});
