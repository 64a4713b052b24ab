import fs from 'node:fs';
import path from 'node:path';
import { unpackRecords } from '../ledger/record-pack';
import { blockMerkleRoot, internalFromDisplay } from '../formats/block-proof';
import { BundleError, leafFilePath, otsPath, publicationPath, readBundleFile, readJson, readPublication } from '../formats/bundle-files';
import { proofInputs } from '../formats/ballot-proof-inputs';
import type { PendingFile } from '../formats/bundle-pending';
import { PendingFileSchema, describePendingState, pendingPath } from '../formats/bundle-pending';
import type { KnownNetwork } from '../formats/headers';
import { checkHeaderChain, networkFor, parseHeader } from '../formats/headers';
import { checkBallotOts, leafFile } from '../formats/ots-ballot';
import type { CarriedBlock, Publication } from '../formats/publication-formats';
import { ANCHOR_MAGIC, CHECKPOINT_PREFIX_BYTES, FormatError, RECORDS_MAGIC, anchorCommitment, decodeAnchor, decodeRecordsField, recordsDigest } from '../formats/publication-formats';
import type { ParsedTx } from '../formats/raw-tx';
import { opReturnPayloads, parseTx } from '../formats/raw-tx';
import { checkPendingTxs } from './pending-check';
import type { CheckName, Findings, LoadedBatch, NotChecked, Pass } from './report';
import { errMsg, hex } from './report';

/**
 * Step 5 of `audit verify`, per batch: its publication (records on the high-capacity chain, the anchor,
 * their headers and blocks, each ballot's .ots proof) or its pending statement (signed, not published).
 */

/** 5. Every batch's publication or pending statement; sets `publication` or `pending` on the batch. */
export function checkPublications(dir: string, batches: readonly LoadedBatch[], findings: Findings): void {
  for (const lb of batches) checkPublication(dir, lb, findings);
}

function checkPublication(dir: string, lb: LoadedBatch, { pass, fail, notChecked }: Findings): void {
  const b = lb.checkpoint.batch;
  let pub: Publication | undefined;
  try {
    pub = readPublication(dir, b);
  } catch (e) {
    fail('publication', errMsg(e), { batch: b });
    return;
  }
  let pending: PendingFile | undefined;
  try {
    pending = readPending(dir, b);
  } catch (e) {
    fail('publication', errMsg(e), { batch: b });
    return;
  }
  if (pub !== undefined && pending !== undefined) {
    fail('publication', `${publicationPath(b)} and ${pendingPath(b)} both present: the batch cannot be both published and pending`, { batch: b });
    return;
  }
  if (pending !== undefined) {
    lb.pending = pending;
    checkPending(lb, pending, pass, fail, notChecked);
    return;
  }
  if (pub === undefined) {
    if (lb.records.length === 0) pass('publication', 'empty batch: nothing to publish', { batch: b });
    else if (lb.countyProof !== undefined) pass('publication', `not anchored by the station: anchored through the county log in round ${lb.countyProof.round} (${lb.countyProof.txid}, block ${lb.countyProof.height}); see its county-proof line`, { batch: b });
    else fail('publication', `${publicationPath(b)} is missing: the batch's ${lb.records.length} records are not shown to be published or anchored`, { batch: b });
    return;
  }
  lb.publication = pub;
  if (pub.checkpointDigest !== hex(lb.digest)) {
    fail('publication', `names checkpoint digest ${pub.checkpointDigest}, the batch's checkpoint is ${hex(lb.digest)}`, { batch: b });
    return;
  }
  const fields = checkRecordsChain(lb, pub, pass, fail);
  checkAnchor(lb, pub, fields, pass, fail);
  checkProofs(dir, lb, pub, pass, fail);
}

/** Genesis, header chain and each transaction's place in its block; returns the parsed txs by txid. */
function checkChainPart(
  part: 'anchor' | 'records',
  b: number,
  pub: Publication['anchor'] | Publication['records'],
  txs: readonly { txid: string; hex: string; blockHash: string }[],
  floData: boolean,
  minDepth: number,
  pass: Pass,
  fail: Pass,
): Map<string, ParsedTx> | undefined {
  const where = { batch: b };
  let net: KnownNetwork;
  try {
    net = networkFor(pub.chain, pub.network, pub.genesisHash);
    pass('genesis', `${part} chain ${pub.chain} (${pub.network}): genesis ${pub.genesisHash} is ${net.family} ${net.kind}`, where);
  } catch (e) {
    fail('genesis', `${part} chain ${pub.chain} (${pub.network}): ${errMsg(e)}`, where);
    return undefined;
  }
  const headersCheck: CheckName = part === 'anchor' ? 'anchor-headers' : 'records-headers';
  const blockCheck: CheckName = part === 'anchor' ? 'anchor-block' : 'records-block';
  const all = [...pub.blocks.map((x) => ({ height: x.height, header: Buffer.from(x.header, 'hex') })), ...pub.headersAfter.map((x) => ({ height: x.height, header: Buffer.from(x.header, 'hex') }))];
  let tip: number;
  try {
    const chain = checkHeaderChain(all, net.pow);
    tip = chain.tipHeight;
    for (const blk of pub.blocks) {
      const h = chain.headers.find((x) => x.height === blk.height);
      if (h === undefined || h.hash !== blk.hash) throw new Error(`block ${blk.hash} at height ${blk.height}: its header hashes to ${h?.hash ?? 'nothing'}`);
    }
    const lowest = Math.max(...txs.map((t) => pub.blocks.find((x) => x.hash === t.blockHash)?.height ?? Infinity));
    const depth = Number.isFinite(lowest) ? tip - lowest + 1 : 0;
    if (depth < minDepth) throw new Error(`the headers reach ${depth} confirmations, ${minDepth} required`);
    pass(headersCheck, `${all.length} headers from height ${chain.firstHeight} to ${tip} link and meet the ${net.pow} targets their own nBits state (their own, not the network's difficulty: only a node ties them to the real chain); ${depth} confirmations`, where);
  } catch (e) {
    fail(headersCheck, errMsg(e), where);
  }
  const parsed = new Map<string, ParsedTx>();
  let bad = 0;
  for (const t of txs) {
    try {
      const tx = parseTx(t.hex, { floData });
      if (tx.txid !== t.txid) throw new Error(`transaction ${t.txid}: its bytes hash to ${tx.txid}`);
      const blk: CarriedBlock | undefined = pub.blocks.find((x) => x.hash === t.blockHash);
      if (blk === undefined) throw new Error(`transaction ${t.txid}: the publication carries no block ${t.blockHash}`);
      if (!blk.txids.includes(t.txid)) throw new Error(`transaction ${t.txid} is not among block ${blk.hash}'s ${blk.txids.length} transactions`);
      const root = blockMerkleRoot(blk.txids.map(internalFromDisplay));
      if (!Buffer.from(root).equals(Buffer.from(parseHeader(Buffer.from(blk.header, 'hex')).merkleRoot))) throw new Error(`block ${blk.hash}: its txids do not give the header's merkle root`);
      parsed.set(t.txid, tx);
    } catch (e) {
      bad += 1;
      fail(blockCheck, errMsg(e), where);
    }
  }
  if (bad === 0) pass(blockCheck, `${txs.length} transaction(s) in their blocks under the headers' merkle roots`, where);
  return parsed;
}

/** The records fields in chunk order, if the high-capacity chain holds exactly this batch's records. */
function checkRecordsChain(lb: LoadedBatch, pub: Publication, pass: Pass, fail: Pass): Uint8Array[] | undefined {
  const b = lb.checkpoint.batch;
  const rp = pub.records;
  const parsed = checkChainPart('records', b, rp, rp.txs, rp.carrier === 'flodata', 1, pass, fail);
  const problems: string[] = [];
  const byChunk = new Map<number, { field: Uint8Array; txid: string; blockHash: string }>();
  let count: number | undefined;
  for (const t of rp.txs) {
    let field: Uint8Array | undefined;
    try {
      const tx = parsed?.get(t.txid) ?? parseTx(t.hex, { floData: rp.carrier === 'flodata' });
      if (rp.carrier === 'flodata') field = tx.floData;
      else {
        const fs2 = opReturnPayloads(tx).filter((p) => RECORDS_MAGIC.every((m, i) => p[i] === m));
        if (fs2.length > 1) throw new Error('more than one records field');
        field = fs2[0];
      }
      if (field === undefined || field.length === 0) throw new Error(`carries no records field (${rp.carrier})`);
      const { header } = decodeRecordsField(field);
      if (header.chunk !== t.chunk) throw new Error(`its field is chunk ${header.chunk}, the publication says ${t.chunk}`);
      if (hex(header.checkpointPrefix) !== hex(lb.digest.subarray(0, CHECKPOINT_PREFIX_BYTES))) throw new Error("its field names another checkpoint (prefix differs from this batch's checkpoint digest)");
      if (count !== undefined && header.chunks !== count) throw new Error(`says ${header.chunks} chunks, another says ${count}`);
      count = header.chunks;
      if (byChunk.has(header.chunk)) throw new Error(`chunk ${header.chunk} appears more than once`);
      byChunk.set(header.chunk, { field, txid: t.txid, blockHash: t.blockHash });
    } catch (e) {
      problems.push(`records tx ${t.txid}: ${errMsg(e)}`);
    }
  }
  if (count !== undefined) for (let i = 0; i < count; i++) if (!byChunk.has(i)) problems.push(`chunk ${i} of ${count} is missing`);
  const fields: Uint8Array[] = [];
  const carriers: { txid: string; chunk: number; blockHash: string }[] = [];
  if (problems.length === 0 && count !== undefined) {
    const onChain: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const c = byChunk.get(i) as { field: Uint8Array; txid: string; blockHash: string };
      fields.push(c.field);
      try {
        for (const r of unpackRecords(decodeRecordsField(c.field).pack)) {
          onChain.push(r);
          carriers.push({ txid: c.txid, chunk: i, blockHash: c.blockHash });
        }
      } catch (e) {
        problems.push(`chunk ${i}: the record pack does not decode: ${errMsg(e)}`);
      }
    }
    if (problems.length === 0) {
      if (onChain.length !== lb.records.length) problems.push(`the chain holds ${onChain.length} records, the bundle's batch has ${lb.records.length}`);
      const n = Math.min(onChain.length, lb.records.length);
      for (let i = 0; i < n; i++) {
        if (hex(onChain[i] as Uint8Array) !== hex(lb.records[i] as Uint8Array)) {
          problems.push(`record ${i} on chain differs from the bundle's (ballot ${lb.decoded[i]?.ballotId ?? '?'})`);
          break;
        }
      }
    }
  }
  if (problems.length > 0) {
    fail('records-chain', problems.join('; '), { batch: b });
    return undefined;
  }
  lb.carriers = carriers;
  pass('records-chain', `${rp.chain}: ${count} chunk(s) hold exactly the batch's ${lb.records.length} records in hash order`, { batch: b });
  return fields;
}

function checkAnchor(lb: LoadedBatch, pub: Publication, fields: Uint8Array[] | undefined, pass: Pass, fail: Pass): void {
  const b = lb.checkpoint.batch;
  const a = pub.anchor;
  const parsed = checkChainPart('anchor', b, a, [a.tx], false, a.confirmations, pass, fail);
  try {
    const tx = parsed?.get(a.tx.txid) ?? parseTx(a.tx.hex, { floData: false });
    const anchors = opReturnPayloads(tx).filter((p) => ANCHOR_MAGIC.every((m, i) => p[i] === m));
    if (anchors.length !== 1) throw new Error(anchors.length === 0 ? 'the anchor transaction has no "TPA" v1 OP_RETURN' : 'the anchor transaction has more than one anchor output');
    const { root, commitment } = decodeAnchor(anchors[0] as Uint8Array);
    if (hex(root) !== hex(lb.checkpoint.root)) throw new Error(`the anchor's root ${hex(root)} is not the checkpoint's ${hex(lb.checkpoint.root)}`);
    if (fields === undefined) throw new Error("the anchor's commitment cannot be checked: the records on chain did not check");
    const want = anchorCommitment(lb.digest, recordsDigest(fields));
    if (hex(want) !== hex(commitment)) throw new Error(`the anchor's commitment ${hex(commitment)} is not SHA-256(checkpoint digest || records digest) = ${hex(want)}`);
    pass('anchor', `${a.chain} tx ${a.tx.txid} commits to the checkpoint root and the published records`, { batch: b });
  } catch (e) {
    fail('anchor', e instanceof FormatError ? `the anchor output does not decode: ${e.message}` : errMsg(e), { batch: b });
  }
}

function checkProofs(dir: string, lb: LoadedBatch, pub: Publication, pass: Pass, fail: Pass): void {
  const b = lb.checkpoint.batch;
  let inputs;
  try {
    inputs = proofInputs(lb.file, pub);
  } catch (e) {
    fail('ots', `no proof can be built from the publication: ${errMsg(e)}`, { batch: b });
    return;
  }
  let ok = 0;
  for (const { ballotId, input } of inputs) {
    let ots: Buffer;
    try {
      ots = readBundleFile(dir, otsPath(ballotId));
    } catch (e) {
      fail('ots', errMsg(e), { batch: b, ballot: ballotId });
      continue;
    }
    const r = checkBallotOts(ots, input);
    if (!r.ok) {
      fail('ots', `${otsPath(ballotId)}: ${r.problem ?? 'does not verify'}`, { batch: b, ballot: ballotId });
      continue;
    }
    let leaf: Buffer | undefined;
    try {
      leaf = readBundleFile(dir, leafFilePath(ballotId));
    } catch {
      leaf = undefined;
    }
    if (leaf === undefined || !leaf.equals(Buffer.from(leafFile(input.record)))) {
      fail('ots', `${leafFilePath(ballotId)}: missing or not 0x00 followed by the ballot's record`, { batch: b, ballot: ballotId });
      continue;
    }
    ok += 1;
  }
  if (ok === inputs.length) pass('ots', `${ok} .ots proofs reach block ${inputs[0]?.input.height ?? '?'}'s merkle root through the anchor`, { batch: b });
}

function readPending(dir: string, batch: number): PendingFile | undefined {
  if (!fs.existsSync(path.join(dir, pendingPath(batch)))) return undefined;
  const p = readJson(dir, pendingPath(batch), PendingFileSchema);
  if (p.batch !== batch) throw new BundleError(pendingPath(batch), `says batch ${p.batch}`);
  return p;
}

/**
 * A batch the station signed and has not published: its signed transactions are checked against the batch
 * offline, and the report says what state it is in and that it is on no chain as far as the bundle shows.
 * The expected offline state is not a failure; signed transactions that do not carry the batch are.
 */
function checkPending(lb: LoadedBatch, p: PendingFile, pass: Pass, fail: Pass, notChecked: NotChecked[]): void {
  const b = lb.checkpoint.batch;
  const state = describePendingState(p);
  const r = checkPendingTxs(p, { digest: lb.digest, root: lb.checkpoint.root, records: lb.records });
  if (r.problems.length > 0) {
    fail('publication', `${pendingPath(b)} (${state}): ${r.problems.join('; ')}`, { batch: b });
    return;
  }
  pass(
    'publication',
    `${state}; checked offline: its ${p.records.txs.length} signed records transaction(s) on ${p.records.chain} hold exactly the batch's ${lb.records.length} records in hash order, and its signed anchor ${p.anchor.txid} on ${p.anchor.chain} commits to the checkpoint root and those records`,
    { batch: b },
  );
  const looked = p.lastLooked.anchor === null ? 'the station never looked at the anchor chain' : `the station last looked at the anchor chain at ${p.lastLooked.anchor.at} (height ${p.lastLooked.anchor.tip})`;
  notChecked.push({ what: 'publication', batch: b, detail: `on no chain as far as this bundle shows (${p.state}; ${looked}): its records and anchor are not shown published, and it has no .ots proofs` });
  notChecked.push({ what: 'tx-signatures', batch: b, detail: `the signed transactions' input signatures need the coins they spend, which only a node has; a node checks them when they are broadcast` });
}
