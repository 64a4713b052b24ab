import { bytesEqual, toHex } from '../../lib/bytes';
import type { Checkpoint } from './checkpoint';
import { checkpointSignatureValid, parseCheckpoint } from './checkpoint';
import type { Genesis } from './entries';
import { EntryKind, KIND_NAMES, decodeCast, decodeCheckpointEntry, decodeEvent, decodeGenesis, pendingRecord, decodeReturned } from './entries';
import type { AdjudicationSeen } from './replay-adjudication';
import { AdjudicationReplay } from './replay-adjudication';
import type { AuditEvent } from './events';
import { MerkleAccumulator, leafHash, orderByHash } from './merkle';
import type { BallotRecord } from './record';
import { decodeRecord, scanRecord } from './record';
import type { HeadReason } from './signed-head';
import { POST_SEAL_EVENTS, parseSignedHead, signedHeadValid } from './signed-head';
import { BallotIdIndex } from './ballot-id-index';
import { HashChainReader } from './replay-hash-chain';
import { ReplayProblem, fail } from './replay-problem';
import type { Db } from './storage';

/**
 * One pass over the whole hash chain that re-derives everything from the entries alone (never from the index
 * tables): hashes and links, ballot states, batches, Merkle roots, checkpoint signatures. `verify`, `tally`
 * and `export` all stand on it, so none of them believes anything the hash chain does not prove.
 */
export type { Problem, ProblemKind } from './replay-problem';
export { ReplayProblem };

export interface ClosedBatchView {
  readonly seq: number;
  readonly checkpoint: Checkpoint;
  readonly body: string;
  readonly signature: Uint8Array;
  /** this batch's records and leaf hashes, in tree order (by leaf hash) */
  readonly records: readonly Uint8Array[];
  readonly leaves: readonly Buffer[];
}

export interface ReplayVisitor {
  onGenesis?(genesis: Genesis): void;
  onCast?(record: BallotRecord, castSeq: number): void;
  onReturned?(record: BallotRecord, reason: string, seq: number): void;
  onEvent?(event: AuditEvent, seq: number): void;
  /** a decision on a cast ballot's marginal mark or write-in, checked (after the seal) */
  onAdjudication?(a: AdjudicationSeen): void;
  /** set to keep each closed batch's records (export) */
  readonly keepBatches?: boolean;
}

export interface ReplaySummary {
  readonly genesis: Genesis;
  readonly entries: number;
  readonly head: { readonly seq: number; readonly hash: Uint8Array };
  readonly cast: number;
  readonly returned: number;
  readonly pending: number;
  readonly events: number;
  readonly batches: readonly ClosedBatchView[];
  readonly openBatch: number;
  readonly openBatchCast: number;
  /** entry hash at each seq, for checking external heads; only the ones asked for are kept */
  readonly hashesAt: ReadonlyMap<number, Uint8Array>;
  /** the seal (signed head with reason `seal`) entry, if the polls were closed and the ledger sealed */
  readonly sealedAt?: number;
  /** signed-head entries by their own seq: the statement's text and what it names */
  readonly signedHeads: ReadonlyMap<number, SignedHeadSeen>;
  /** the last signed-head entry */
  readonly lastSignedHead?: SignedHeadSeen;
  /** whether the ledger holds any polls event (only then is each ballot checked against the polls window) */
  readonly pollsEvents: boolean;
  /** adjudication entries (decisions on marginal marks and write-ins after the seal) */
  readonly adjudications: number;
}

export interface SignedHeadSeen {
  readonly seq: number;
  readonly headSeq: number;
  readonly reason: HeadReason;
  readonly body: string;
}

export interface ReplayOptions {
  /** stop after this entry (a snapshot bound, so a second thread can check the same entries) */
  readonly lastSeq?: number;
  /**
   * Take each entry's stored hash as its hash without recomputing it: only when another thread
   * (hash-chain-check.ts) re-hashes and links the same entries and its verdict takes precedence.
   */
  readonly hashesCheckedElsewhere?: boolean;
}


/** The polls as the ledger's own events tell them: `none` until the first polls event. */
type PollsWindow = 'none' | 'open' | 'paused' | 'closed';
const POST_SEAL: ReadonlySet<string> = new Set(POST_SEAL_EVENTS);

interface PendingState {
  /** decoded only when a visitor wants records; `verify` alone checks them with scanRecord */
  readonly record: BallotRecord | undefined;
  readonly bytes: Uint8Array;
}

/** The ballot ID for a message: decoded from the bytes only on the way to reporting a problem. */
function idOf(bytes: Uint8Array): string {
  return decodeRecord(bytes).ballotId;
}

/** What the entries so far establish, and what each next entry is checked against. */
class LedgerSoFar {
  genesis: Genesis | undefined;
  publicKey: Uint8Array = new Uint8Array(32);
  cast = 0;
  returned = 0;
  events = 0;
  /** the open batch */
  batch = 1;
  readonly pending = new Map<number, PendingState>();
  readonly pendingById = new BallotIdIndex();
  readonly castById = new BallotIdIndex();
  batchLeaves: Buffer[] = [];
  batchRecords: Uint8Array[] = [];
  readonly tree = new MerkleAccumulator();
  readonly batches: ClosedBatchView[] = [];
  polls: PollsWindow = 'none';
  pollsEvents = false;
  pollsClosedAt = 0;
  ballotsBeforePolls = 0;
  sealedAt: number | undefined;
  readonly signedHeads = new Map<number, SignedHeadSeen>();
  lastSignedHead: SignedHeadSeen | undefined;
  readonly wantRecords: boolean;
  adjudication: AdjudicationReplay | undefined;

  constructor(readonly visitor: ReplayVisitor) {
    this.wantRecords = visitor.onCast !== undefined || visitor.onReturned !== undefined;
  }
}

export function replayLedger(db: Db, visitor: ReplayVisitor = {}, keepHashesAt: ReadonlySet<number> = new Set(), opts: ReplayOptions = {}): ReplaySummary {
  const chain = new HashChainReader(db, opts.lastSeq ?? Number.MAX_SAFE_INTEGER, opts.hashesCheckedElsewhere !== true);
  const st = new LedgerSoFar(visitor);
  st.adjudication = new AdjudicationReplay(db);
  const hashesAt = new Map<number, Uint8Array>();
  while (chain.next()) {
    if (keepHashesAt.has(chain.seq)) hashesAt.set(chain.seq, chain.hash());
    checkEntry(st, chain);
    chain.accept();
  }
  if (st.genesis === undefined) fail(1, 'deleted', 'the ledger has no entries at all');
  return {
    genesis: st.genesis as Genesis,
    entries: chain.accepted,
    head: { seq: chain.accepted, hash: chain.prevHash() },
    cast: st.cast,
    returned: st.returned,
    pending: st.pending.size,
    events: st.events,
    batches: st.batches,
    openBatch: st.batch,
    openBatchCast: st.batchLeaves.length,
    hashesAt,
    ...(st.sealedAt !== undefined ? { sealedAt: st.sealedAt } : {}),
    signedHeads: st.signedHeads,
    ...(st.lastSignedHead !== undefined ? { lastSignedHead: st.lastSignedHead } : {}),
    pollsEvents: st.pollsEvents,
    adjudications: st.adjudication?.count ?? 0,
  };
}

/** One entry, linked and hashed already (HashChainReader), against everything before it. */
function checkEntry(st: LedgerSoFar, chain: HashChainReader): void {
  const { seq, kind, payload } = chain;
  try {
    if (seq === 1) return checkGenesis(st, seq, kind, payload);
    const genesis = st.genesis;
    if (genesis === undefined || kind === EntryKind.genesis) fail(seq, 'invalid', 'a second genesis entry');
    if (st.sealedAt !== undefined && kind !== EntryKind.event && kind !== EntryKind.signedHead && kind !== EntryKind.adjudication) {
      fail(seq, 'invalid', `a ${KIND_NAMES[kind] ?? `kind-${kind}`} entry after the ledger was sealed at entry ${st.sealedAt} (polls closed): nothing but the events of a closed station and adjudications may follow the seal`);
    }
    if (kind === EntryKind.pending) checkBallotEntered(st, genesis, seq, payload, chain.inFrame);
    else if (kind === EntryKind.cast || kind === EntryKind.returned) checkBallotSettled(st, seq, kind, payload);
    else if (kind === EntryKind.event) checkEvent(st, seq, payload);
    else if (kind === EntryKind.checkpoint) checkCheckpoint(st, genesis, seq, payload, chain);
    else if (kind === EntryKind.signedHead) checkSignedHead(st, genesis, seq, payload, chain);
    else if (kind === EntryKind.adjudication) checkAdjudication(st, genesis, seq, payload, chain);
    else fail(seq, 'invalid', `unknown entry kind ${kind}`);
  } catch (e) {
    if (e instanceof ReplayProblem) throw e;
    fail(seq, 'invalid', `its ${KIND_NAMES[kind] ?? `kind-${kind}`} payload is malformed: ${(e as Error).message}`);
  }
}

/** Entry 1: the genesis, which names the election, the mode and the station key. */
function checkGenesis(st: LedgerSoFar, seq: number, kind: number, payload: Uint8Array): void {
  if (kind !== EntryKind.genesis) fail(seq, 'invalid', 'the first entry is not a genesis entry');
  const genesis = decodeGenesis(payload);
  st.genesis = genesis;
  st.visitor.onGenesis?.(genesis);
  st.publicKey = Buffer.from(genesis.station.publicKey, 'hex');
}

/** A ballot entered (pending): while the polls are open, of this ledger's mode, open batch and station, and new. */
function checkBallotEntered(st: LedgerSoFar, genesis: Genesis, seq: number, payload: Uint8Array, inFrame: boolean): void {
  if (st.polls === 'closed') fail(seq, 'invalid', `a ballot entered after the polls closed at entry ${st.pollsClosedAt}`);
  if (st.polls === 'paused') fail(seq, 'invalid', 'a ballot entered while the polls were paused');
  if (st.polls === 'none') st.ballotsBeforePolls += 1;
  const rec = pendingRecord(payload);
  const record = st.wantRecords ? decodeRecord(rec) : undefined;
  const place = record ?? scanRecord(rec);
  if (place.mode !== genesis.mode) fail(seq, 'invalid', `a ${place.mode} ballot in the ${genesis.mode} ledger`);
  if (place.batch !== st.batch) fail(seq, 'invalid', `ballot ${idOf(rec)} names batch ${place.batch} while batch ${st.batch} is open`);
  if (place.station !== genesis.station.number) fail(seq, 'invalid', `ballot ${idOf(rec)} names station ${place.station}, not ${genesis.station.number}`);
  const first = st.castById.get(rec);
  if (first >= 0) fail(seq, 'duplicate', `ballot ${idOf(rec)} was already cast at entry ${first}`);
  const open = st.pendingById.get(rec);
  if (open >= 0) fail(seq, 'duplicate', `ballot ${idOf(rec)} is already pending at entry ${open}`);
  // a frame stays in its chunk's buffer, which is never reused: records taken from it need no copy
  st.pending.set(seq, { record, bytes: inFrame && st.visitor.keepBatches !== true ? rec : Buffer.from(rec) });
  st.pendingById.set(rec, seq);
}

/** A ballot cast or returned: it settles a pending ballot; a cast one joins the open batch. */
function checkBallotSettled(st: LedgerSoFar, seq: number, kind: number, payload: Uint8Array): void {
  let pendingSeq: number;
  let reason = '';
  if (kind === EntryKind.cast) {
    pendingSeq = decodeCast(payload);
  } else {
    ({ pendingSeq, reason } = decodeReturned(payload));
  }
  const p = st.pending.get(pendingSeq);
  if (p === undefined) fail(seq, 'invalid', `it settles entry ${pendingSeq}, which is not a pending ballot`);
  const ps = p as PendingState;
  st.pending.delete(pendingSeq);
  st.pendingById.delete(ps.bytes);
  const visitor = st.visitor;
  if (kind === EntryKind.cast) {
    st.cast += 1;
    st.castById.set(ps.bytes, seq);
    st.batchLeaves.push(leafHash(ps.bytes));
    if (visitor.keepBatches) st.batchRecords.push(ps.bytes);
    if (visitor.onCast) visitor.onCast(ps.record ?? decodeRecord(ps.bytes), seq);
  } else {
    st.returned += 1;
    if (visitor.onReturned) visitor.onReturned(ps.record ?? decodeRecord(ps.bytes), reason, seq);
  }
}

/** An audit event: only the closed station's events after the seal, and polls events in their order. */
function checkEvent(st: LedgerSoFar, seq: number, payload: Uint8Array): void {
  const ev = decodeEvent(payload);
  if (st.sealedAt !== undefined && !POST_SEAL.has(ev.type)) fail(seq, 'invalid', `a "${ev.type}" event after the ledger was sealed at entry ${st.sealedAt}: only ${POST_SEAL_EVENTS.join(', ')} may follow the seal`);
  checkPollsWindow(st, ev.type, seq);
  if (st.sealedAt !== undefined) st.adjudication?.event(ev, seq);
  if (ev.type.startsWith('polls-')) st.pollsEvents = true;
  st.events += 1;
  st.visitor.onEvent?.(ev, seq);
}

/** The polls open once (before any ballot), pause and resume while open, and close once. */
function checkPollsWindow(st: LedgerSoFar, type: AuditEvent['type'], seq: number): void {
  const polls = st.polls;
  switch (type) {
    case 'polls-opened':
      if (polls === 'closed') fail(seq, 'invalid', `the polls opened again after they closed at entry ${st.pollsClosedAt}`);
      if (polls !== 'none') fail(seq, 'invalid', `the polls opened while they were ${polls}`);
      if (st.ballotsBeforePolls > 0) fail(seq, 'invalid', `the polls opened after ${st.ballotsBeforePolls} ballot(s) had already been entered`);
      st.polls = 'open';
      break;
    case 'polls-paused':
      if (polls !== 'open') fail(seq, 'invalid', `the polls paused while they were ${polls === 'none' ? 'not yet open' : polls}`);
      st.polls = 'paused';
      break;
    case 'polls-resumed':
      if (polls !== 'paused') fail(seq, 'invalid', `the polls resumed while they were ${polls === 'none' ? 'not yet open' : polls}`);
      st.polls = 'open';
      break;
    case 'polls-closed':
      if (polls === 'closed') fail(seq, 'invalid', `the polls closed a second time (first at entry ${st.pollsClosedAt})`);
      st.polls = 'closed';
      st.pollsClosedAt = seq;
      break;
    default:
      break;
  }
}

/**
 * A checkpoint closing the open batch: of this ledger, for the open batch, naming the chain's head before
 * it, signed by the station key, with no ballot pending, and whose tree size and root are the chain's.
 */
function checkCheckpoint(st: LedgerSoFar, genesis: Genesis, seq: number, payload: Uint8Array, chain: HashChainReader): void {
  const { body, signature } = decodeCheckpointEntry(payload);
  const c = parseCheckpoint(body);
  if (c.mode !== genesis.mode || c.election !== genesis.election.hash || c.station !== genesis.station.id) {
    fail(seq, 'invalid', 'the checkpoint names another mode, election or station than the ledger');
  }
  if (c.batch !== st.batch) fail(seq, 'batch-mismatch', `the checkpoint is for batch ${c.batch} but batch ${st.batch} is open`);
  const before = chain.prevHash();
  if (c.headSeq !== seq - 1 || !bytesEqual(c.headHash, before)) {
    fail(seq, 'rewritten', `the signed checkpoint names head ${c.headSeq} ${toHex(c.headHash).slice(0, 16)}… but the chain before it ends at ${seq - 1} ${toHex(before).slice(0, 16)}…: entries up to ${c.headSeq} were rewritten`);
  }
  if (!checkpointSignatureValid(body, signature, st.publicKey)) fail(seq, 'bad-signature', 'the checkpoint signature does not verify with the station key');
  if (st.pending.size > 0) fail(seq, 'invalid', `the batch was closed with ${st.pending.size} ballot(s) pending`);
  closeBatch(st, c, seq, body, signature);
}

/** The batch's leaves, in hash order, extend the tree to the checkpoint's size and root. */
function closeBatch(st: LedgerSoFar, c: Checkpoint, seq: number, body: string, signature: Uint8Array): void {
  const tree = st.tree;
  if (c.batchStart !== tree.size) fail(seq, 'batch-mismatch', `the checkpoint says the batch starts at leaf ${c.batchStart}, the chain gives ${tree.size}`);
  const order = orderByHash(st.batchLeaves);
  const sortedLeaves = order.map((i) => st.batchLeaves[i] as Buffer);
  for (const l of sortedLeaves) tree.push(l);
  if (c.treeSize !== tree.size) fail(seq, 'batch-mismatch', `the checkpoint says ${c.treeSize} records, the chain gives ${tree.size}`);
  const root = tree.root();
  if (!bytesEqual(root, c.root)) fail(seq, 'batch-mismatch', `the checkpoint root ${toHex(c.root).slice(0, 16)}… is not the root of the batch's records ${toHex(root).slice(0, 16)}…`);
  const keep = st.visitor.keepBatches;
  st.batches.push({
    seq,
    checkpoint: c,
    body,
    signature: Buffer.from(signature),
    leaves: keep ? sortedLeaves : [],
    records: keep ? order.map((i) => st.batchRecords[i] as Uint8Array) : [],
  });
  st.batchLeaves = [];
  st.batchRecords = [];
  st.batch += 1;
}

/** A signed head: of this ledger, naming the chain's head before it, signed by the station key; a seal closes the ledger. */
function checkSignedHead(st: LedgerSoFar, genesis: Genesis, seq: number, payload: Uint8Array, chain: HashChainReader): void {
  const { body, signature } = decodeCheckpointEntry(payload);
  const h = parseSignedHead(body);
  if (h.mode !== genesis.mode || h.election !== genesis.election.hash || h.station !== genesis.station.id) {
    fail(seq, 'invalid', 'the signed head names another mode, election or station than the ledger');
  }
  const before = chain.prevHash();
  if (h.headSeq !== seq - 1 || !bytesEqual(h.headHash, before)) {
    fail(seq, 'rewritten', `the signed head names entry ${h.headSeq} ${toHex(h.headHash).slice(0, 16)}… but the chain before it ends at ${seq - 1} ${toHex(before).slice(0, 16)}…: entries up to ${h.headSeq} were rewritten`);
  }
  if (!signedHeadValid(body, signature, st.publicKey)) fail(seq, 'bad-signature', 'the signed head signature does not verify with the station key');
  if (h.reason === 'seal') checkSeal(st, seq);
  const seen: SignedHeadSeen = { seq, headSeq: h.headSeq, reason: h.reason, body };
  st.signedHeads.set(seq, seen);
  st.lastSignedHead = seen;
}

/** The seal: once, after the polls closed, with no ballot pending and every cast ballot in a signed checkpoint. */
function checkSeal(st: LedgerSoFar, seq: number): void {
  if (st.sealedAt !== undefined) fail(seq, 'invalid', `a second seal (the first is entry ${st.sealedAt})`);
  if (st.polls !== 'closed') fail(seq, 'invalid', 'the ledger was sealed while the polls were not closed');
  if (st.pending.size > 0) fail(seq, 'invalid', `the ledger was sealed with ${st.pending.size} ballot(s) pending`);
  if (st.batchLeaves.length > 0) fail(seq, 'invalid', `the ledger was sealed with ${st.batchLeaves.length} cast ballot(s) in no signed checkpoint`);
  st.sealedAt = seq;
}

/** An adjudication: after the seal, at its place in the chain, signed, about an adjudicable item of a cast ballot, once. */
function checkAdjudication(st: LedgerSoFar, genesis: Genesis, seq: number, payload: Uint8Array, chain: HashChainReader): void {
  if (st.sealedAt === undefined) fail(seq, 'invalid', 'an adjudication before the ledger was sealed: decisions on marginal marks and write-ins come after the polls close');
  const seen = (st.adjudication as AdjudicationReplay).check(genesis, st.publicKey, seq, payload, chain.prevHash(), st.castById);
  st.visitor.onAdjudication?.(seen);
}
