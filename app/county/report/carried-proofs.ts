import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bytesEqual } from '../../../lib/bytes';
import { formatStationEntry } from '../log/station-entry';
import { verifyTlogProof } from '../client/tlog-proof-verify';
import type { TrustPolicy } from '../client/log-client';
import { TlogError } from '../tlog/stored-hashes';
import { ENTRY_SUFFIX } from './carry';
import type { Receipt } from './receipts-file';
import type { SignedStationCheckpoint } from './signed-checkpoint';

/**
 * Proofs carried back: `county submit --trust` writes `batch-NNNNNN.tlog-proof` beside each entry file on the
 * export device; brought back to the station they become its receipts, as if the log had answered over the
 * network. A proof is taken only for the station's own checkpoint of the batch its name says, as the
 * station's ledger holds it (not the entry file beside it, which is only compared), and only once it
 * verifies against the station's county setting: the log's key, the witnesses' and the quorum.
 */

export const PROOF_SUFFIX = '.tlog-proof';
/** a tlog-proof is a checkpoint note and at most 63 hashes: a few kilobytes */
const MAX_PROOF_FILE = 64 * 1024;
const PROOF_NAME = /^batch-(\d{6,})\.tlog-proof$/;

export type ProofOutcome =
  | { readonly kind: 'recorded'; readonly file: string; readonly batch: number; readonly index: number; readonly treeSize: number; readonly cosignedBy: readonly string[] }
  | { readonly kind: 'already'; readonly file: string; readonly batch: number; readonly index: number }
  | { readonly kind: 'refused'; readonly file: string; readonly reason: string };

/** A proof that verified against the station's own entry, not yet set against the receipts. */
export interface CheckedProof {
  readonly file: string;
  readonly batch: number;
  readonly entryHash: string;
  readonly index: number;
  readonly treeSize: number;
  readonly cosignedBy: readonly string[];
  readonly text: string;
}

/**
 * The folder of `station` on the device: `<dir>/county/<station>` (the device), `<dir>/<station>` (its
 * county folder) or `dir` itself when it is that folder. Null when the device holds none.
 */
export function stationFolderOn(dir: string, station: string): string | null {
  for (const d of [path.join(dir, 'county', station), path.join(dir, station)]) if (isDir(d)) return d;
  return path.basename(path.resolve(dir)) === station && isDir(dir) ? dir : null;
}

function isDir(d: string): boolean {
  try {
    return fs.statSync(d).isDirectory();
  } catch {
    return false;
  }
}

/** The proof files in the station's folder (sorted); any other `.tlog-proof` name is there too, to be refused by name. */
export function proofFilesIn(folder: string): string[] {
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(PROOF_SUFFIX))
    .map((d) => path.join(folder, d.name))
    .sort();
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** One proof file checked against the station's ledger and trust policy; a refusal says why, naming the file. */
export function checkProofFile(file: string, station: string, checkpoints: readonly SignedStationCheckpoint[], trust: TrustPolicy): CheckedProof | { readonly refused: string } {
  const refuse = (why: string) => ({ refused: `${file}: ${why}` });
  const name = PROOF_NAME.exec(path.basename(file));
  if (name === null) return refuse(`not named batch-NNNNNN${PROOF_SUFFIX} as \`county submit --trust\` writes, so it names no batch`);
  const batch = Number(name[1]);
  const cp = checkpoints.find((c) => c.batch === batch);
  if (cp === undefined) return refuse(`station ${station}'s ledger has no checkpoint for batch ${batch} (it has ${checkpoints.length})`);
  const entry = formatStationEntry(cp.body, cp.signature);
  const beside = `${file.slice(0, -PROOF_SUFFIX.length)}${ENTRY_SUFFIX}`;
  let bytes: Buffer;
  try {
    if (fs.existsSync(beside) && !bytesEqual(new Uint8Array(fs.readFileSync(beside)), entry)) {
      return refuse(`${path.basename(beside)} beside it is not station ${station}'s checkpoint for batch ${batch} as its ledger holds it: keep the device for the election office`);
    }
    const size = fs.statSync(file).size;
    if (size > MAX_PROOF_FILE) return refuse(`${size} bytes is no tlog-proof (at most ${MAX_PROOF_FILE})`);
    bytes = fs.readFileSync(file);
    if (bytes.length > MAX_PROOF_FILE) return refuse(`${bytes.length} bytes is no tlog-proof (at most ${MAX_PROOF_FILE})`);
  } catch (e) {
    return refuse(`cannot read it: ${(e as Error).message}`);
  }
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) return refuse('not a tlog-proof (not text)');
  const check = verifyTlogProof(text, entry, trust);
  if (check instanceof TlogError) return refuse(`not a proof of station ${station}'s checkpoint for batch ${batch} in ${trust.log.name}: ${check.message}`);
  return { file, batch, entryHash: sha256(entry), index: check.proof.index, treeSize: check.checkpoint.checkpoint.size, cosignedBy: check.checkpoint.cosignedBy, text };
}

/**
 * A checked proof set against the receipts (changed in place when recorded). A receipt keeps its index: a
 * proof of another index for the batch, or a receipt for other bytes, is refused and the receipt kept.
 */
export function recordProof(receipts: Map<number, Receipt>, p: CheckedProof, now: Date): ProofOutcome {
  const had = receipts.get(p.batch);
  if (had === undefined) {
    receipts.set(p.batch, { batch: p.batch, entry: p.entryHash, index: p.index, answeredAt: now.toISOString(), tlogProof: p.text });
    return { kind: 'recorded', file: p.file, batch: p.batch, index: p.index, treeSize: p.treeSize, cosignedBy: p.cosignedBy };
  }
  if (had.entry !== p.entryHash) {
    return { kind: 'refused', file: p.file, reason: `${p.file}: the receipts hold another checkpoint for batch ${p.batch} (entry ${had.index}) than the station's ledger: kept as it is; call the election office` };
  }
  if (had.index !== p.index) {
    const was = had.tlogProof === null ? 'answered' : 'proven';
    return { kind: 'refused', file: p.file, reason: `${p.file}: proves batch ${p.batch} at entry ${p.index}, but the station's receipts already hold entry ${had.index} for it (${was}): kept entry ${had.index}; two indexes for one checkpoint are for the election office` };
  }
  if (had.tlogProof !== null) return { kind: 'already', file: p.file, batch: p.batch, index: p.index };
  receipts.set(p.batch, { ...had, tlogProof: p.text });
  return { kind: 'recorded', file: p.file, batch: p.batch, index: p.index, treeSize: p.treeSize, cosignedBy: p.cosignedBy };
}
