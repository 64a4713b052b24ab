import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MerkleTree, leafHash, verifyConsistency, verifyInclusion } from '../../app/ledger/merkle';
import { TileLog } from '../../app/county/log/tile-log';
import { splitBundle } from '../../app/county/log/tile-store';
import { ALG_ED25519, generateSigner, openNote } from '../../app/county/tlog/note';
import { parseCheckpoint } from '../../app/county/tlog/checkpoint';
import { TlogError } from '../../app/county/tlog/stored-hashes';

const signer = generateSigner('county.test/log', ALG_ED25519, new Uint8Array(32).fill(3));
const entry = (i: number): Uint8Array => Buffer.from(`station s-${i % 7} checkpoint ${i}\n`);
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tile-log-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function rootOf(note: string): Uint8Array {
  const opened = openNote(note, [signer]);
  if (opened instanceof TlogError) throw opened;
  const cp = parseCheckpoint(opened.text);
  if (cp instanceof TlogError) throw cp;
  return cp.root;
}

test('batches of every size give the RFC 6962 root of all entries, and the files are where C2SP puts them', () => {
  const log = TileLog.open(dir, 'county.test/log', signer);
  const all: Uint8Array[] = [];
  for (const batch of [1, 2, 253, 1, 256, 300, 70000 - 813]) {
    const first = all.length;
    const entries = Array.from({ length: batch }, (_, k) => entry(first + k));
    expect(log.append(entries)).toBe(first);
    all.push(...entries);
    expect(Buffer.from(rootOf(log.staged)).toString('hex')).toBe(new MerkleTree(all.map((e) => leafHash(e))).root().toString('hex'));
  }
  expect(log.size).toBe(70000);
  // 70000 = 273 full bundles + 112; level 1 has 273 hashes (1 full tile + 17), level 2 one hash
  expect(fs.existsSync(path.join(dir, 'tile/entries/272'))).toBe(true);
  expect(fs.existsSync(path.join(dir, 'tile/entries/273.p/112'))).toBe(true);
  expect(fs.existsSync(path.join(dir, 'tile/0/272'))).toBe(true);
  expect(fs.existsSync(path.join(dir, 'tile/1/000'))).toBe(true);
  expect(fs.existsSync(path.join(dir, 'tile/1/001.p/17'))).toBe(true);
  expect(fs.existsSync(path.join(dir, 'tile/2/000.p/1'))).toBe(true);
  // an older partial stays for readers of an older checkpoint
  expect(fs.existsSync(path.join(dir, 'tile/entries/000.p/3'))).toBe(true);
  const bundle = splitBundle(fs.readFileSync(path.join(dir, 'tile/entries/273.p/112')), 112);
  expect(Buffer.from(bundle[0] as Uint8Array).toString()).toBe(Buffer.from(entry(273 * 256)).toString());
  for (const i of [0, 255, 256, 69999, 4097]) {
    expect(() => verifyInclusion(i, 70000, leafHash(all[i] as Uint8Array), log.inclusionProof(i), rootOf(log.staged))).not.toThrow();
  }
});

test('a reopened log goes on where it stopped, and consistency proofs join its checkpoints', () => {
  const first = TileLog.open(dir, 'county.test/log', signer);
  first.append(Array.from({ length: 1000 }, (_, i) => entry(i)));
  const oldRoot = rootOf(first.staged);
  const again = TileLog.open(dir, 'county.test/log', signer);
  expect(again.size).toBe(1000);
  again.append(Array.from({ length: 77 }, (_, i) => entry(1000 + i)));
  expect(() => verifyConsistency(1000, 1077, oldRoot, rootOf(again.staged), again.consistencyProof(1000))).not.toThrow();
});

test('a log refuses to open over a right-edge tile that does not give its signed root, or another log\'s directory', () => {
  const log = TileLog.open(dir, 'county.test/log', signer);
  log.append(Array.from({ length: 600 }, (_, i) => entry(i)));
  expect(() => TileLog.open(dir, 'county.test/other', signer)).toThrow(/holds the log/);
  // the right edge is what the next append builds on (tiles inside the tree are the monitor's to check)
  const tile = path.join(dir, 'tile/0/002.p/88');
  const data = fs.readFileSync(tile);
  data.writeUInt8(data.readUInt8(40) ^ 1, 40);
  fs.writeFileSync(tile, data);
  expect(() => TileLog.open(dir, 'county.test/log', signer)).toThrow(/do not give the root/);
});
