import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { formatCheckpoint } from '../../app/ledger/checkpoint';
import { MerkleTree, leafHash } from '../../app/ledger/merkle';
import { formatStationEntry } from '../../app/county/log/station-entry';
import { buildBallotCountyOts, buildBallotCountyProof } from '../../app/formats/ots-ballot-county';
import { BallotProofError } from '../../app/formats/ots-ballot';
import { applyOp, linearTimestamp, reachedAttestations, serializeDetached } from '../../app/formats/ots';
import { sha256 } from '../../app/ledger/hash';
import { tempDir } from '../support/ballots';

/**
 * One ballot's .ots through the county log, built without a chain: the record's path to the station
 * checkpoint's root, the checkpoint's text around that root (hexlify), the county entry's own proof after it.
 * python-opentimestamps must compute the same message from the ballot's leaf file; wrong links are refused.
 */

const records = [1, 2, 3, 4, 5].map((i) => new Uint8Array(Buffer.from(`ballot record ${i}`)));
const tree = new MerkleTree(records.map((r) => leafHash(r)));
const root = tree.root();
const body = formatCheckpoint({ mode: 'official', election: 'ab'.repeat(32), station: 'station-a', batch: 1, batchStart: 0, treeSize: 5, root, headSeq: 42, headHash: new Uint8Array(32).fill(9) });
const entry = formatStationEntry(body, new Uint8Array(64).fill(7));
/** the county's .ots of the entry: here one sha256 to a made-up header at height 7 */
const countyOts = serializeDetached({ fileHashOp: 'sha256', digest: leafHash(entry), timestamp: linearTimestamp([{ op: 'sha256' }], { kind: 'bitcoin', height: 7 }) });
const header = sha256(leafHash(entry));

test('every record of the checkpoint gets an .ots whose file is its leaf input and whose path reaches the county header; python-opentimestamps agrees', () => {
  const dir = tempDir('ots-ballot-county');
  const files: string[] = [];
  for (const [i, record] of records.entries()) {
    const input = { record, leafIndex: i, treeSize: 5, inclusionProof: tree.inclusionProof(i), entry, entryOts: countyOts };
    const [reached] = reachedAttestations(buildBallotCountyProof(input));
    expect(Buffer.from(reached?.msg ?? []).equals(header)).toBe(true);
    // the path passes through the entry's leaf hash: hexlify turned the root into the checkpoint's text
    let m: Uint8Array = leafHash(record);
    const seen: string[] = [];
    for (const op of reached?.path ?? []) {
      m = applyOp(op, m);
      seen.push(Buffer.from(m).toString('hex'));
    }
    expect(seen).toContain(leafHash(entry).toString('hex'));
    const built = buildBallotCountyOts(input);
    const file = path.join(dir, `ballot-${i}.ots`);
    fs.writeFileSync(file, built.ots);
    expect(Buffer.from(built.file).equals(Buffer.concat([Buffer.from([0]), record]))).toBe(true);
    files.push(file);
  }
  const r = spawnSync('/usr/bin/python3', [path.join(__dirname, '..', 'audit', 'ots-reference.py'), ...files], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const readings = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { digest: string; attestations: unknown[]; error?: string });
  expect(readings.map((x) => [x.error, x.digest, x.attestations])).toEqual(records.map((rec) => [undefined, leafHash(rec).toString('hex'), [{ kind: 'bitcoin', height: 7, msg: header.toString('hex') }]]));
});

test('a record not under this checkpoint, a checkpoint not this entry, a county .ots of another entry: each refused', () => {
  const good = { record: records[1] as Uint8Array, leafIndex: 1, treeSize: 5, inclusionProof: tree.inclusionProof(1), entry, entryOts: countyOts };
  expect(() => buildBallotCountyProof({ ...good, record: new Uint8Array(Buffer.from('another ballot')) })).toThrow(new BallotProofError("the record's inclusion path does not lead to the root this station checkpoint names"));
  const otherEntry = formatStationEntry(body.replace('head 42 ', 'head 43 '), new Uint8Array(64).fill(7));
  expect(() => buildBallotCountyProof({ ...good, entry: otherEntry })).toThrow("the county .ots is not this entry's");
  const otherOts = serializeDetached({ fileHashOp: 'sha256', digest: leafHash(otherEntry), timestamp: linearTimestamp([{ op: 'sha256' }], { kind: 'bitcoin', height: 7 }) });
  expect(() => buildBallotCountyProof({ ...good, entryOts: otherOts })).toThrow("the county .ots is not this entry's");
  const pending = serializeDetached({ fileHashOp: 'sha256', digest: leafHash(entry), timestamp: linearTimestamp([{ op: 'sha256' }], { kind: 'pending', uri: 'https://calendar.example' }) });
  expect(() => buildBallotCountyProof({ ...good, entryOts: pending })).toThrow('the county .ots reaches 0 block headers, not one');
  expect(() => buildBallotCountyProof({ ...good, entryOts: new Uint8Array([1, 2, 3]) })).toThrow(/the entry's \.ots is not readable/);
});
