import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { checkpointDigest, checkpointSignatureValid, parseCheckpoint } from '../ledger/checkpoint';
import type { Checkpoint } from '../ledger/checkpoint';
import type { Genesis } from '../ledger/entries';
import { leafHash, verifyConsistency, verifyInclusion } from '../ledger/merkle';
import { decodeRecord } from '../ledger/record';
import type { BallotRecord } from '../ledger/record';
import { unpackRecords } from '../ledger/record-pack';
import type { Tally } from '../ledger/tally';
import { TallyCollector } from '../ledger/tally';
import { normalizeSerial, parseBallotId } from '../../ballots/identity';
import { auditNode } from './audit-rpc';
import type { ParsedTx } from '../formats/raw-tx';
import { opReturnPayloads, parseTx } from '../formats/raw-tx';
import { blockMerkleRoot, internalFromDisplay } from '../formats/block-proof';
import type { BatchFile, Manifest } from '../formats/bundle-files';
import {
  BatchFileSchema,
  BundleError,
  CheckpointListSchema,
  ConsistencyListSchema,
  ElectionFileSchema,
  ManifestSchema,
  StationKeySchema,
  StatusSchema,
  batchName,
  leafFilePath,
  otsPath,
  publicationPath,
  readBundleFile,
  readJson,
  readPublication,
  sha256HexOfBytes,
} from '../formats/bundle-files';
import { proofInputs } from '../formats/ballot-proof-inputs';
import type { CarriedBlock, Publication } from '../formats/publication-formats';
import { ANCHOR_MAGIC, CHECKPOINT_PREFIX_BYTES, FormatError, RECORDS_MAGIC, anchorCommitment, decodeAnchor, decodeRecordsField, recordsDigest } from '../formats/publication-formats';
import type { KnownNetwork } from '../formats/headers';
import { checkHeaderChain, networkFor, parseHeader } from '../formats/headers';
import { checkBallotOts, leafFile } from '../formats/ots-ballot';
import type { PaperBallot, PaperSummary } from './audit-paper';
import { checkPaper } from './audit-paper';
import type { PendingFile } from '../formats/bundle-pending';
import { PendingFileSchema, describePendingState, pendingPath } from '../formats/bundle-pending';
import { checkPendingTxs } from './pending-check';

/**
 * `tallyproof audit verify`: everything an auditor can check from the bundle alone, and with --rpc against
 * nodes. Each check lands in the report with what it covered; a failure names its batch, ballot and cause.
 * Nothing stops at the first failure: the report lists every one found.
 */

export type CheckName =
  | 'manifest'
  | 'bundle'
  | 'checkpoint'
  | 'batch'
  | 'inclusion'
  | 'consistency'
  | 'publication'
  | 'genesis'
  | 'anchor-headers'
  | 'anchor-block'
  | 'anchor'
  | 'records-headers'
  | 'records-block'
  | 'records-chain'
  | 'ots'
  | 'tally'
  | 'results-tape'
  | 'rpc'
  | 'ballot-codes'
  | 'election-keys'
  | 'ballot-record'
  | 'ballot-marks';

export interface AuditCheck {
  readonly check: CheckName;
  readonly ok: boolean;
  readonly batch?: number;
  readonly ballot?: string;
  readonly detail: string;
}

export interface BallotLookup {
  readonly ballotId: string;
  readonly found: boolean;
  readonly ok: boolean;
  readonly batch?: number;
  readonly leafIndex?: number;
  readonly record?: {
    readonly mode: string;
    readonly castAsIs: boolean;
    readonly station: number;
    readonly batch: number;
    readonly contests: readonly { contest: string; selections: string[]; overvote: boolean; undervote: boolean; marginal: boolean; writeIn: boolean }[];
  };
  readonly recordHex?: string;
  readonly recordsTx?: { readonly chain: string; readonly txid: string; readonly chunk: number; readonly blockHash: string; readonly height?: number };
  readonly anchorTx?: { readonly chain: string; readonly txid: string; readonly blockHash: string; readonly height: number };
  readonly ots?: string;
  /** set when the ballot's batch is signed and not published: its state in words (not a problem) */
  readonly notPublished?: string;
  readonly problems: readonly string[];
}

/** Something the audit could not check, and why: said in the report rather than passed silently. */
export interface NotChecked {
  readonly what: 'chain' | 'publication' | 'tx-signatures';
  readonly batch?: number;
  readonly detail: string;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly bundle: string;
  readonly checks: readonly AuditCheck[];
  readonly failures: readonly AuditCheck[];
  /** what was not checked (no node given, batches not on any chain yet): never a pass, never a failure */
  readonly notChecked: readonly NotChecked[];
  readonly ballot?: BallotLookup;
  /** the paper ballot given with --ballot-codes or --ballot-image: its three codes as read */
  readonly paper?: PaperSummary;
}

export interface AuditOptions {
  readonly rpc?: readonly string[];
  readonly ballotId?: string;
  /** a tally JSON file from the results tape, compared with the bundle's tally */
  readonly resultsTapeTally?: string;
  /** a paper ballot's codes and the election keys: checked, then its record looked up as for ballotId */
  readonly paper?: PaperBallot;
}

interface LoadedBatch {
  readonly checkpoint: Checkpoint;
  readonly body: string;
  readonly digest: Uint8Array;
  readonly file: BatchFile;
  readonly records: Uint8Array[];
  readonly decoded: (BallotRecord | undefined)[];
  publication?: Publication;
  /** the batch's pending statement, when it is signed and not published */
  pending?: PendingFile;
  /** which records transaction carries each record, by index into file.records */
  carriers?: { txid: string; chunk: number; blockHash: string }[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function auditBundle(bundleDir: string, opts: AuditOptions = {}): Promise<AuditReport> {
  const dir = path.resolve(bundleDir);
  const checks: AuditCheck[] = [];
  const pass = (check: CheckName, detail: string, where: { batch?: number; ballot?: string } = {}): void => void checks.push({ check, ok: true, ...where, detail });
  const fail = (check: CheckName, detail: string, where: { batch?: number; ballot?: string } = {}): void => void checks.push({ check, ok: false, ...where, detail });
  const notChecked: NotChecked[] = [];
  const finish = (ballot?: BallotLookup, paper?: PaperSummary): AuditReport => {
    const failures = checks.filter((c) => !c.ok);
    return { ok: failures.length === 0 && (ballot === undefined || ballot.ok), bundle: dir, checks, failures, notChecked, ...(ballot !== undefined ? { ballot } : {}), ...(paper !== undefined ? { paper } : {}) };
  };
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    fail('bundle', `${dir} is not a bundle directory`);
    return finish();
  }

  // 1. manifest: every listed file has its size and digest, and nothing is there unlisted
  let manifest: Manifest | undefined;
  try {
    manifest = readJson(dir, 'manifest.json', ManifestSchema);
    const listed = new Set<string>();
    let bad = 0;
    for (const f of manifest.files) {
      listed.add(f.path);
      let data: Buffer;
      try {
        data = readBundleFile(dir, f.path);
      } catch (e) {
        bad += 1;
        fail('manifest', errMsg(e));
        continue;
      }
      if (data.length !== f.bytes || sha256HexOfBytes(data) !== f.sha256) {
        bad += 1;
        fail('manifest', `${f.path}: changed since the manifest was written (${data.length} bytes, sha256 ${sha256HexOfBytes(data)}; manifest says ${f.bytes} bytes, ${f.sha256})`);
      }
    }
    for (const rel of listFiles(dir)) {
      if (rel !== 'manifest.json' && !listed.has(rel)) {
        bad += 1;
        fail('manifest', `${rel}: in the bundle but not in the manifest`);
      }
    }
    if (bad === 0) pass('manifest', `${manifest.files.length} files match their sizes and SHA-256 digests`);
  } catch (e) {
    fail('manifest', errMsg(e));
  }

  // 2. the bundle's own statements
  let stationKey: z.infer<typeof StationKeySchema>;
  let election: z.infer<typeof ElectionFileSchema>;
  let cpList: z.infer<typeof CheckpointListSchema>;
  let bundleTally: Tally | undefined;
  let status: z.infer<typeof StatusSchema> | undefined;
  try {
    stationKey = readJson(dir, 'station-key.json', StationKeySchema);
    election = readJson(dir, 'election.json', ElectionFileSchema);
    cpList = readJson(dir, 'checkpoints.json', CheckpointListSchema);
  } catch (e) {
    fail('bundle', errMsg(e));
    return finish();
  }
  try {
    status = readJson(dir, 'status.json', StatusSchema);
    bundleTally = JSON.parse(readBundleFile(dir, 'tally.json').toString('utf8')) as Tally;
  } catch (e) {
    fail('tally', errMsg(e));
  }
  const stationPub = Buffer.from(stationKey.publicKey, 'hex');

  // 3. checkpoints, batch files, inclusion proofs
  const batches: LoadedBatch[] = [];
  let expectedStart = 0;
  const seenBallots = new Map<string, number>();
  for (const entry of cpList) {
    const b = entry.batch;
    let body: string;
    let cp: Checkpoint;
    try {
      body = readBundleFile(dir, entry.file).toString('utf8');
      cp = parseCheckpoint(body);
    } catch (e) {
      fail('checkpoint', `${entry.file}: ${errMsg(e)}`, { batch: b });
      continue;
    }
    const problems: string[] = [];
    if (cp.batch !== b) problems.push(`the checkpoint says batch ${cp.batch}`);
    if (cp.treeSize !== entry.treeSize || hex(cp.root) !== entry.root) problems.push('checkpoints.json disagrees with the checkpoint text on tree size or root');
    if (manifest !== undefined && (cp.mode !== manifest.mode || cp.election !== manifest.election || cp.station !== manifest.station)) problems.push('mode, election or station differs from the manifest');
    if (cp.station !== stationKey.stationId) problems.push(`signed for station ${cp.station}, the bundle's key is station ${stationKey.stationId}'s`);
    if (!checkpointSignatureValid(body, Buffer.from(entry.signature, 'hex'), stationPub)) problems.push("the signature is not the station key's over this checkpoint");
    if (cp.batchStart !== expectedStart) problems.push(`batch starts at leaf ${cp.batchStart}, the previous batch ended at ${expectedStart}`);
    if (problems.length > 0) {
      fail('checkpoint', `${entry.file}: ${problems.join('; ')}`, { batch: b });
    } else pass('checkpoint', `signed by the station key, tree size ${cp.treeSize}`, { batch: b });
    expectedStart = cp.treeSize;

    let file: BatchFile;
    try {
      file = readJson(dir, `batches/${batchName(b)}.json`, BatchFileSchema);
    } catch (e) {
      fail('batch', errMsg(e), { batch: b });
      continue;
    }
    const bp: string[] = [];
    if (file.batch !== b || file.batchStart !== cp.batchStart || file.treeSize !== cp.treeSize || file.root !== hex(cp.root)) bp.push('batch, start, tree size or root differ from the checkpoint');
    if (file.records.length !== cp.treeSize - cp.batchStart) bp.push(`${file.records.length} records for ${cp.treeSize - cp.batchStart} leaves`);
    const records = file.records.map((r) => new Uint8Array(Buffer.from(r.record, 'hex')));
    const decoded: (BallotRecord | undefined)[] = [];
    let prevLeaf: Buffer | undefined;
    let inclusionOk = 0;
    file.records.forEach((r, i) => {
      const rec = records[i] as Uint8Array;
      let d: BallotRecord | undefined;
      try {
        d = decodeRecord(rec);
      } catch (e) {
        bp.push(`record ${i} does not decode: ${errMsg(e)}`);
      }
      decoded.push(d);
      const ballot = d?.ballotId ?? `record ${i}`;
      if (d !== undefined) {
        if (d.batch !== b) bp.push(`ballot ${d.ballotId} says batch ${d.batch}`);
        if (d.mode !== cp.mode) bp.push(`ballot ${d.ballotId} is ${d.mode} in a ${cp.mode} batch`);
        if (d.station !== stationKey.stationNumber) bp.push(`ballot ${d.ballotId} says station ${d.station}`);
        const before = seenBallots.get(d.ballotId);
        if (before !== undefined) bp.push(`ballot ${d.ballotId} is recorded twice (also in batch ${before})`);
        seenBallots.set(d.ballotId, b);
      }
      const leaf = leafHash(rec);
      if (prevLeaf !== undefined && Buffer.compare(prevLeaf, leaf) >= 0) bp.push(`records are not in leaf-hash order at record ${i}`);
      prevLeaf = leaf;
      if (r.leafIndex !== cp.batchStart + i) bp.push(`record ${i} has leaf index ${r.leafIndex}, expected ${cp.batchStart + i}`);
      try {
        verifyInclusion(r.leafIndex, cp.treeSize, leaf, r.inclusionProof.map((h) => Buffer.from(h, 'hex')), cp.root);
        inclusionOk += 1;
      } catch (e) {
        fail('inclusion', `leaf ${r.leafIndex}: ${errMsg(e)}`, { batch: b, ballot });
      }
    });
    if (bp.length > 0) fail('batch', `batches/${batchName(b)}.json: ${bp.join('; ')}`, { batch: b });
    else pass('batch', `${records.length} records, decoded, in leaf-hash order`, { batch: b });
    if (inclusionOk === file.records.length && file.records.length > 0) pass('inclusion', `${inclusionOk} inclusion proofs lead to the signed root`, { batch: b });
    batches.push({ checkpoint: cp, body, digest: checkpointDigest(body), file, records, decoded });
  }

  // 4. consistency between successive checkpoints
  try {
    const cons = readJson(dir, 'consistency.json', ConsistencyListSchema);
    let bad = 0;
    let checked = 0;
    for (let i = 1; i < batches.length; i++) {
      const a = (batches[i - 1] as LoadedBatch).checkpoint;
      const c = (batches[i] as LoadedBatch).checkpoint;
      if (a.treeSize === 0) continue;
      const entry = cons.find((x) => x.fromBatch === a.batch && x.toBatch === c.batch);
      try {
        if (entry === undefined) throw new Error('no consistency proof in consistency.json');
        if (entry.size1 !== a.treeSize || entry.size2 !== c.treeSize) throw new Error(`proof is for sizes ${entry.size1} → ${entry.size2}, the checkpoints say ${a.treeSize} → ${c.treeSize}`);
        verifyConsistency(a.treeSize, c.treeSize, a.root, c.root, entry.proof.map((h) => Buffer.from(h, 'hex')));
        checked += 1;
      } catch (e) {
        bad += 1;
        fail('consistency', `batch ${a.batch} → ${c.batch}: ${errMsg(e)}`, { batch: c.batch });
      }
    }
    if (bad === 0) pass('consistency', `${checked} consistency proofs: each checkpoint extends the one before`);
  } catch (e) {
    fail('consistency', errMsg(e));
  }

  // 5. publications: anchors, headers, records on the high-capacity chain, .ots proofs
  for (const lb of batches) {
    const b = lb.checkpoint.batch;
    let pub: Publication | undefined;
    try {
      pub = readPublication(dir, b);
    } catch (e) {
      fail('publication', errMsg(e), { batch: b });
      continue;
    }
    let pending: PendingFile | undefined;
    try {
      pending = readPending(dir, b);
    } catch (e) {
      fail('publication', errMsg(e), { batch: b });
      continue;
    }
    if (pub !== undefined && pending !== undefined) {
      fail('publication', `${publicationPath(b)} and ${pendingPath(b)} both present: the batch cannot be both published and pending`, { batch: b });
      continue;
    }
    if (pending !== undefined) {
      lb.pending = pending;
      checkPending(lb, pending, pass, fail, notChecked);
      continue;
    }
    if (pub === undefined) {
      if (lb.records.length === 0) pass('publication', 'empty batch: nothing to publish', { batch: b });
      else fail('publication', `${publicationPath(b)} is missing: the batch's ${lb.records.length} records are not shown to be published or anchored`, { batch: b });
      continue;
    }
    lb.publication = pub;
    if (pub.checkpointDigest !== hex(lb.digest)) {
      fail('publication', `names checkpoint digest ${pub.checkpointDigest}, the batch's checkpoint is ${hex(lb.digest)}`, { batch: b });
      continue;
    }
    const fields = checkRecordsChain(lb, pub, pass, fail);
    checkAnchor(lb, pub, fields, pass, fail);
    checkProofs(dir, lb, pub, pass, fail);
  }

  // 6. the tally from the records
  if (bundleTally !== undefined && status !== undefined) checkTally(election, stationKey, manifest?.mode ?? 'official', batches, bundleTally, status, pass, fail);
  if (opts.resultsTapeTally !== undefined && bundleTally !== undefined) {
    try {
      const tape = JSON.parse(fs.readFileSync(opts.resultsTapeTally, 'utf8')) as unknown;
      const diff = firstDifference(tape, bundleTally, '');
      if (diff === undefined) pass('results-tape', `${opts.resultsTapeTally} equals the bundle's tally`);
      else fail('results-tape', `${opts.resultsTapeTally} differs from the bundle's tally at ${diff}`);
    } catch (e) {
      fail('results-tape', `${opts.resultsTapeTally}: ${errMsg(e)}`);
    }
  }

  // 7. against nodes; without one, nothing ties the carried headers to the real chain, and the report says so
  const published = batches.filter((lb) => lb.publication !== undefined);
  if (opts.rpc !== undefined && opts.rpc.length > 0) await checkNodes(opts.rpc, batches, pass, fail, notChecked);
  else if (published.length > 0) {
    const chains = [...new Set(published.flatMap((lb) => [`${(lb.publication as Publication).records.chain} (${(lb.publication as Publication).records.network})`, `${(lb.publication as Publication).anchor.chain} (${(lb.publication as Publication).anchor.network})`]))];
    notChecked.push({
      what: 'chain',
      detail:
        `chain not checked: give --rpc <url> for each chain (${chains.join(', ')}). Offline, the carried headers are checked only to link and to meet their own difficulty bits (nBits), ` +
        `which a private chain can meet too; whether these blocks are on the network's best chain, and still there (no reorg since the export), only a node can say`,
    });
  }

  // 8. a paper ballot: genuine, of these keys, and the ballot whose record the bundle holds
  if (opts.paper !== undefined) {
    const paper = checkPaper(
      opts.paper,
      { electionHash: election.hash, mode: manifest?.mode ?? batches[0]?.checkpoint.mode ?? 'official', contests: election.contests, batches: batches.map((lb) => ({ batch: lb.checkpoint.batch, decoded: lb.decoded })) },
      pass,
      fail,
    );
    return finish(paper.serial !== undefined ? lookupBallot(paper.serial, batches, election, checks) : undefined, paper.summary);
  }
  return finish(opts.ballotId !== undefined ? lookupBallot(opts.ballotId, batches, election, checks) : undefined);
}

type Pass = (check: CheckName, detail: string, where?: { batch?: number; ballot?: string }) => void;

function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out;
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

function checkTally(
  election: z.infer<typeof ElectionFileSchema>,
  key: z.infer<typeof StationKeySchema>,
  mode: Genesis['mode'],
  batches: readonly LoadedBatch[],
  tally: Tally,
  status: z.infer<typeof StatusSchema>,
  pass: Pass,
  fail: Pass,
): void {
  const genesis: Genesis = {
    format: 'tallyproof-ledger/1',
    mode,
    election: { hash: election.hash, title: election.title, contests: election.contests },
    station: { id: key.stationId, number: key.stationNumber, publicKey: key.publicKey },
  };
  try {
    const c = new TallyCollector(genesis);
    for (const lb of batches) for (const d of lb.decoded) if (d !== undefined) c.addCast(d);
    const mine = c.result(tally.ballots?.pending ?? 0);
    const problems: string[] = [];
    if (status.castNotYetBatched > 0) problems.push(`${status.castNotYetBatched} cast ballots are in no closed batch, so the public records cannot account for them`);
    const theirs = { ...tally, ballots: { ...tally.ballots, returned: 0 } };
    const ours = { ...mine, ballots: { ...mine.ballots, returned: 0 } };
    const diff = firstDifference(ours, theirs, '');
    if (diff !== undefined) problems.push(`the tally recomputed from the records differs from tally.json at ${diff}`);
    if (problems.length > 0) fail('tally', problems.join('; '));
    else pass('tally', `recomputed from ${mine.ballots.cast} records: equals tally.json (returned ballots, ${tally.ballots.returned}, are not in public records and are taken as stated)`);
  } catch (e) {
    fail('tally', `the records do not tally: ${errMsg(e)}`);
  }
}

/** The JSON path of the first place two values differ, or undefined if equal. */
export function firstDifference(a: unknown, b: unknown, at: string): string | undefined {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) return at || '(top)';
  if (typeof a !== 'object' || a === null) return a === b ? undefined : `${at || '(top)'} (${JSON.stringify(a)} vs ${JSON.stringify(b)})`;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) {
    const d = firstDifference(ao[k], bo[k], Array.isArray(a) ? `${at}[${k}]` : at === '' ? k : `${at}.${k}`);
    if (d !== undefined) return d;
  }
  return undefined;
}

const HeaderVerboseSchema = z.object({ hash: z.string(), height: z.number(), confirmations: z.number() });

async function checkNodes(urls: readonly string[], batches: readonly LoadedBatch[], pass: Pass, fail: Pass, notChecked: NotChecked[]): Promise<void> {
  const nodes: { url: string; genesis: string; node: ReturnType<typeof auditNode> }[] = [];
  for (const u of urls) {
    try {
      const node = auditNode(u);
      const genesis = await node.call('getblockhash', [0], z.string());
      nodes.push({ url: node.url, genesis, node });
    } catch (e) {
      fail('rpc', errMsg(e));
    }
  }
  if (nodes.length === 0) return;
  for (const lb of batches) {
    const pub = lb.publication;
    if (pub === undefined) continue;
    const b = lb.checkpoint.batch;
    const parts: { part: string; chain: Publication['anchor'] | Publication['records']; txs: { txid: string; hex: string; blockHash: string }[]; minConf: number }[] = [
      { part: 'records', chain: pub.records, txs: pub.records.txs, minConf: 1 },
      { part: 'anchor', chain: pub.anchor, txs: [pub.anchor.tx], minConf: pub.anchor.confirmations },
    ];
    for (const p of parts) {
      const candidates = nodes.filter((n) => n.genesis === p.chain.genesisHash);
      if (candidates.length === 0) {
        notChecked.push({ what: 'chain', batch: b, detail: `${p.part} chain ${p.chain.chain} (${p.chain.network}) not checked: no --rpc node has its genesis ${p.chain.genesisHash}` });
        continue;
      }
      const answers: string[] = [];
      let confirmed = false;
      for (const n of candidates) {
        try {
          for (const t of p.txs) {
            const blk = p.chain.blocks.find((x) => x.hash === t.blockHash);
            if (blk === undefined) throw new Error(`no carried block ${t.blockHash}`);
            const atHeight = await n.node.call('getblockhash', [blk.height], z.string());
            if (atHeight !== blk.hash) throw new Error(`its best chain has ${atHeight} at height ${blk.height}, the bundle says ${blk.hash}`);
            const header = await n.node.call('getblockheader', [blk.hash, false], z.string());
            if (header !== blk.header) throw new Error(`block ${blk.hash}: its header differs from the bundle's`);
            const info = await n.node.call('getblockheader', [blk.hash, true], HeaderVerboseSchema);
            if (info.confirmations < p.minConf) throw new Error(`block ${blk.hash} has ${info.confirmations} confirmations, ${p.minConf} required`);
            const raw = await n.node.call('getrawtransaction', [t.txid, false, blk.hash], z.string());
            if (raw !== t.hex) throw new Error(`transaction ${t.txid}: the node's bytes differ from the bundle's`);
          }
          confirmed = true;
          pass('rpc', `${p.part} chain: node ${n.url} has the ${p.txs.length} transaction(s) in its best chain at the stated heights`, { batch: b });
          break;
        } catch (e) {
          answers.push(`node ${n.url}: ${errMsg(e)}`);
        }
      }
      if (!confirmed) fail('rpc', `${p.part} chain ${p.chain.chain}: ${answers.join('; ')}`, { batch: b });
    }
  }
}

function lookupBallot(raw: string, batches: readonly LoadedBatch[], election: z.infer<typeof ElectionFileSchema>, checks: readonly AuditCheck[]): BallotLookup {
  let serial: string;
  if (raw.startsWith('TPB1:')) {
    const p = parseBallotId(raw);
    if (!p.ok) return { ballotId: raw, found: false, ok: false, problems: [p.error.message] };
    serial = p.value.serial;
  } else {
    const n = normalizeSerial(raw);
    if (n === undefined) return { ballotId: raw, found: false, ok: false, problems: [`"${raw}" is neither a ballot serial nor a TPB1 ballot ID`] };
    serial = n;
  }
  for (const lb of batches) {
    const i = lb.decoded.findIndex((d) => d?.ballotId === serial);
    if (i < 0) continue;
    const d = lb.decoded[i] as BallotRecord;
    const b = lb.checkpoint.batch;
    const problems = checks
      .filter((c) => !c.ok && c.check !== 'tally' && c.check !== 'results-tape' && (c.ballot === serial || (c.ballot === undefined && (c.batch === b || c.batch === undefined))))
      .map((c) => `${c.check}${c.batch !== undefined ? ` batch ${c.batch}` : ''}: ${c.detail}`);
    const pub = lb.publication;
    const carrier = lb.carriers?.[i];
    const anchorBlock = pub?.anchor.blocks.find((x) => x.hash === pub.anchor.tx.blockHash);
    // a batch signed and not published is the expected offline state: said, not a problem
    if (pub === undefined && lb.pending === undefined) problems.push(`batch ${b} has no publication`);
    return {
      ballotId: serial,
      found: true,
      ok: problems.length === 0,
      batch: b,
      leafIndex: lb.file.records[i]?.leafIndex ?? -1,
      record: {
        mode: d.mode,
        castAsIs: d.castAsIs,
        station: d.station,
        batch: d.batch,
        contests: d.contests.map((c) => {
          const def = election.contests[c.contest];
          return {
            contest: def?.id ?? `#${c.contest}`,
            selections: c.options.map((o) => def?.options[o] ?? `#${o}`),
            overvote: c.overvote,
            undervote: c.undervote,
            marginal: c.marginal,
            writeIn: c.writeIn,
          };
        }),
      },
      recordHex: hex(lb.records[i] as Uint8Array),
      ...(pub !== undefined && carrier !== undefined
        ? { recordsTx: { chain: pub.records.chain, txid: carrier.txid, chunk: carrier.chunk, blockHash: carrier.blockHash, height: pub.records.blocks.find((x) => x.hash === carrier.blockHash)?.height ?? -1 } }
        : {}),
      ...(pub !== undefined && anchorBlock !== undefined ? { anchorTx: { chain: pub.anchor.chain, txid: pub.anchor.tx.txid, blockHash: anchorBlock.hash, height: anchorBlock.height } } : {}),
      ...(pub !== undefined ? { ots: otsPath(serial) } : {}),
      ...(lb.pending !== undefined ? { notPublished: `batch ${b} is not published: ${describePendingState(lb.pending)}` } : {}),
      problems,
    };
  }
  return { ballotId: serial, found: false, ok: false, problems: [`ballot ${serial} is not in any batch of this bundle`] };
}

export { BundleError };
