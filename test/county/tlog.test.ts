import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { MerkleTree, leafHash, verifyConsistency, verifyInclusion } from '../../app/ledger/merkle';
import {
  proveRecord,
  proveTree,
  recordHash,
  splitStoredHashIndex,
  storedHashCount,
  storedHashIndex,
  storedHashesForRecordHash,
  treeHash,
  TlogError,
  type Hash,
  type HashReader,
} from '../../app/county/tlog/stored-hashes';
import { c2spTilePath, goTilePath, hashFromTile, newTiles, parseTilePath, readTileData, tileForIndex, type Tile } from '../../app/county/tlog/tile';
import { formatCheckpoint, parseCheckpoint } from '../../app/county/tlog/checkpoint';
import {
  ALG_COSIGNATURE_V1,
  ALG_ED25519,
  cosignatureTime,
  formatSignerKey,
  formatVerifierKey,
  generateSigner,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from '../../app/county/tlog/note';

interface GoVectors {
  tilePaths: { path: string; tile: Tile | null }[];
  newTilesForSize: { old: number; new: number; want: number }[];
  newTilesHeight: number;
  formatTree: { origin: string; size: number; recordData: string; text: string };
  note: { verifierKey: string; signerKey: string; text: string; signed: string; badVerifierKeys: string[] };
}
const go = JSON.parse(fs.readFileSync(path.join(__dirname, 'vectors', 'golang-tlog.json'), 'utf8')) as GoVectors;
const roots = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../shared/vectors/rfc6962/roots.json'), 'utf8')) as {
  leafInputsHex: string[];
  rootAtSizeHex: Record<string, string>;
};

/** A log held in memory the way the county log stores it: the stored hashes, in stored-hash-index order. */
function buildLog(records: readonly Uint8Array[]): { stored: Hash[]; read: HashReader } {
  const stored: Hash[] = [];
  const read: HashReader = (indexes) =>
    indexes.map((i) => {
      const h = stored[i];
      if (h === undefined) throw new TlogError(`no stored hash ${i}`);
      return h;
    });
  records.forEach((data, n) => {
    const add = storedHashesForRecordHash(n, recordHash(data), read);
    expect(stored.length).toBe(storedHashIndex(0, n));
    stored.push(...add);
  });
  expect(stored.length).toBe(storedHashCount(records.length));
  return { stored, read };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const record = (i: number): Uint8Array => Buffer.from(`station checkpoint ${i}\n`);

describe('stored hashes and proofs (port of Go sumdb/tlog)', () => {
  test('tree hashes equal the RFC 6962 roots of the transparency-dev vectors at every size', () => {
    const inputs = roots.leafInputsHex.map((h) => Buffer.from(h, 'hex'));
    const { read } = buildLog(inputs);
    for (const [size, rootHex] of Object.entries(roots.rootAtSizeHex)) expect(hex(treeHash(Number(size), read))).toBe(rootHex);
    expect(hex(treeHash(0, read))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  test('splitStoredHashIndex inverts storedHashIndex', () => {
    for (let level = 0; level < 10; level++) {
      for (let n = 0; n < 100; n++) expect(splitStoredHashIndex(storedHashIndex(level, n))).toEqual({ level, n });
    }
  });

  test('inclusion and consistency proofs from stored hashes verify with the ledger\'s independent RFC 6962 verifier', () => {
    const records = Array.from({ length: 300 }, (_, i) => record(i));
    const { read } = buildLog(records);
    const reference = new MerkleTree(records.map((r) => leafHash(r)));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 299 }), fc.integer({ min: 1, max: 300 }), (t, nRaw, mRaw) => {
        const n = nRaw % t;
        const m = ((mRaw - 1) % t) + 1;
        const root = treeHash(t, read);
        const proof = proveRecord(t, n, read);
        expect(() => verifyInclusion(n, t, leafHash(records[n] as Uint8Array), proof, root)).not.toThrow();
        const oldRoot = treeHash(m, read);
        expect(() => verifyConsistency(m, t, oldRoot, root, proveTree(t, m, read))).not.toThrow();
      }),
      { numRuns: 200 },
    );
    expect(hex(treeHash(300, read))).toBe(hex(reference.root()));
  });

  test('a proof does not verify for another record or a changed hash', () => {
    const records = Array.from({ length: 37 }, (_, i) => record(i));
    const { read } = buildLog(records);
    const root = treeHash(37, read);
    const proof = proveRecord(37, 5, read);
    expect(() => verifyInclusion(5, 37, leafHash(record(6)), proof, root)).toThrow();
    const bent = proof.map((h, i) => (i === 2 ? Uint8Array.from(h, (b, j) => (j === 0 ? b ^ 1 : b)) : h));
    expect(() => verifyInclusion(5, 37, leafHash(record(5)), bent, root)).toThrow();
    expect(() => proveRecord(37, 37, read)).toThrow(TlogError);
    expect(() => proveTree(37, 0, read)).toThrow(TlogError);
  });
});

describe('tiles', () => {
  test.each(go.tilePaths)('Go tile path $path', ({ path: p, tile }) => {
    const parsed = parseTilePath(p, 'go');
    if (tile === null) {
      expect(parsed).toBeInstanceOf(TlogError);
      return;
    }
    expect(parsed).toEqual(tile);
    expect(goTilePath(tile)).toBe(p);
  });

  test.each(go.newTilesForSize)('tiles that change from $old to $new records (height 10)', ({ old, new: size, want }) => {
    expect(newTiles(go.newTilesHeight, old, size)).toHaveLength(want);
  });

  test('C2SP paths: entries and hash tiles, partial widths, no non-canonical spelling', () => {
    expect(c2spTilePath({ h: 8, l: 0, n: 1234067, w: 256 })).toBe('tile/0/x001/x234/067');
    expect(c2spTilePath({ h: 8, l: -1, n: 3, w: 17 })).toBe('tile/entries/003.p/17');
    expect(parseTilePath('tile/2/x001/000.p/255', 'c2sp')).toEqual({ h: 8, l: 2, n: 1000, w: 255 });
    for (const bad of ['tile/0/001.p/256', 'tile/0/001.p/0', 'tile/0/1', 'tile/00/001', 'tile/0/x000/001', 'tile/64/000', 'tile/entries/001.p/', 'tiles/0/000']) {
      expect(parseTilePath(bad, 'c2sp')).toBeInstanceOf(TlogError);
    }
  });

  test('every stored hash is found again in its tile, from the tile\'s bytes alone', () => {
    const h = 2;
    const { stored, read } = buildLog(Array.from({ length: 45 }, (_, i) => record(i)));
    const tiles = newTiles(h, 0, 45);
    const data = new Map(tiles.map((t) => [goTilePath(t), readTileData(t, read)]));
    stored.forEach((hash, index) => {
      const t = tileForIndex(h, index);
      // the smallest tile holding the hash may be a prefix of the tile the log wrote: read from the written one
      const written = tiles.find((w) => w.l === t.l && w.n === t.n && w.w >= t.w);
      expect(written).toBeDefined();
      expect(hex(hashFromTile(written as Tile, data.get(goTilePath(written as Tile)) as Uint8Array, index))).toBe(hex(hash));
    });
  });
});

describe('checkpoints and signed notes', () => {
  test('the checkpoint text of Go\'s tree note, byte for byte', () => {
    const v = go.formatTree;
    const text = formatCheckpoint({ origin: v.origin, size: v.size, root: recordHash(Buffer.from(v.recordData)), extensions: [] });
    expect(text).toBe(v.text);
    const parsed = parseCheckpoint(text);
    expect(parsed).not.toBeInstanceOf(TlogError);
    expect(formatCheckpoint(parsed as Exclude<typeof parsed, TlogError>)).toBe(text);
    for (const bad of [`not a checkpoint`, v.text.replace('123456789012', '0x1f'), v.text.replace('Bb0=', 'BTOOBIG='), `\n1\n${'A'.repeat(43)}=\n`]) {
      expect(parseCheckpoint(bad)).toBeInstanceOf(TlogError);
    }
  });

  test('signing Go\'s text with Go\'s key gives Go\'s note, and it opens with the verifier key', () => {
    const signer = parseSignerKey(go.note.signerKey);
    const verifier = parseVerifierKey(go.note.verifierKey);
    if (signer instanceof TlogError || verifier instanceof TlogError) throw new Error('vector keys did not parse');
    expect(formatVerifierKey(signer)).toBe(go.note.verifierKey);
    expect(formatSignerKey(signer)).toBe(go.note.signerKey);
    expect(signNote(go.note.text, [signer])).toBe(go.note.signed);
    const opened = openNote(go.note.signed, [verifier]);
    expect(opened).not.toBeInstanceOf(TlogError);
    expect((opened as { text: string }).text).toBe(go.note.text);
  });

  test('mangled keys, a changed text and a flipped signature are refused', () => {
    for (const bad of go.note.badVerifierKeys) expect(parseVerifierKey(bad)).toBeInstanceOf(TlogError);
    const k = go.note.verifierKey;
    for (let i = 0; i < k.length; i++) {
      const flipped = k.slice(0, i) + String.fromCharCode(k.charCodeAt(i) + 1) + k.slice(i + 1);
      expect(parseVerifierKey(flipped)).toBeInstanceOf(TlogError);
    }
    const verifier = parseVerifierKey(k) as Exclude<ReturnType<typeof parseVerifierKey>, TlogError>;
    expect(openNote(go.note.signed.replace('cryptography', 'cryptographY'), [verifier])).toBeInstanceOf(TlogError);
    const sig = go.note.signed.split('\u2014 PeterNeumann ')[1] as string;
    const raw = Buffer.from(sig.trim(), 'base64');
    raw.writeUInt8(raw.readUInt8(10) ^ 1, 10);
    expect(openNote(go.note.signed.replace(sig.trim(), raw.toString('base64')), [verifier])).toBeInstanceOf(TlogError);
    expect(openNote(go.note.signed, [])).toBeInstanceOf(TlogError);
  });

  test('a witness cosignature (cosignature/v1) verifies over the checkpoint and its own time, and nothing else', () => {
    const log = generateSigner('county.example/log', ALG_ED25519, new Uint8Array(32).fill(7));
    const witness = generateSigner('observer.example/w1', ALG_COSIGNATURE_V1, new Uint8Array(32).fill(9));
    const text = formatCheckpoint({ origin: 'county.example/log', size: 3, root: recordHash(Buffer.from('x')), extensions: [] });
    const logSigned = signNote(text, [log]);
    const opened = openNote(logSigned, [log]);
    if (opened instanceof TlogError) throw opened;
    const cosigned = signNote(text, [witness], opened.verified, 1_790_000_000n);
    const both = openNote(cosigned, [log, witness]);
    if (both instanceof TlogError) throw both;
    expect(both.verified.map((s) => s.name).sort()).toEqual(['county.example/log', 'observer.example/w1']);
    expect(cosignatureTime(both.verified.find((s) => s.name === 'observer.example/w1') as (typeof both.verified)[number])).toBe(1_790_000_000n);
    // the same cosignature moved onto another checkpoint does not verify
    const other = formatCheckpoint({ origin: 'county.example/log', size: 4, root: recordHash(Buffer.from('y')), extensions: [] });
    const moved = `${other}\n${cosigned.split('\n\n')[1] as string}`;
    expect(openNote(moved, [witness])).toBeInstanceOf(TlogError);
    // a witness key and a log key of the same name and seed have different key IDs (the algorithm is hashed in)
    expect(generateSigner('same', ALG_ED25519, new Uint8Array(32).fill(1)).keyId).not.toBe(generateSigner('same', ALG_COSIGNATURE_V1, new Uint8Array(32).fill(1)).keyId);
  });
});
