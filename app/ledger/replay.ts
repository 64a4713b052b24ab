import { hash as nodeHash } from 'node:crypto';
import { bytesEqual, toHex } from '../../lib/bytes';
import type { Checkpoint } from './checkpoint';
import { checkpointSignatureValid, parseCheckpoint } from './checkpoint';
import type { Genesis } from './entries';
import {
  EntryKind,
  KIND_NAMES,
  decodeCast,
  decodeCheckpointEntry,
  decodeEvent,
  decodeGenesis,
  pendingRecord,
  decodeReturned,
  entryHashFromHex,
  hexScratch,
  payloadIntoScratch,
} from './entries';
import { EntryFrames, EntryRows, FRAME_CHUNK, FRAME_HASHED_FROM, FRAME_HEADER, frameEnd, frameSeq } from './entry-frames';
import { hashChainProblemMessage } from './hash-chain-check';
import type { AuditEvent } from './events';
import { MerkleAccumulator, leafHash, orderByHash } from './merkle';
import type { BallotRecord } from './record';
import { decodeRecord, scanRecord } from './record';
import type { HeadReason } from './signed-head';
import { POST_SEAL_EVENTS, parseSignedHead, signedHeadValid } from './signed-head';
import { BallotIdIndex } from './ballot-id-index';
import type { Db } from './storage';

/**
 * One pass over the whole chain that re-derives everything from the entries alone (never from the index
 * tables): hashes and links, ballot states, batches, Merkle roots, checkpoint signatures. `verify`, `tally`
 * and `export` all stand on it, so none of them believes anything the chain does not prove.
 */
export type ProblemKind = 'deleted' | 'out-of-order' | 'changed' | 'invalid' | 'duplicate' | 'batch-mismatch' | 'bad-signature' | 'rewritten' | 'truncated';

export interface Problem {
  readonly seq: number;
  readonly kind: ProblemKind;
  readonly message: string;
}

export class ReplayProblem extends Error {
  override readonly name = 'ReplayProblem';
  constructor(readonly problem: Problem) {
    super(`entry ${problem.seq}: ${problem.message}`);
  }
}

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
}

export interface SignedHeadSeen {
  readonly seq: number;
  readonly headSeq: number;
  readonly reason: HeadReason;
  readonly body: string;
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


/** A latin1 digest string against 32 bytes: a plain loop beats writing it out and calling Buffer.compare. */
function sameDigest(digest: string, b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) if (digest.charCodeAt(i) !== b[at + i]) return false;
  return true;
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

export function replayLedger(db: Db, visitor: ReplayVisitor = {}, keepHashesAt: ReadonlySet<number> = new Set(), opts: ReplayOptions = {}): ReplaySummary {
  const lastSeq = opts.lastSeq ?? Number.MAX_SAFE_INTEGER;
  const recompute = opts.hashesCheckedElsewhere !== true;
  const frames = new EntryFrames(db);
  const rows = new EntryRows(db);
  const wantRecords = visitor.onCast !== undefined || visitor.onReturned !== undefined;
  const fail = (seq: number, kind: ProblemKind, message: string): never => {
    throw new ReplayProblem({ seq, kind, message });
  };

  let genesis: Genesis | undefined;
  let expected = 1;
  // the chain's hash of the entry before the current one, and of the current one: swapped each entry
  // where the chain's hash of the entry before the current one, and of the current one, sit: usually in the
  // chunk's frames (checked equal to the recomputed hash), so nothing is copied per entry
  let prevBuf: Uint8Array = Buffer.alloc(32);
  let prevOff = 0;
  let thisBuf: Uint8Array = prevBuf;
  let thisOff = 0;
  const prevHashNow = (): Buffer => Buffer.from(prevBuf.subarray(prevOff, prevOff + 32));
  let cast = 0;
  let returned = 0;
  let events = 0;
  let batch = 1;
  const pending = new Map<number, PendingState>();
  const pendingById = new BallotIdIndex();
  const castById = new BallotIdIndex();
  let batchLeaves: Buffer[] = [];
  let batchRecords: Uint8Array[] = [];
  const tree = new MerkleAccumulator();
  const batches: ClosedBatchView[] = [];
  const hashesAt = new Map<number, Uint8Array>();
  let publicKey: Uint8Array = new Uint8Array(32);
  let polls: PollsWindow = 'none';
  let pollsEvents = false;
  let pollsClosedAt = 0;
  let ballotsBeforePolls = 0;
  let sealedAt: number | undefined;
  const signedHeads = new Map<number, SignedHeadSeen>();
  let lastSignedHead: SignedHeadSeen | undefined;

  /** The chain checks of an entry read on its own, as hex text: for an entry that made no frame (entry-frames.ts). */
  const chainByRow = (): { seq: number; kind: number; payload: Uint8Array } | undefined => {
    const row = rows.next(expected - 1, lastSeq);
    if (row === undefined) return undefined;
    const [seq, kind, payloadHex, storedHex] = row;
    if (seq !== expected) fail(expected, 'deleted', hashChainProblemMessage('deleted', expected, seq));
    const prevHex = toHex(prevBuf.subarray(prevOff, prevOff + 32));
    let hHex = storedHex;
    if (recompute) {
      hHex = entryHashFromHex(kind, seq, prevHex, payloadHex);
      if (hHex !== storedHex) {
        // tell a broken link (something removed, added or moved before it) from a changed entry
        if (rows.storedPrevHex(seq) !== prevHex) fail(seq, 'out-of-order', hashChainProblemMessage('out-of-order', seq));
        fail(seq, 'changed', hashChainProblemMessage('changed', seq));
      }
    } else {
      payloadIntoScratch(payloadHex);
    }
    thisBuf = Buffer.from(hHex, 'hex');
    thisOff = 0;
    return { seq, kind, payload: hexScratch().subarray(42, 42 + payloadHex.length / 2) };
  };

  for (;;) {
    const chunk = frames.read(expected - 1, lastSeq, FRAME_CHUNK);
    if (chunk === undefined) break;
    const b = chunk.frames ?? Buffer.alloc(0);
    let off = 0;
    for (let done = 0; done < chunk.count; done++) {
      let seq = expected;
      let kind: number;
      let payload: Uint8Array;
      // a frame stays in its chunk's buffer, which is never reused: records taken from it need no copy
      let inFrame = false;
      const end = off < b.length ? frameEnd(b, off) : 0;
      if (off < b.length && frameSeq(b, off) === expected && b.readUInt32BE(off + 4) === 32 && b.readUInt32BE(off + 8) === 32) {
        const prevAt = off + FRAME_HEADER;
        const payloadAt = prevAt + 32;
        const hashAt = end - 32;
        kind = b[off + 13] as number;
        if (recompute) {
          // the hash covers the chain's previous hash, not the stored copy of it: hash with that (the
          // stored copy is looked at only to say what is wrong with an entry whose hash does not match)
          if (prevBuf === b) b.copyWithin(prevAt, prevOff, prevOff + 32);
          else b.set(prevBuf.subarray(prevOff, prevOff + 32), prevAt);
          if (!sameDigest(nodeHash('sha256', b.subarray(off + FRAME_HASHED_FROM, hashAt), 'binary'), b, hashAt)) {
            // tell a broken link (something removed, added or moved before it) from a changed entry
            if (rows.storedPrevHex(seq) !== toHex(b.subarray(prevAt, payloadAt))) fail(seq, 'out-of-order', hashChainProblemMessage('out-of-order', seq));
            fail(seq, 'changed', hashChainProblemMessage('changed', seq));
          }
        }
        thisBuf = b;
        thisOff = hashAt;
        payload = b.subarray(payloadAt, hashAt);
        inFrame = true;
        off = end;
      } else {
        const one = chainByRow();
        if (one === undefined) break;
        ({ seq, kind, payload } = one);
        if (off < b.length && frameSeq(b, off) === seq) off = end;
      }
      if (keepHashesAt.has(seq)) hashesAt.set(seq, Buffer.from(thisBuf.subarray(thisOff, thisOff + 32)));
      try {
        if (seq === 1) {
          if (kind !== EntryKind.genesis) fail(seq, 'invalid', 'the first entry is not a genesis entry');
          genesis = decodeGenesis(payload);
          visitor.onGenesis?.(genesis);
          publicKey = Buffer.from(genesis.station.publicKey, 'hex');
        } else if (genesis === undefined || kind === EntryKind.genesis) {
          fail(seq, 'invalid', 'a second genesis entry');
        } else if (sealedAt !== undefined && kind !== EntryKind.event && kind !== EntryKind.signedHead) {
          fail(seq, 'invalid', `a ${KIND_NAMES[kind] ?? `kind-${kind}`} entry after the ledger was sealed at entry ${sealedAt} (polls closed): nothing but the events of a closed station may follow the seal`);
        } else if (kind === EntryKind.pending) {
          if (polls === 'closed') fail(seq, 'invalid', `a ballot entered after the polls closed at entry ${pollsClosedAt}`);
          if (polls === 'paused') fail(seq, 'invalid', 'a ballot entered while the polls were paused');
          if (polls === 'none') ballotsBeforePolls += 1;
          const rec = pendingRecord(payload);
          const record = wantRecords ? decodeRecord(rec) : undefined;
          const place = record ?? scanRecord(rec);
          if (place.mode !== genesis.mode) fail(seq, 'invalid', `a ${place.mode} ballot in the ${genesis.mode} ledger`);
          if (place.batch !== batch) fail(seq, 'invalid', `ballot ${idOf(rec)} names batch ${place.batch} while batch ${batch} is open`);
          if (place.station !== genesis.station.number) fail(seq, 'invalid', `ballot ${idOf(rec)} names station ${place.station}, not ${genesis.station.number}`);
          const first = castById.get(rec);
          if (first >= 0) fail(seq, 'duplicate', `ballot ${idOf(rec)} was already cast at entry ${first}`);
          const open = pendingById.get(rec);
          if (open >= 0) fail(seq, 'duplicate', `ballot ${idOf(rec)} is already pending at entry ${open}`);
          pending.set(seq, { record, bytes: inFrame && visitor.keepBatches !== true ? rec : Buffer.from(rec) });
          pendingById.set(rec, seq);
        } else if (kind === EntryKind.cast || kind === EntryKind.returned) {
          let pendingSeq: number;
          let reason = '';
          if (kind === EntryKind.cast) {
            pendingSeq = decodeCast(payload);
          } else {
            ({ pendingSeq, reason } = decodeReturned(payload));
          }
          const p = pending.get(pendingSeq);
          if (p === undefined) fail(seq, 'invalid', `it settles entry ${pendingSeq}, which is not a pending ballot`);
          const ps = p as PendingState;
          pending.delete(pendingSeq);
          pendingById.delete(ps.bytes);
          if (kind === EntryKind.cast) {
            cast += 1;
            castById.set(ps.bytes, seq);
            batchLeaves.push(leafHash(ps.bytes));
            if (visitor.keepBatches) batchRecords.push(ps.bytes);
            if (visitor.onCast) visitor.onCast(ps.record ?? decodeRecord(ps.bytes), seq);
          } else {
            returned += 1;
            if (visitor.onReturned) visitor.onReturned(ps.record ?? decodeRecord(ps.bytes), reason, seq);
          }
        } else if (kind === EntryKind.event) {
          const ev = decodeEvent(payload);
          if (sealedAt !== undefined && !POST_SEAL.has(ev.type)) fail(seq, 'invalid', `a "${ev.type}" event after the ledger was sealed at entry ${sealedAt}: only ${POST_SEAL_EVENTS.join(', ')} may follow the seal`);
          switch (ev.type) {
            case 'polls-opened':
              if (polls === 'closed') fail(seq, 'invalid', `the polls opened again after they closed at entry ${pollsClosedAt}`);
              if (polls !== 'none') fail(seq, 'invalid', `the polls opened while they were ${polls}`);
              if (ballotsBeforePolls > 0) fail(seq, 'invalid', `the polls opened after ${ballotsBeforePolls} ballot(s) had already been entered`);
              polls = 'open';
              break;
            case 'polls-paused':
              if (polls !== 'open') fail(seq, 'invalid', `the polls paused while they were ${polls === 'none' ? 'not yet open' : polls}`);
              polls = 'paused';
              break;
            case 'polls-resumed':
              if (polls !== 'paused') fail(seq, 'invalid', `the polls resumed while they were ${polls === 'none' ? 'not yet open' : polls}`);
              polls = 'open';
              break;
            case 'polls-closed':
              if (polls === 'closed') fail(seq, 'invalid', `the polls closed a second time (first at entry ${pollsClosedAt})`);
              polls = 'closed';
              pollsClosedAt = seq;
              break;
            default:
              break;
          }
          if (ev.type.startsWith('polls-')) pollsEvents = true;
          events += 1;
          visitor.onEvent?.(ev, seq);
        } else if (kind === EntryKind.checkpoint) {
          const { body, signature } = decodeCheckpointEntry(payload);
          const c = parseCheckpoint(body);
          if (c.mode !== genesis.mode || c.election !== genesis.election.hash || c.station !== genesis.station.id) {
            fail(seq, 'invalid', 'the checkpoint names another mode, election or station than the ledger');
          }
          if (c.batch !== batch) fail(seq, 'batch-mismatch', `the checkpoint is for batch ${c.batch} but batch ${batch} is open`);
          const before = prevHashNow();
          if (c.headSeq !== seq - 1 || !bytesEqual(c.headHash, before)) {
            fail(seq, 'rewritten', `the signed checkpoint names head ${c.headSeq} ${toHex(c.headHash).slice(0, 16)}… but the chain before it ends at ${seq - 1} ${toHex(before).slice(0, 16)}…: entries up to ${c.headSeq} were rewritten`);
          }
          if (!checkpointSignatureValid(body, signature, publicKey)) fail(seq, 'bad-signature', 'the checkpoint signature does not verify with the station key');
          if (pending.size > 0) fail(seq, 'invalid', `the batch was closed with ${pending.size} ballot(s) pending`);
          if (c.batchStart !== tree.size) fail(seq, 'batch-mismatch', `the checkpoint says the batch starts at leaf ${c.batchStart}, the chain gives ${tree.size}`);
          const order = orderByHash(batchLeaves);
          const sortedLeaves = order.map((i) => batchLeaves[i] as Buffer);
          for (const l of sortedLeaves) tree.push(l);
          if (c.treeSize !== tree.size) fail(seq, 'batch-mismatch', `the checkpoint says ${c.treeSize} records, the chain gives ${tree.size}`);
          const root = tree.root();
          if (!bytesEqual(root, c.root)) fail(seq, 'batch-mismatch', `the checkpoint root ${toHex(c.root).slice(0, 16)}… is not the root of the batch's records ${toHex(root).slice(0, 16)}…`);
          batches.push({
            seq,
            checkpoint: c,
            body,
            signature: Buffer.from(signature),
            leaves: visitor.keepBatches ? sortedLeaves : [],
            records: visitor.keepBatches ? order.map((i) => batchRecords[i] as Uint8Array) : [],
          });
          batchLeaves = [];
          batchRecords = [];
          batch += 1;
        } else if (kind === EntryKind.signedHead) {
          const { body, signature } = decodeCheckpointEntry(payload);
          const h = parseSignedHead(body);
          if (h.mode !== genesis.mode || h.election !== genesis.election.hash || h.station !== genesis.station.id) {
            fail(seq, 'invalid', 'the signed head names another mode, election or station than the ledger');
          }
          const before = prevHashNow();
          if (h.headSeq !== seq - 1 || !bytesEqual(h.headHash, before)) {
            fail(seq, 'rewritten', `the signed head names entry ${h.headSeq} ${toHex(h.headHash).slice(0, 16)}… but the chain before it ends at ${seq - 1} ${toHex(before).slice(0, 16)}…: entries up to ${h.headSeq} were rewritten`);
          }
          if (!signedHeadValid(body, signature, publicKey)) fail(seq, 'bad-signature', 'the signed head signature does not verify with the station key');
          if (h.reason === 'seal') {
            if (sealedAt !== undefined) fail(seq, 'invalid', `a second seal (the first is entry ${sealedAt})`);
            if (polls !== 'closed') fail(seq, 'invalid', 'the ledger was sealed while the polls were not closed');
            if (pending.size > 0) fail(seq, 'invalid', `the ledger was sealed with ${pending.size} ballot(s) pending`);
            if (batchLeaves.length > 0) fail(seq, 'invalid', `the ledger was sealed with ${batchLeaves.length} cast ballot(s) in no signed checkpoint`);
            sealedAt = seq;
          }
          const seen: SignedHeadSeen = { seq, headSeq: h.headSeq, reason: h.reason, body };
          signedHeads.set(seq, seen);
          lastSignedHead = seen;
        } else {
          fail(seq, 'invalid', `unknown entry kind ${kind}`);
        }
      } catch (e) {
        if (e instanceof ReplayProblem) throw e;
        fail(seq, 'invalid', `its ${KIND_NAMES[kind] ?? `kind-${kind}`} payload is malformed: ${(e as Error).message}`);
      }
      prevBuf = thisBuf;
      prevOff = thisOff;
      expected = seq + 1;
    }
  }
  if (genesis === undefined) fail(1, 'deleted', 'the ledger has no entries at all');
  return {
    genesis: genesis as Genesis,
    entries: expected - 1,
    head: { seq: expected - 1, hash: prevHashNow() },
    cast,
    returned,
    pending: pending.size,
    events,
    batches,
    openBatch: batch,
    openBatchCast: batchLeaves.length,
    hashesAt,
    ...(sealedAt !== undefined ? { sealedAt } : {}),
    signedHeads,
    ...(lastSignedHead !== undefined ? { lastSignedHead } : {}),
    pollsEvents,
  };
}
