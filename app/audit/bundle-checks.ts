import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { checkpointDigest, checkpointSignatureValid, parseCheckpoint } from '../ledger/checkpoint';
import type { Checkpoint } from '../ledger/checkpoint';
import { leafHash, verifyConsistency, verifyInclusion } from '../ledger/merkle';
import { decodeRecord } from '../ledger/record';
import type { BallotRecord } from '../ledger/record';
import type { Tally } from '../ledger/tally';
import type { BatchFile, Manifest } from '../formats/bundle-files';
import {
  BatchFileSchema,
  CheckpointListSchema,
  ConsistencyListSchema,
  ElectionFileSchema,
  ManifestSchema,
  StationKeySchema,
  StatusSchema,
  batchName,
  readBundleFile,
  readJson,
  sha256HexOfBytes,
} from '../formats/bundle-files';
import type { Findings, LoadedBatch } from './report';
import { errMsg, hex } from './report';

/** Steps 1 to 4 of `audit verify`: the bundle's own files, before anything on chain. */

/** 1. The manifest: every listed file has its size and digest, and nothing is there unlisted. */
export function checkManifest(dir: string, { pass, fail }: Findings): Manifest | undefined {
  let manifest: Manifest | undefined;
  try {
    manifest = readJson(dir, 'manifest.json', ManifestSchema);
    const listed = new Set<string>();
    let bad = 0;
    for (const f of manifest.files) {
      listed.add(f.path);
      let data: Buffer;
      try {
        data = readBundleFile(dir, f.path);
      } catch (e) {
        bad += 1;
        fail('manifest', errMsg(e));
        continue;
      }
      if (data.length !== f.bytes || sha256HexOfBytes(data) !== f.sha256) {
        bad += 1;
        fail('manifest', `${f.path}: changed since the manifest was written (${data.length} bytes, sha256 ${sha256HexOfBytes(data)}; manifest says ${f.bytes} bytes, ${f.sha256})`);
      }
    }
    for (const rel of listFiles(dir)) {
      if (rel !== 'manifest.json' && !listed.has(rel)) {
        bad += 1;
        fail('manifest', `${rel}: in the bundle but not in the manifest`);
      }
    }
    if (bad === 0) pass('manifest', `${manifest.files.length} files match their sizes and SHA-256 digests`);
  } catch (e) {
    fail('manifest', errMsg(e));
  }
  return manifest;
}

function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out;
}

export type StationKeyFile = z.infer<typeof StationKeySchema>;
export type ElectionFile = z.infer<typeof ElectionFileSchema>;
export type CheckpointList = z.infer<typeof CheckpointListSchema>;
export type BundleStatus = z.infer<typeof StatusSchema>;

export interface Statements {
  readonly stationKey: StationKeyFile;
  readonly election: ElectionFile;
  readonly cpList: CheckpointList;
  /** undefined when tally.json or status.json does not read (a `tally` failure) */
  readonly bundleTally: Tally | undefined;
  readonly status: BundleStatus | undefined;
}

/**
 * 2. The bundle's own statements: the station key, the election and the checkpoint list (without them
 * nothing further can be checked: undefined), the status and the tally.
 */
export function readStatements(dir: string, { fail }: Findings): Statements | undefined {
  let stationKey: StationKeyFile;
  let election: ElectionFile;
  let cpList: CheckpointList;
  let bundleTally: Tally | undefined;
  let status: BundleStatus | undefined;
  try {
    stationKey = readJson(dir, 'station-key.json', StationKeySchema);
    election = readJson(dir, 'election.json', ElectionFileSchema);
    cpList = readJson(dir, 'checkpoints.json', CheckpointListSchema);
  } catch (e) {
    fail('bundle', errMsg(e));
    return undefined;
  }
  try {
    status = readJson(dir, 'status.json', StatusSchema);
    bundleTally = JSON.parse(readBundleFile(dir, 'tally.json').toString('utf8')) as Tally;
  } catch (e) {
    fail('tally', errMsg(e));
  }
  return { stationKey, election, cpList, bundleTally, status };
}

/** 3. Checkpoints, batch files, inclusion proofs: the batches that read, in checkpoint order. */
export function checkBatches(dir: string, cpList: CheckpointList, manifest: Manifest | undefined, stationKey: StationKeyFile, findings: Findings): LoadedBatch[] {
  const stationPub = Buffer.from(stationKey.publicKey, 'hex');
  const batches: LoadedBatch[] = [];
  let expectedStart = 0;
  const seenBallots = new Map<string, number>();
  for (const entry of cpList) {
    const read = checkCheckpoint(dir, entry, { manifest, stationKey, stationPub, expectedStart }, findings);
    if (read === undefined) continue;
    const { body, cp } = read;
    expectedStart = cp.treeSize;
    const loaded = checkBatchFile(dir, entry.batch, cp, body, stationKey, seenBallots, findings);
    if (loaded !== undefined) batches.push(loaded);
  }
  return batches;
}

/** One checkpoint: its text, its station signature, and its batch starting where the previous one ended. */
function checkCheckpoint(
  dir: string,
  entry: CheckpointList[number],
  ctx: { manifest: Manifest | undefined; stationKey: StationKeyFile; stationPub: Buffer; expectedStart: number },
  { pass, fail }: Findings,
): { body: string; cp: Checkpoint } | undefined {
  const b = entry.batch;
  let body: string;
  let cp: Checkpoint;
  try {
    body = readBundleFile(dir, entry.file).toString('utf8');
    cp = parseCheckpoint(body);
  } catch (e) {
    fail('checkpoint', `${entry.file}: ${errMsg(e)}`, { batch: b });
    return undefined;
  }
  const { manifest, stationKey, stationPub, expectedStart } = ctx;
  const problems: string[] = [];
  if (cp.batch !== b) problems.push(`the checkpoint says batch ${cp.batch}`);
  if (cp.treeSize !== entry.treeSize || hex(cp.root) !== entry.root) problems.push('checkpoints.json disagrees with the checkpoint text on tree size or root');
  if (manifest !== undefined && (cp.mode !== manifest.mode || cp.election !== manifest.election || cp.station !== manifest.station)) problems.push('mode, election or station differs from the manifest');
  if (cp.station !== stationKey.stationId) problems.push(`signed for station ${cp.station}, the bundle's key is station ${stationKey.stationId}'s`);
  if (!checkpointSignatureValid(body, Buffer.from(entry.signature, 'hex'), stationPub)) problems.push("the signature is not the station key's over this checkpoint");
  if (cp.batchStart !== expectedStart) problems.push(`batch starts at leaf ${cp.batchStart}, the previous batch ended at ${expectedStart}`);
  if (problems.length > 0) {
    fail('checkpoint', `${entry.file}: ${problems.join('; ')}`, { batch: b });
  } else pass('checkpoint', `signed by the station key, tree size ${cp.treeSize}`, { batch: b });
  return { body, cp };
}

/**
 * Batch `b`'s file (as checkpoints.json numbers it) against its checkpoint: records decoded, of this batch, mode and station, no ballot
 * twice in the bundle, in leaf-hash order at their leaf indexes, each with an inclusion proof to the root.
 */
function checkBatchFile(
  dir: string,
  b: number,
  cp: Checkpoint,
  body: string,
  stationKey: StationKeyFile,
  seenBallots: Map<string, number>,
  { pass, fail }: Findings,
): LoadedBatch | undefined {
  let file: BatchFile;
  try {
    file = readJson(dir, `batches/${batchName(b)}.json`, BatchFileSchema);
  } catch (e) {
    fail('batch', errMsg(e), { batch: b });
    return undefined;
  }
  const bp: string[] = [];
  if (file.batch !== b || file.batchStart !== cp.batchStart || file.treeSize !== cp.treeSize || file.root !== hex(cp.root)) bp.push('batch, start, tree size or root differ from the checkpoint');
  if (file.records.length !== cp.treeSize - cp.batchStart) bp.push(`${file.records.length} records for ${cp.treeSize - cp.batchStart} leaves`);
  const records = file.records.map((r) => new Uint8Array(Buffer.from(r.record, 'hex')));
  const decoded: (BallotRecord | undefined)[] = [];
  let prevLeaf: Buffer | undefined;
  let inclusionOk = 0;
  file.records.forEach((r, i) => {
    const rec = records[i] as Uint8Array;
    let d: BallotRecord | undefined;
    try {
      d = decodeRecord(rec);
    } catch (e) {
      bp.push(`record ${i} does not decode: ${errMsg(e)}`);
    }
    decoded.push(d);
    const ballot = d?.ballotId ?? `record ${i}`;
    if (d !== undefined) {
      if (d.batch !== b) bp.push(`ballot ${d.ballotId} says batch ${d.batch}`);
      if (d.mode !== cp.mode) bp.push(`ballot ${d.ballotId} is ${d.mode} in a ${cp.mode} batch`);
      if (d.station !== stationKey.stationNumber) bp.push(`ballot ${d.ballotId} says station ${d.station}`);
      const before = seenBallots.get(d.ballotId);
      if (before !== undefined) bp.push(`ballot ${d.ballotId} is recorded twice (also in batch ${before})`);
      seenBallots.set(d.ballotId, b);
    }
    const leaf = leafHash(rec);
    if (prevLeaf !== undefined && Buffer.compare(prevLeaf, leaf) >= 0) bp.push(`records are not in leaf-hash order at record ${i}`);
    prevLeaf = leaf;
    if (r.leafIndex !== cp.batchStart + i) bp.push(`record ${i} has leaf index ${r.leafIndex}, expected ${cp.batchStart + i}`);
    try {
      verifyInclusion(r.leafIndex, cp.treeSize, leaf, r.inclusionProof.map((h) => Buffer.from(h, 'hex')), cp.root);
      inclusionOk += 1;
    } catch (e) {
      fail('inclusion', `leaf ${r.leafIndex}: ${errMsg(e)}`, { batch: b, ballot });
    }
  });
  if (bp.length > 0) fail('batch', `batches/${batchName(b)}.json: ${bp.join('; ')}`, { batch: b });
  else pass('batch', `${records.length} records, decoded, in leaf-hash order`, { batch: b });
  if (inclusionOk === file.records.length && file.records.length > 0) pass('inclusion', `${inclusionOk} inclusion proofs lead to the signed root`, { batch: b });
  return { checkpoint: cp, body, digest: checkpointDigest(body), file, records, decoded };
}

/** 4. Consistency between successive checkpoints: each extends the one before. */
export function checkConsistency(dir: string, batches: readonly LoadedBatch[], { pass, fail }: Findings): void {
  try {
    const cons = readJson(dir, 'consistency.json', ConsistencyListSchema);
    let bad = 0;
    let checked = 0;
    for (let i = 1; i < batches.length; i++) {
      const a = (batches[i - 1] as LoadedBatch).checkpoint;
      const c = (batches[i] as LoadedBatch).checkpoint;
      if (a.treeSize === 0) continue;
      const entry = cons.find((x) => x.fromBatch === a.batch && x.toBatch === c.batch);
      try {
        if (entry === undefined) throw new Error('no consistency proof in consistency.json');
        if (entry.size1 !== a.treeSize || entry.size2 !== c.treeSize) throw new Error(`proof is for sizes ${entry.size1} → ${entry.size2}, the checkpoints say ${a.treeSize} → ${c.treeSize}`);
        verifyConsistency(a.treeSize, c.treeSize, a.root, c.root, entry.proof.map((h) => Buffer.from(h, 'hex')));
        checked += 1;
      } catch (e) {
        bad += 1;
        fail('consistency', `batch ${a.batch} → ${c.batch}: ${errMsg(e)}`, { batch: c.batch });
      }
    }
    if (bad === 0) pass('consistency', `${checked} consistency proofs: each checkpoint extends the one before`);
  } catch (e) {
    fail('consistency', errMsg(e));
  }
}
