import { LedgerError } from './errors';
import { MerkleTree, leafHash } from './merkle';
import { decodeRecord } from './record';
import type { VerifyOptions } from './verify';
import { verifyLedgerFile } from './verify';

export interface BallotProof {
  readonly ballotId: string;
  readonly record: Uint8Array;
  readonly batch: number;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly root: Uint8Array;
  readonly inclusionProof: readonly Uint8Array[];
  /** the signed checkpoint the proof is against */
  readonly checkpoint: string;
  readonly signature: Uint8Array;
}

/**
 * The inclusion proof of one cast ballot against the checkpoint of the batch it was published in, from a
 * verified ledger. `undefined` if the ballot is not in any closed batch (never cast, or its batch is open).
 */
export function proveBallot(ledgerFile: string, ballotId: string, opts: VerifyOptions = {}): BallotProof | undefined {
  const report = verifyLedgerFile(ledgerFile, opts, { keepBatches: true });
  if (!report.ok || report.summary === undefined) {
    throw new LedgerError('corrupt', ledgerFile, `the ledger does not verify: entry ${report.problem?.seq}: ${report.problem?.message}`);
  }
  const wanted = ballotId.toUpperCase();
  const all = report.summary.batches.flatMap((b) => [...b.leaves]);
  for (const b of report.summary.batches) {
    const i = b.records.findIndex((r) => decodeRecord(r).ballotId === wanted);
    if (i < 0) continue;
    const c = b.checkpoint;
    const record = b.records[i] as Uint8Array;
    const leafIndex = c.batchStart + i;
    const tree = new MerkleTree(all.slice(0, c.treeSize));
    if (!tree.levels[0]?.[leafIndex]?.equals(leafHash(record))) throw new LedgerError('corrupt', ledgerFile, 'leaf order does not match the batch records');
    return { ballotId: wanted, record, batch: c.batch, leafIndex, treeSize: c.treeSize, root: c.root, inclusionProof: tree.inclusionProof(leafIndex), checkpoint: b.body, signature: b.signature };
  }
  return undefined;
}
