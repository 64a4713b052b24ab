import { unpackRecords } from '../ledger/record-pack';
import type { PendingFile } from '../formats/bundle-pending';
import { ANCHOR_MAGIC, CHECKPOINT_PREFIX_BYTES, RECORDS_MAGIC, anchorCommitment, decodeAnchor, decodeRecordsField, recordsDigest } from '../formats/publication-formats';
import { opReturnPayloads, parseTx } from '../formats/raw-tx';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export interface PendingCheck {
  readonly problems: readonly string[];
  /** the records fields in chunk order, when the signed records transactions hold exactly the batch */
  readonly chunks: number;
}

/**
 * Offline checks of a batch's signed transactions against the batch: each txid is its bytes' hash, the
 * records fields hold chunks 0..n-1 once each with this checkpoint's prefix and exactly the batch's records
 * in order, and the anchor carries the checkpoint's root and the commitment to those fields. Input
 * signatures are not checked: that needs the coins they spend, which only a node has.
 */
export function checkPendingTxs(p: PendingFile, batch: { digest: Uint8Array; root: Uint8Array; records: readonly Uint8Array[] }): PendingCheck {
  const problems: string[] = [];
  if (p.checkpointDigest !== hex(batch.digest)) problems.push(`signed for checkpoint ${p.checkpointDigest}, the batch's checkpoint is ${hex(batch.digest)}`);
  const floData = p.records.carrier === 'flodata';
  const byChunk = new Map<number, Uint8Array>();
  let count: number | undefined;
  for (const t of p.records.txs) {
    try {
      const tx = parseTx(t.hex, { floData });
      if (tx.txid !== t.txid) throw new Error(`its bytes hash to ${tx.txid}`);
      let field: Uint8Array | undefined;
      if (floData) field = tx.floData;
      else {
        const found = opReturnPayloads(tx).filter((d) => RECORDS_MAGIC.every((m, i) => d[i] === m));
        if (found.length > 1) throw new Error('more than one records field');
        field = found[0];
      }
      if (field === undefined || field.length === 0) throw new Error(`carries no records field (${p.records.carrier})`);
      const { header } = decodeRecordsField(field);
      if (header.chunk !== t.chunk) throw new Error(`its field is chunk ${header.chunk}, the file says ${t.chunk}`);
      if (hex(header.checkpointPrefix) !== hex(batch.digest.subarray(0, CHECKPOINT_PREFIX_BYTES))) throw new Error("its field names another checkpoint (prefix differs from this batch's checkpoint digest)");
      if (count !== undefined && header.chunks !== count) throw new Error(`says ${header.chunks} chunks, another says ${count}`);
      count = header.chunks;
      if (byChunk.has(header.chunk)) throw new Error(`chunk ${header.chunk} appears more than once`);
      byChunk.set(header.chunk, field);
    } catch (e) {
      problems.push(`signed records tx ${t.txid}: ${errMsg(e)}`);
    }
  }
  if (count === undefined && problems.length === 0) problems.push('no signed records transactions');
  const fields: Uint8Array[] = [];
  if (count !== undefined) for (let i = 0; i < count; i++) {
    const f = byChunk.get(i);
    if (f === undefined) problems.push(`chunk ${i} of ${count} is not signed`);
    else fields.push(f);
  }
  if (problems.length === 0) {
    const held: Uint8Array[] = [];
    try {
      for (const f of fields) held.push(...unpackRecords(decodeRecordsField(f).pack));
      if (held.length !== batch.records.length) problems.push(`the signed records transactions hold ${held.length} records, the batch has ${batch.records.length}`);
      else {
        const i = held.findIndex((r, k) => hex(r) !== hex(batch.records[k] as Uint8Array));
        if (i >= 0) problems.push(`record ${i} in the signed records transactions differs from the batch's`);
      }
    } catch (e) {
      problems.push(`a record pack does not decode: ${errMsg(e)}`);
    }
  }
  try {
    const tx = parseTx(p.anchor.hex, { floData: false });
    if (tx.txid !== p.anchor.txid) throw new Error(`its bytes hash to ${tx.txid}`);
    const anchors = opReturnPayloads(tx).filter((d) => ANCHOR_MAGIC.every((m, i) => d[i] === m));
    if (anchors.length !== 1) throw new Error(anchors.length === 0 ? 'no "TPA" v1 OP_RETURN' : 'more than one anchor output');
    const { root, commitment } = decodeAnchor(anchors[0] as Uint8Array);
    if (hex(root) !== hex(batch.root)) throw new Error(`its root ${hex(root)} is not the checkpoint's ${hex(batch.root)}`);
    if (problems.length === 0) {
      const want = anchorCommitment(batch.digest, recordsDigest(fields));
      if (hex(want) !== hex(commitment)) throw new Error(`its commitment ${hex(commitment)} is not SHA-256(checkpoint digest || records digest) = ${hex(want)}`);
    }
  } catch (e) {
    problems.push(`signed anchor tx ${p.anchor.txid}: ${errMsg(e)}`);
  }
  return { problems, chunks: fields.length };
}
