import { sha256 } from '@noble/hashes/sha256';
import { z } from 'zod';
import { bytesEqual } from '../../lib/bytes';
import { leafHash } from '../ledger/merkle';
import { BallotProofError, anchorPathFor, inclusionOps } from './ots-ballot';
import type { AnchorCarrier } from './ots-ballot';
import type { DetachedTimestamp, OtsAttestation } from './ots';
import { applyOps, linearTimestamp, serializeDetached } from './ots';
import { reachedFromLeaf } from './ots-check';
import { ChainPublicationSchema, FormatError, PublishedTxSchema } from './publication-formats';
import { attestationKind } from './ballot-proof-inputs';
import { parseHeader } from './headers';
import { opReturnPayloads, parseTx } from './raw-tx';

/**
 * The county log's anchor: one OP_RETURN per round committing to the log's cosigned checkpoint, and the
 * proof of one station checkpoint from its log entry to the block header. The contract between the county
 * (app/county/anchor, which writes both) and the auditor (app/audit, which checks them).
 *
 * Anchor payload (76 bytes, under every node's default 80-byte data-carrier limit):
 *   "TPC" | version 0x01 | tree root (32) | tree size (u64 big-endian) | SHA-256 of the cosigned checkpoint note (32)
 * The root sits verbatim so an OpenTimestamps proof reaches the transaction from an entry with append,
 * prepend and sha256 only (a checkpoint writes its root in base64, which no OpenTimestamps operation makes);
 * the note digest binds the exact note the log published, with the witnesses' cosignatures, so the block
 * shows a quorum had cosigned this tree by then.
 *
 * An entry's `.ots` timestamps the file `0x00 || entry` (RFC 6962's leaf input; its SHA-256 is the entry's
 * leaf hash), then: the inclusion path (prepend 0x01‖left or append right, prepend 0x01, sha256 per level),
 * the transaction bytes around the root, sha256 twice (the txid), the block's merkle branch, and a block
 * header attestation.
 */

export const COUNTY_ANCHOR_MAGIC = new Uint8Array([0x54, 0x50, 0x43, 0x01]); // "TPC" v1
export const COUNTY_ANCHOR_BYTES = 76;
export const COUNTY_ANCHOR: AnchorCarrier = { magic: COUNTY_ANCHOR_MAGIC, bytes: COUNTY_ANCHOR_BYTES, name: '"TPC" v1' };

export interface CountyAnchorPayload {
  readonly root: Uint8Array;
  readonly size: number;
  readonly noteDigest: Uint8Array;
}

export function noteDigest(note: string): Uint8Array {
  return sha256(new TextEncoder().encode(note));
}

export function encodeCountyAnchor(p: CountyAnchorPayload): Uint8Array {
  if (p.root.length !== 32 || p.noteDigest.length !== 32) throw new FormatError('a county anchor carries a 32-byte root and a 32-byte note digest');
  if (!Number.isSafeInteger(p.size) || p.size < 1) throw new FormatError(`a county anchor's tree size is a positive whole number, got ${p.size}`);
  const out = new Uint8Array(COUNTY_ANCHOR_BYTES);
  out.set(COUNTY_ANCHOR_MAGIC, 0);
  out.set(p.root, 4);
  new DataView(out.buffer).setBigUint64(36, BigInt(p.size));
  out.set(p.noteDigest, 44);
  return out;
}

export function decodeCountyAnchor(data: Uint8Array): CountyAnchorPayload {
  if (data.length !== COUNTY_ANCHOR_BYTES) throw new FormatError(`a county anchor is ${COUNTY_ANCHOR_BYTES} bytes, got ${data.length}`);
  for (let i = 0; i < 4; i++) if (data[i] !== COUNTY_ANCHOR_MAGIC[i]) throw new FormatError('not a Tallyproof county anchor (no "TPC" v1 magic)');
  const size = new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(36);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError('the county anchor names an impossible tree size');
  return { root: data.slice(4, 36), size: Number(size), noteDigest: data.slice(44, 76) };
}

/**
 * `round-<N>.json`: where one round's anchor landed, written by the county once the anchor is confirmed and
 * withdrawn (moved aside) if a reorg takes it out. A county proof carries it.
 */
export const CountyAnchorFileSchema = z.strictObject({
  format: z.literal('tallyproof-county-anchor/1'),
  round: z.number().int().positive(),
  origin: z.string().min(1),
  treeSize: z.number().int().positive(),
  /** the cosigned checkpoint note exactly as the log published it; its SHA-256 is in the payload */
  checkpoint: z.string().min(1),
  anchor: ChainPublicationSchema.extend({ tx: PublishedTxSchema, confirmations: z.number().int().positive() }),
});
export type CountyAnchorFile = z.infer<typeof CountyAnchorFileSchema>;

export interface CountyProofInput {
  readonly entry: Uint8Array;
  readonly index: number;
  readonly treeSize: number;
  readonly inclusionProof: readonly Uint8Array[];
  readonly root: Uint8Array;
  /** the anchor transaction without witnesses */
  readonly anchorTx: Uint8Array;
  readonly anchorTxid: string;
  /** the anchor block's txids, display hex, in block order */
  readonly blockTxids: readonly string[];
  readonly height: number;
  readonly headerMerkleRoot: Uint8Array;
  readonly attestation: 'bitcoin' | 'litecoin';
}

/** The entry's proof to the block header, each stage checked (county root, txid, header merkle root). Throws BallotProofError. */
export function buildCountyProof(input: CountyProofInput): DetachedTimestamp {
  const leaf = leafHash(input.entry);
  const inc = inclusionOps(input.index, input.treeSize, input.inclusionProof);
  if (!bytesEqual(applyOps(inc, leaf), input.root)) throw new BallotProofError('the inclusion proof does not lead to the county checkpoint root');
  const ops = [...inc, ...anchorPathFor({ batchRoot: input.root, anchorTx: input.anchorTx, anchorTxid: input.anchorTxid, blockTxids: input.blockTxids, headerMerkleRoot: input.headerMerkleRoot, carrier: COUNTY_ANCHOR })];
  if (!bytesEqual(applyOps(ops, leaf), input.headerMerkleRoot)) throw new BallotProofError('the proof does not reach the header merkle root');
  const attestation: OtsAttestation = { kind: input.attestation, height: input.height };
  return { fileHashOp: 'sha256', digest: leaf, timestamp: linearTimestamp(ops, attestation) };
}

export function buildCountyOts(input: CountyProofInput): Uint8Array {
  return serializeDetached(buildCountyProof(input));
}

/**
 * Checks an entry's .ots as an OpenTimestamps verifier would (file digest = the entry's leaf hash, a block
 * header attestation at `height` reached with the header's merkle root), and that it is exactly the proof
 * the given inclusion proof and anchor give, so a path through another root or transaction is refused.
 */
export function checkCountyOts(ots: Uint8Array, expected: CountyProofInput): { ok: true } | { ok: false; problem: string } {
  const reached = reachedFromLeaf(ots, leafHash(expected.entry), "this station checkpoint's");
  if (!reached.ok) return { ok: false, problem: reached.error };
  const hit = reached.value.find((r) => (r.attestation.kind === 'bitcoin' || r.attestation.kind === 'litecoin') && r.attestation.height === expected.height && bytesEqual(r.msg, expected.headerMerkleRoot));
  if (hit === undefined) return { ok: false, problem: `no attestation reaches the merkle root of block ${expected.height}` };
  let want: Uint8Array;
  try {
    want = buildCountyOts(expected);
  } catch (e) {
    if (e instanceof BallotProofError) return { ok: false, problem: e.message };
    throw e;
  }
  if (!bytesEqual(want, ots)) return { ok: false, problem: 'it reaches a block but not through this county checkpoint and anchor transaction' };
  return { ok: true };
}

/**
 * What an entry's proof is built from, read from a round's anchor file: the county tree the payload
 * carries (checked against the note's digest, root and size), the stripped transaction, and the block.
 * Throws BallotProofError naming the link that fails. The county writing a proof and the auditor checking
 * one use this one definition.
 */
export function countyProofInputs(anchor: CountyAnchorFile, tree: { size: number; root: Uint8Array }, entry: Uint8Array, index: number, inclusionProof: readonly Uint8Array[]): CountyProofInput {
  const block = anchor.anchor.blocks.find((b) => b.hash === anchor.anchor.tx.blockHash);
  if (block === undefined) throw new BallotProofError(`round ${anchor.round}: the anchor file carries no block ${anchor.anchor.tx.blockHash} for its transaction`);
  const header = parseHeader(Buffer.from(block.header, 'hex'));
  if (header.hash !== block.hash) throw new BallotProofError(`round ${anchor.round}: the anchor block header hashes to ${header.hash}, not ${block.hash}`);
  const tx = parseTx(anchor.anchor.tx.hex, { floData: false });
  if (tx.txid !== anchor.anchor.tx.txid) throw new BallotProofError(`round ${anchor.round}: the anchor transaction's bytes hash to ${tx.txid}, not ${anchor.anchor.tx.txid}`);
  const payloads = opReturnPayloads(tx).filter((p) => p.length === COUNTY_ANCHOR_BYTES && COUNTY_ANCHOR_MAGIC.every((b, i) => p[i] === b));
  if (payloads.length !== 1) throw new BallotProofError(`round ${anchor.round}: the anchor transaction ${tx.txid} carries ${payloads.length} county anchors, not one`);
  const payload = decodeCountyAnchor(payloads[0] as Uint8Array);
  if (!bytesEqual(payload.noteDigest, noteDigest(anchor.checkpoint))) throw new BallotProofError(`round ${anchor.round}: the anchor transaction ${tx.txid} does not commit to this cosigned checkpoint (its note digest differs)`);
  if (!bytesEqual(payload.root, tree.root) || payload.size !== tree.size) throw new BallotProofError(`round ${anchor.round}: the anchor transaction carries tree size ${payload.size}, not the checkpoint's ${tree.size} (or another root)`);
  return {
    entry,
    index,
    treeSize: tree.size,
    inclusionProof,
    root: tree.root,
    anchorTx: tx.stripped,
    anchorTxid: tx.txid,
    blockTxids: block.txids,
    height: block.height,
    headerMerkleRoot: header.merkleRoot,
    attestation: attestationKind(anchor.anchor),
  };
}

/** `<name>.county-proof.json`: the files of one station checkpoint's county proof. */
export const CountyProofManifestSchema = z.strictObject({
  format: z.literal('tallyproof-county-proof/1'),
  station: z.string().min(1),
  batch: z.number().int().positive(),
  index: z.number().int().nonnegative(),
  round: z.number().int().positive(),
  origin: z.string().min(1),
  files: z.strictObject({ entry: z.string(), leaf: z.string(), ots: z.string(), tlogProof: z.string(), anchor: z.string() }),
});
export type CountyProofManifest = z.infer<typeof CountyProofManifestSchema>;
