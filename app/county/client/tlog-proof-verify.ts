import { leafHash, verifyInclusion } from '../../ledger/merkle';
import { parseTlogProof, type TlogProof } from '../tlog/proof';
import { TlogError } from '../tlog/stored-hashes';
import { openWitnessedCheckpoint, type TrustPolicy, type WitnessedCheckpoint } from './log-client';

/**
 * The four steps of C2SP tlog-proof verification: the leaf from the entry the caller holds, the log's
 * signature for its origin, the witnesses' cosignatures against the policy's quorum, the inclusion proof
 * from the leaf to the signed root.
 */
export function verifyTlogProof(text: string, entry: Uint8Array, trust: TrustPolicy): { proof: TlogProof; checkpoint: WitnessedCheckpoint } | TlogError {
  const proof = parseTlogProof(text);
  if (proof instanceof TlogError) return proof;
  const checkpoint = openWitnessedCheckpoint(proof.note, trust);
  if (checkpoint instanceof TlogError) return checkpoint;
  if (proof.index >= checkpoint.checkpoint.size) return new TlogError(`entry ${proof.index} is beyond the checkpoint's ${checkpoint.checkpoint.size} entries`);
  try {
    verifyInclusion(proof.index, checkpoint.checkpoint.size, leafHash(entry), proof.proof, checkpoint.checkpoint.root);
  } catch (e) {
    return new TlogError(`the entry is not at index ${proof.index} of the checkpointed tree: ${(e as Error).message}`);
  }
  return { proof, checkpoint };
}
