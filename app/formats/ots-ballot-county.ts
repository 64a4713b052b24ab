import { bytesEqual } from '../../lib/bytes';
import { leafHash } from '../ledger/merkle';
import { BallotProofError, inclusionOps, leafFile } from './ots-ballot';
import type { DetachedTimestamp, OtsOp } from './ots';
import { OtsError, applyOps, linearTimestamp, parseDetached, reachedAttestations, serializeDetached } from './ots';

/**
 * One ballot's OpenTimestamps proof through the county log: paper → block header in one file any
 * OpenTimestamps verifier reads. The timestamped file is the ballot's RFC 6962 leaf input (0x00 || record,
 * as `ots-ballot.ts`), then:
 *   - the station tree: the record's inclusion path to the station checkpoint's root (`inclusionOps`);
 *   - the station's signed checkpoint: `hexlify` (the checkpoint writes its root as lowercase hex), prepend
 *     0x00 and the entry's text before the root, append the text after it (the rest of the checkpoint and the
 *     station's signature line), sha256: the county log entry's leaf hash;
 *   - the entry's county proof (`county proof`'s `.ots`): its path from that leaf hash to the block header.
 * Each stage is checked as it is built; a record that is not under the checkpoint, a checkpoint that is not
 * the entry, or a county proof of another entry is refused.
 */

export interface BallotCountyInput {
  readonly record: Uint8Array;
  readonly leafIndex: number;
  /** the station checkpoint's tree size and the record's inclusion proof in it (the export bundle's batch file) */
  readonly treeSize: number;
  readonly inclusionProof: readonly Uint8Array[];
  /** the county log entry: the station's checkpoint text and its `signature` line */
  readonly entry: Uint8Array;
  /** the entry's .ots from `county proof` */
  readonly entryOts: Uint8Array;
}

export function buildBallotCountyProof(input: BallotCountyInput): DetachedTimestamp {
  const leaf = leafHash(input.record);
  const inc = inclusionOps(input.leafIndex, input.treeSize, input.inclusionProof);
  const root = applyOps(inc, leaf);
  const text = Buffer.from(input.entry);
  const line = Buffer.from(`\nroot ${Buffer.from(root).toString('hex')}\n`, 'latin1');
  const at = text.indexOf(line);
  if (at < 0 || text.indexOf(line, at + 1) >= 0) throw new BallotProofError("the record's inclusion path does not lead to the root this station checkpoint names");
  const rootAt = at + '\nroot '.length;
  const entryOps: OtsOp[] = [
    { op: 'hexlify' },
    { op: 'prepend', arg: new Uint8Array(Buffer.concat([Buffer.from([0x00]), text.subarray(0, rootAt)])) },
    { op: 'append', arg: new Uint8Array(text.subarray(rootAt + 64)) },
    { op: 'sha256' },
  ];
  const entryLeaf = leafHash(input.entry);
  if (!bytesEqual(applyOps(entryOps, root), entryLeaf)) throw new BallotProofError('the station checkpoint does not hash to the county entry');
  let county: DetachedTimestamp;
  try {
    county = parseDetached(input.entryOts);
  } catch (e) {
    if (e instanceof OtsError) throw new BallotProofError(`the entry's .ots is not readable: ${e.message}`);
    throw e;
  }
  if (county.fileHashOp !== 'sha256' || !bytesEqual(county.digest, entryLeaf)) throw new BallotProofError("the county .ots is not this entry's (its file digest is another leaf hash)");
  const reached = reachedAttestations(county).filter((r) => r.attestation.kind === 'bitcoin' || r.attestation.kind === 'litecoin');
  const [hit] = reached;
  if (hit === undefined || reached.length !== 1) throw new BallotProofError(`the county .ots reaches ${reached.length} block headers, not one`);
  return { fileHashOp: 'sha256', digest: leaf, timestamp: linearTimestamp([...inc, ...entryOps, ...hit.path], hit.attestation) };
}

/** The ballot's .ots bytes, and the file it timestamps (0x00 || record). */
export function buildBallotCountyOts(input: BallotCountyInput): { ots: Uint8Array; file: Uint8Array } {
  return { ots: serializeDetached(buildBallotCountyProof(input)), file: leafFile(input.record) };
}
