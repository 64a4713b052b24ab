import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, siblingPath, writeTreeSynced } from '../../lib/durable-fs';
import type { Manifest } from '../formats/bundle-files';
import {
  BatchFileSchema,
  BundleError,
  CheckpointListSchema,
  ManifestSchema,
  batchName,
  jsonText,
  leafFilePath,
  manifestText,
  otsPath,
  publicationPath,
  readBundleFile,
  readJson,
  sha256HexOfBytes,
} from '../formats/bundle-files';
import type { Publication } from '../formats/publication-formats';
import { PublicationSchema } from '../formats/publication-formats';
import { BallotProofError, buildBallotOts, leafFile } from '../formats/ots-ballot';
import { proofInputs } from '../formats/ballot-proof-inputs';
import { checkpointDigest } from '../ledger/checkpoint';
import type { PendingFile } from '../formats/bundle-pending';
import { pendingPath } from '../formats/bundle-pending';

/**
 * Completes an auditor's bundle with where its batches landed on chain: `publication/batch-<N>.json` per
 * publication and, for every ballot record of those batches, `ots/<ballot-id>.ots` with the leaf file it
 * timestamps. The manifest is rewritten with the new files' digests (same shape as `ledger export`'s).
 * The whole bundle is rebuilt in a temporary sibling and swapped in, so a reader sees the old bundle or
 * the new one, never a mix; a crash between the two renames leaves the old one at `.<name>.old-*`.
 */

export interface CompleteResult {
  readonly dir: string;
  readonly publications: number;
  readonly pending: number;
  readonly proofs: number;
  readonly largestProofBytes: number;
}

/**
 * `pending`: batches signed and not published (bundle-pending.ts), each written as `pending/batch-<N>.json`
 * so the audit can check their signed transactions and say what state they are in.
 */
export function completeBundle(bundleDir: string, publications: readonly Publication[], pending: readonly PendingFile[] = []): CompleteResult {
  const dir = path.resolve(bundleDir);
  const manifest: Manifest = readJson(dir, 'manifest.json', ManifestSchema);
  const checkpoints = readJson(dir, 'checkpoints.json', CheckpointListSchema);
  const added = new Map<string, Uint8Array>();
  let proofs = 0;
  let largest = 0;
  const seen = new Set<number>();
  for (const raw of publications) {
    const parsed = PublicationSchema.safeParse(raw);
    if (!parsed.success) throw new BundleError(`publication for batch ${String((raw as { batch?: unknown }).batch)}`, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const pub = parsed.data;
    if (seen.has(pub.batch)) throw new BundleError(publicationPath(pub.batch), 'two publications for the same batch');
    seen.add(pub.batch);
    const cp = checkpoints.find((c) => c.batch === pub.batch);
    if (cp === undefined) throw new BundleError(publicationPath(pub.batch), `the bundle has no checkpoint for batch ${pub.batch}`);
    const body = readBundleFile(dir, cp.file).toString('utf8');
    const digest = Buffer.from(checkpointDigest(body)).toString('hex');
    if (digest !== pub.checkpointDigest) throw new BundleError(publicationPath(pub.batch), `checkpoint digest ${pub.checkpointDigest} is not the bundle's batch ${pub.batch} checkpoint (${digest})`);
    const batch = readJson(dir, `batches/${batchName(pub.batch)}.json`, BatchFileSchema);
    added.set(publicationPath(pub.batch), Buffer.from(jsonText(pub), 'utf8'));
    let inputs;
    try {
      inputs = proofInputs(batch, pub);
    } catch (e) {
      throw new BundleError(publicationPath(pub.batch), (e as Error).message);
    }
    for (const { ballotId, input } of inputs) {
      let ots: Uint8Array;
      try {
        ots = buildBallotOts(input);
      } catch (e) {
        if (e instanceof BallotProofError) throw new BundleError(publicationPath(pub.batch), `ballot ${ballotId}: ${e.message}`);
        throw e;
      }
      added.set(otsPath(ballotId), ots);
      added.set(leafFilePath(ballotId), leafFile(input.record));
      proofs += 1;
      largest = Math.max(largest, ots.length);
    }
  }
  for (const p of pending) {
    if (seen.has(p.batch)) throw new BundleError(pendingPath(p.batch), 'the batch has a publication and a pending statement');
    const cp = checkpoints.find((c) => c.batch === p.batch);
    if (cp === undefined) throw new BundleError(pendingPath(p.batch), `the bundle has no checkpoint for batch ${p.batch}`);
    const digest = Buffer.from(checkpointDigest(readBundleFile(dir, cp.file).toString('utf8'))).toString('hex');
    if (digest !== p.checkpointDigest) throw new BundleError(pendingPath(p.batch), `signed for checkpoint ${p.checkpointDigest}, the bundle's batch ${p.batch} checkpoint is ${digest}`);
    added.set(pendingPath(p.batch), Buffer.from(jsonText(p), 'utf8'));
  }
  const files = new Map(manifest.files.map((f) => [f.path, f]));
  for (const [rel, data] of added) files.set(rel, { path: rel, bytes: data.length, sha256: sha256HexOfBytes(data) });
  const next: Manifest = { ...manifest, files: [...files.values()] };
  added.set('manifest.json', Buffer.from(manifestText(next), 'utf8'));
  replaceBundle(dir, added);
  return { dir, publications: seen.size, pending: pending.length, proofs, largestProofBytes: largest };
}

function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** Copies the bundle with `changed` applied into a sibling, flushes it, and swaps it in. */
function replaceBundle(dir: string, changed: ReadonlyMap<string, Uint8Array>): void {
  const parent = path.dirname(dir);
  const tmp = siblingPath(dir, 'tmp');
  const old = siblingPath(dir, 'old');
  try {
    const kept = listFiles(dir)
      .filter((rel) => !changed.has(rel))
      .map((rel) => [rel, fs.readFileSync(path.join(dir, rel))] as const);
    writeTreeSynced(tmp, [...kept, ...changed]);
    fs.renameSync(dir, old);
    fs.renameSync(tmp, dir);
    fsyncDir(parent);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(dir) && fs.existsSync(old)) fs.renameSync(old, dir);
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new BundleError(dir, 'the disk filled while completing the bundle; it is unchanged');
    throw e;
  }
  fs.rmSync(old, { recursive: true, force: true });
}
