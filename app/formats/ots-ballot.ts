import { bytesEqual } from '../../lib/bytes';
import { leafHash } from '../ledger/merkle';
import { ANCHOR_BYTES, ANCHOR_MAGIC } from './publication-formats';
import { BlockProofError, blockMerkleRoot, branchOps, internalFromDisplay, merkleBranch, sha256d } from './block-proof';
import type { OtsAttestation, OtsOp } from './ots';
import { applyOps, linearTimestamp, serializeDetached } from './ots';
import type { DetachedTimestamp } from './ots';
import { reachedFromLeaf } from './ots-check';

/**
 * One ballot's OpenTimestamps proof: leaf → batch root → anchor txid → block merkle root → header.
 *
 * The timestamped "file" is the RFC 6962 leaf input, 0x00 || record: its SHA-256 (the .ots file hash op)
 * is the ballot's leaf hash, so the proof needs no step before the tree and `ots verify` runs on a file
 * holding exactly those bytes (the bundle writes it next to the proof as `ots/<ballot-id>`). Then:
 *   - per inclusion-proof level: (our node on the left) append sibling, prepend 0x01, sha256;
 *     (on the right) prepend 0x01 || sibling, sha256 — RFC 6962's node hash SHA-256(0x01 || left || right);
 *   - the batch root sits verbatim in the anchor's OP_RETURN: prepend the transaction's bytes before it,
 *     append those after it (witnesses stripped: the txid hashes the non-witness serialisation), sha256
 *     twice: the txid in internal byte order;
 *   - per block-tree level: append or prepend the sibling txid, sha256 twice;
 *   - a block header attestation with the height.
 */

export class BallotProofError extends Error {
  override readonly name = 'BallotProofError';
}

export interface BallotProofInput {
  readonly record: Uint8Array;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly inclusionProof: readonly Uint8Array[];
  readonly batchRoot: Uint8Array;
  /** the anchor transaction without witnesses */
  readonly anchorTx: Uint8Array;
  /** the anchor block's txids, display hex, in block order */
  readonly blockTxids: readonly string[];
  readonly anchorTxid: string;
  readonly height: number;
  /** the anchor block header's merkle root (internal order), checked against the path's end */
  readonly headerMerkleRoot: Uint8Array;
  readonly attestation?: 'bitcoin' | 'litecoin';
  /**
   * The operations from the batch root to the header merkle root, the same for every ballot of a batch:
   * pass anchorPathFor's result to build thousands of proofs without rebuilding the block's tree for each.
   * The built proof is still checked end to end against the header merkle root.
   */
  readonly anchorPath?: readonly OtsOp[];
}

/** The file whose SHA-256 is the ballot's leaf hash: what the .ots timestamps. */
export function leafFile(record: Uint8Array): Uint8Array {
  const out = new Uint8Array(record.length + 1);
  out.set(record, 1);
  return out;
}

/** The inclusion path as OpenTimestamps operations (RFC 9162 §2.1.3.2's walk, recording each side). */
export function inclusionOps(index: number, treeSize: number, proof: readonly Uint8Array[]): OtsOp[] {
  if (!Number.isSafeInteger(treeSize) || treeSize < 1 || !Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
    throw new BallotProofError(`leaf ${index} is not in a tree of ${treeSize}`);
  }
  const ops: OtsOp[] = [];
  let fn = index;
  let sn = treeSize - 1;
  for (const p of proof) {
    if (p.length !== 32) throw new BallotProofError(`an inclusion proof hash is 32 bytes, got ${p.length}`);
    if (sn === 0) throw new BallotProofError('the inclusion proof has too many hashes');
    if (fn % 2 === 1 || fn === sn) {
      const arg = new Uint8Array(33);
      arg[0] = 0x01;
      arg.set(p, 1);
      ops.push({ op: 'prepend', arg }, { op: 'sha256' });
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      ops.push({ op: 'append', arg: p }, { op: 'prepend', arg: Uint8Array.of(0x01) }, { op: 'sha256' });
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new BallotProofError('the inclusion proof has too few hashes');
  return ops;
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number[] {
  const at: number[] = [];
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    at.push(i);
  }
  return at;
}

/**
 * Which anchor payload a root sits in: the station's ("TPA" v1, 68 bytes) or the county log's ("TPC" v1,
 * county-anchor.ts). The root follows the 4-byte magic in both.
 */
export interface AnchorCarrier {
  readonly magic: Uint8Array;
  readonly bytes: number;
  readonly name: string;
}
export const STATION_ANCHOR: AnchorCarrier = { magic: ANCHOR_MAGIC, bytes: ANCHOR_BYTES, name: '"TPA" v1' };

/** prepend(bytes before the root) append(bytes after) sha256 sha256: root → txid (internal order). */
export function anchorTxOps(anchorTx: Uint8Array, batchRoot: Uint8Array, carrier: AnchorCarrier = STATION_ANCHOR): OtsOp[] {
  const payload = new Uint8Array(4 + 32);
  payload.set(carrier.magic, 0);
  payload.set(batchRoot, 4);
  const at = indexOfBytes(anchorTx, payload);
  if (at.length !== 1) throw new BallotProofError(at.length === 0 ? `the anchor transaction does not carry this root after the ${carrier.name} magic` : 'the anchor transaction carries the root more than once');
  const rootAt = (at[0] as number) + 4;
  if (rootAt + 32 + (carrier.bytes - 36) > anchorTx.length) throw new BallotProofError('the anchor payload is cut short');
  return [
    { op: 'prepend', arg: anchorTx.slice(0, rootAt) },
    { op: 'append', arg: anchorTx.slice(rootAt + 32) },
    { op: 'sha256' },
    { op: 'sha256' },
  ];
}

export type AnchorPathInput = Pick<BallotProofInput, 'batchRoot' | 'anchorTx' | 'anchorTxid' | 'blockTxids' | 'headerMerkleRoot'> & { readonly carrier?: AnchorCarrier };

/** Batch root → txid → header merkle root, each stage checked. Throws BallotProofError. */
export function anchorPathFor(input: AnchorPathInput): OtsOp[] {
  const txOps = anchorTxOps(input.anchorTx, input.batchRoot, input.carrier);
  const txid = applyOps(txOps, input.batchRoot);
  if (!bytesEqual(txid, sha256d(input.anchorTx)) || !bytesEqual(txid, internalFromDisplay(input.anchorTxid))) {
    throw new BallotProofError(`the anchor transaction bytes do not hash to txid ${input.anchorTxid}`);
  }
  const index = input.blockTxids.indexOf(input.anchorTxid);
  if (index < 0) throw new BallotProofError(`the anchor transaction ${input.anchorTxid} is not in the anchor block`);
  let blockOps: OtsOp[];
  try {
    const txids = input.blockTxids.map(internalFromDisplay);
    if (!bytesEqual(blockMerkleRoot(txids), input.headerMerkleRoot)) throw new BallotProofError("the anchor block's txids do not give its header's merkle root");
    blockOps = branchOps(merkleBranch(txids, index));
  } catch (e) {
    if (e instanceof BlockProofError) throw new BallotProofError(e.message);
    throw e;
  }
  const ops = [...txOps, ...blockOps];
  if (!bytesEqual(applyOps(ops, input.batchRoot), input.headerMerkleRoot)) throw new BallotProofError('the anchor path does not reach the header merkle root');
  return ops;
}

/** Builds the proof, checking each stage lands where it must (root, txid, header merkle root). */
export function buildBallotProof(input: BallotProofInput): DetachedTimestamp {
  const leaf = leafHash(input.record);
  const inc = inclusionOps(input.leafIndex, input.treeSize, input.inclusionProof);
  if (!bytesEqual(applyOps(inc, leaf), input.batchRoot)) throw new BallotProofError('the inclusion proof does not lead to the batch root');
  const ops = [...inc, ...(input.anchorPath ?? anchorPathFor(input))];
  if (!bytesEqual(applyOps(ops, leaf), input.headerMerkleRoot)) throw new BallotProofError('the proof does not reach the header merkle root');
  const attestation: OtsAttestation = { kind: input.attestation ?? 'bitcoin', height: input.height };
  return { fileHashOp: 'sha256', digest: leaf, timestamp: linearTimestamp(ops, attestation) };
}

export function buildBallotOts(input: BallotProofInput): Uint8Array {
  return serializeDetached(buildBallotProof(input));
}

export interface OtsCheck {
  readonly ok: boolean;
  readonly problem?: string;
  readonly height?: number;
}

/**
 * Checks a ballot's .ots as an independent OpenTimestamps verifier would (its file digest is the leaf hash
 * of this record; some block header attestation at `height` is reached with the header's merkle root), and
 * that it is exactly the proof this bundle's data gives, so a path through anything but the published
 * anchor is refused.
 */
export function checkBallotOts(ots: Uint8Array, expected: BallotProofInput): OtsCheck {
  const reached = reachedFromLeaf(ots, leafHash(expected.record), "this ballot record's");
  if (!reached.ok) return { ok: false, problem: reached.error };
  const block = reached.value.filter((r) => r.attestation.kind === 'bitcoin' || r.attestation.kind === 'litecoin');
  const hit = block.find((r) => 'height' in r.attestation && r.attestation.height === expected.height && bytesEqual(r.msg, expected.headerMerkleRoot));
  if (hit === undefined) {
    const heights = block.map((r) => ('height' in r.attestation ? r.attestation.height : -1));
    return { ok: false, problem: block.length === 0 ? 'it has no block header attestation' : `no attestation reaches the merkle root of block ${expected.height} (attests ${heights.join(', ')})` };
  }
  let want: Uint8Array;
  try {
    want = buildBallotOts(expected);
  } catch (e) {
    if (e instanceof BallotProofError) return { ok: false, problem: `the bundle's data give no proof: ${e.message}` };
    throw e;
  }
  if (!bytesEqual(want, ots)) return { ok: false, problem: 'it verifies but is not the proof through this batch root and anchor transaction' };
  return { ok: true, height: expected.height };
}
