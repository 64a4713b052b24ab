import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '@noble/hashes/sha256';
import { otsPath } from '../../app/formats/bundle-files';
import type { Publication } from '../../app/formats/publication-formats';
import { PublicationSchema } from '../../app/formats/publication-formats';
import { exportBundle } from '../../app/ledger/export';
import { decodeRecord } from '../../app/ledger/record';
import { ledgerWithBatches, tempDir } from '../ledger/fixtures';
import { publishOffline } from './offline-publication';

/*
 * The per-ballot .ots proofs, read by python-opentimestamps — the OpenTimestamps project's own library, as
 * Debian packages it — instead of by this project's reader: its file digest must be the ballot's leaf
 * (SHA-256 of 0x00 || record) and the message its operations compute must be the Merkle root in the header
 * of the block the anchor is in, at that block's height. (The `ots` command-line client would then ask a
 * Bitcoin node for that header; these blocks are made up, so the header comes from the publication.)
 */
const PYTHON = '/usr/bin/python3';
const READER = path.join(__dirname, 'ots-reference.py');

interface Reading {
  file: string;
  fileHashOp?: string;
  digest?: string;
  attestations?: { kind: string; height?: number; msg: string }[];
  error?: string;
}

function readWithPython(files: string[]): Reading[] {
  const r = spawnSync(PYTHON, [READER, ...files], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python-opentimestamps could not run (apt-get install python3-opentimestamps): ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Reading);
}

let work: string;
let bundle: string;
const leaves = new Map<string, { leaf: string; batch: number }>();
const publications = new Map<number, Publication>();

beforeAll(() => {
  work = tempDir('ots-reference-');
  const file = path.join(work, 'official.sqlite');
  ledgerWithBatches(file, [7, 4], { signer: 5, ballots: 505 });
  bundle = path.join(work, 'bundle');
  exportBundle(file, bundle);
  expect(publishOffline(bundle)).toMatchObject({ publications: 2, proofs: 11 });
  for (const batch of [1, 2]) {
    const name = `batch-${String(batch).padStart(6, '0')}`;
    publications.set(batch, PublicationSchema.parse(JSON.parse(fs.readFileSync(path.join(bundle, 'publication', `${name}.json`), 'utf8'))));
    const b = JSON.parse(fs.readFileSync(path.join(bundle, 'batches', `${name}.json`), 'utf8')) as { records: { record: string }[] };
    for (const r of b.records) {
      const record = Buffer.from(r.record, 'hex');
      leaves.set(decodeRecord(record).ballotId, { leaf: Buffer.from(sha256(Buffer.concat([Buffer.from([0]), record]))).toString('hex'), batch });
    }
  }
});

afterAll(() => {
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

/** The Merkle root field of an 80-byte block header, in the header's own byte order (what OTS commits to). */
function headerMerkleRoot(headerHex: string): string {
  return headerHex.slice(72, 136);
}

describe('.ots proofs read by python-opentimestamps', () => {
  it('reads every ballot’s proof to its leaf and to the anchor block’s Merkle root at its height', () => {
    const ids = [...leaves.keys()];
    expect(ids).toHaveLength(11);
    const readings = readWithPython(ids.map((id) => path.join(bundle, otsPath(id))));
    for (const [i, id] of ids.entries()) {
      const r = readings[i]!;
      const { leaf, batch } = leaves.get(id)!;
      const block = publications.get(batch)!.anchor.blocks[0]!;
      expect(r.error).toBeUndefined();
      expect(r.fileHashOp).toBe('sha256');
      expect(r.digest).toBe(leaf);
      expect(r.attestations).toEqual([{ kind: 'bitcoin', height: block.height, msg: headerMerkleRoot(block.header) }]);
    }
  });

  it('a proof with one operation argument changed computes another message (the comparison above can fail)', () => {
    const id = [...leaves.keys()][0]!;
    const bytes = fs.readFileSync(path.join(bundle, otsPath(id)));
    // the first append/prepend argument lies after the header (magic 31 + version 1 + op 1 + digest 32) and its op and length bytes
    const changed = Buffer.from(bytes);
    changed[31 + 1 + 1 + 32 + 2]! ^= 0x01;
    const copy = path.join(work, 'changed.ots');
    fs.writeFileSync(copy, changed);
    const [r] = readWithPython([copy]);
    const block = publications.get(leaves.get(id)!.batch)!.anchor.blocks[0]!;
    expect(r!.error).toBeUndefined();
    expect(r!.attestations).toHaveLength(1);
    expect(r!.attestations![0]!.msg).not.toBe(headerMerkleRoot(block.header));
  });

  it('refuses a file that is not a timestamp, naming why', () => {
    const copy = path.join(work, 'garbage.ots');
    fs.writeFileSync(copy, Buffer.from('not a timestamp at all'));
    const [r] = readWithPython([copy]);
    expect(r!.error).toMatch(/BadMagicError|Serialization/);
  });
});
