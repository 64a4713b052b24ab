import { sha256 } from '@noble/hashes/sha256';
import { z } from 'zod';

/**
 * The bytes Tallyproof puts on chains, and the publication file an auditor's bundle carries. This module
 * is the contract between the publisher (records and anchor transactions) and the auditor's tools (.ots
 * proofs, `audit verify`): both sides import it and nothing else of each other.
 *
 * Records field (one per high-capacity transaction, in floData or an OP_RETURN):
 *   "TPR" | version 0x01 | first 16 bytes of the checkpoint digest | chunk index u16 BE | chunk count u16 BE
 *   | a record pack (app/ledger/record-pack.ts, RECORD.md: format byte, the shared record contexts once, then
 *     each record's own bytes, in leaf-hash order)
 * 24 bytes of header leave 1,016 of a 1,040-byte field for the pack: 44 worst-case four-contest municipal
 * records, 20 of the 24-contest general ballot.
 *
 * Anchor (one OP_RETURN per checkpoint, 68 bytes, under every node's default 80-byte data-carrier limit):
 *   "TPA" | version 0x01 | batch root (32) | commitment (32)
 *   commitment = SHA-256(checkpoint digest (32) || SHA-256(records field 0 || field 1 || ... ))
 * The root sits in the transaction verbatim, so a proof from a ballot's leaf reaches the txid with only
 * append/prepend/sha256 steps (OpenTimestamps); the commitment binds the ledger head (inside the
 * checkpoint) and exactly the records published on the high-capacity chain.
 */

export const RECORDS_MAGIC = new Uint8Array([0x54, 0x50, 0x52, 0x01]); // "TPR" v1
export const ANCHOR_MAGIC = new Uint8Array([0x54, 0x50, 0x41, 0x01]); // "TPA" v1
export const RECORDS_HEADER_BYTES = 24;
export const CHECKPOINT_PREFIX_BYTES = 16;
export const ANCHOR_BYTES = 68;

export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

export interface RecordsFieldHeader {
  readonly checkpointPrefix: Uint8Array;
  readonly chunk: number;
  readonly chunks: number;
}

export function encodeRecordsField(checkpointDigest: Uint8Array, chunk: number, chunks: number, pack: Uint8Array): Uint8Array {
  if (checkpointDigest.length !== 32) throw new FormatError('a checkpoint digest is 32 bytes');
  if (!Number.isInteger(chunks) || chunks < 1 || chunks > 0xffff) throw new FormatError(`chunk count must be 1..65535, got ${chunks}`);
  if (!Number.isInteger(chunk) || chunk < 0 || chunk >= chunks) throw new FormatError(`chunk index must be 0..${chunks - 1}, got ${chunk}`);
  const out = new Uint8Array(RECORDS_HEADER_BYTES + pack.length);
  out.set(RECORDS_MAGIC, 0);
  out.set(checkpointDigest.subarray(0, CHECKPOINT_PREFIX_BYTES), 4);
  const dv = new DataView(out.buffer);
  dv.setUint16(20, chunk);
  dv.setUint16(22, chunks);
  out.set(pack, RECORDS_HEADER_BYTES);
  return out;
}

export function decodeRecordsField(field: Uint8Array): { header: RecordsFieldHeader; pack: Uint8Array } {
  if (field.length <= RECORDS_HEADER_BYTES) throw new FormatError(`a records field is longer than its ${RECORDS_HEADER_BYTES}-byte header, got ${field.length} bytes`);
  for (let i = 0; i < 4; i++) if (field[i] !== RECORDS_MAGIC[i]) throw new FormatError('not a Tallyproof records field (no "TPR" v1 magic)');
  const dv = new DataView(field.buffer, field.byteOffset, field.byteLength);
  const chunk = dv.getUint16(20);
  const chunks = dv.getUint16(22);
  if (chunks < 1 || chunk >= chunks) throw new FormatError(`records field says chunk ${chunk} of ${chunks}`);
  return { header: { checkpointPrefix: field.slice(4, 20), chunk, chunks }, pack: field.slice(RECORDS_HEADER_BYTES) };
}

/** SHA-256 over the records fields in chunk order: what the anchor commits to on the records' behalf. */
export function recordsDigest(fields: readonly Uint8Array[]): Uint8Array {
  const h = sha256.create();
  for (const f of fields) h.update(f);
  return h.digest();
}

export function anchorCommitment(checkpointDigest: Uint8Array, recordsFieldsDigest: Uint8Array): Uint8Array {
  if (checkpointDigest.length !== 32 || recordsFieldsDigest.length !== 32) throw new FormatError('anchor commitment inputs are 32-byte digests');
  const buf = new Uint8Array(64);
  buf.set(checkpointDigest, 0);
  buf.set(recordsFieldsDigest, 32);
  return sha256(buf);
}

export function encodeAnchor(batchRoot: Uint8Array, commitment: Uint8Array): Uint8Array {
  if (batchRoot.length !== 32 || commitment.length !== 32) throw new FormatError('anchor root and commitment are 32 bytes each');
  const out = new Uint8Array(ANCHOR_BYTES);
  out.set(ANCHOR_MAGIC, 0);
  out.set(batchRoot, 4);
  out.set(commitment, 36);
  return out;
}

export function decodeAnchor(data: Uint8Array): { root: Uint8Array; commitment: Uint8Array } {
  if (data.length !== ANCHOR_BYTES) throw new FormatError(`an anchor is ${ANCHOR_BYTES} bytes, got ${data.length}`);
  for (let i = 0; i < 4; i++) if (data[i] !== ANCHOR_MAGIC[i]) throw new FormatError('not a Tallyproof anchor (no "TPA" v1 magic)');
  return { root: data.slice(4, 36), commitment: data.slice(36, 68) };
}

const hex = (bytes?: number) =>
  z.string().regex(bytes === undefined ? /^(?:[0-9a-f]{2})+$/ : new RegExp(`^[0-9a-f]{${bytes * 2}}$`), bytes === undefined ? 'lowercase hex' : `${bytes * 2} lowercase hex digits`);

/** A block the bundle carries so proofs verify with no node: header, height, and every txid (RPC display order, hex). */
export const CarriedBlockSchema = z.strictObject({
  hash: hex(32),
  height: z.number().int().nonnegative(),
  header: hex(80),
  txids: z.array(hex(32)).min(1),
});

export const PublishedTxSchema = z.strictObject({
  txid: hex(32),
  hex: hex(),
  blockHash: hex(32),
});

export const ChainPublicationSchema = z.strictObject({
  /** chain profile name from chains.json, e.g. "florincoin", "bitcoin", "litecoin-regtest" */
  chain: z.string().min(1),
  network: z.string().min(1),
  genesisHash: hex(32),
  /** the blocks holding the transactions, then the headers after them up to the confirmation depth */
  blocks: z.array(CarriedBlockSchema).min(1),
  headersAfter: z.array(z.strictObject({ height: z.number().int().nonnegative(), header: hex(80) })),
});

/**
 * `publication/batch-<N>.json` in the auditor's bundle: where one checkpoint's records and anchor landed.
 */
export const PublicationSchema = z.strictObject({
  format: z.literal('tallyproof-publication/1'),
  batch: z.number().int().positive(),
  /** SHA-256 of the checkpoint's text (app/ledger/checkpoint.ts checkpointDigest) */
  checkpointDigest: hex(32),
  records: ChainPublicationSchema.extend({
    carrier: z.enum(['op_return', 'flodata']),
    /** one per records field, in chunk order */
    txs: z.array(PublishedTxSchema.extend({ chunk: z.number().int().nonnegative() })).min(1),
  }),
  anchor: ChainPublicationSchema.extend({
    tx: PublishedTxSchema,
    confirmations: z.number().int().positive(),
  }),
});
export type Publication = z.infer<typeof PublicationSchema>;
export type CarriedBlock = z.infer<typeof CarriedBlockSchema>;
