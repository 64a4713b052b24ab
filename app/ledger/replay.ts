import { bytesEqual, toHex } from './bytes';
import type { Checkpoint } from './checkpoint';
import { checkpointSignatureValid, parseCheckpoint } from './checkpoint';
import type { Genesis } from './entries';
import {
  EntryKind,
  KIND_NAMES,
  ZERO_HASH,
  decodeCast,
  decodeCheckpointEntry,
  decodeEvent,
  decodeGenesis,
  decodePending,
  decodeReturned,
  entryHashFromHex,
  hexScratch,
  payloadIntoScratch,
} from './entries';
import { chainProblemMessage } from './chain-check';
import type { AuditEvent } from './events';
import { MerkleAccumulator, leafHash, orderByHash } from './merkle';
import type { BallotRecord } from './record';
import { decodeRecord, recordBallotIdKey, scanRecord } from './record';
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
}

interface PendingState {
  readonly key: string;
  /** decoded only when a visitor wants records; `verify` alone checks them with scanRecord */
  readonly record: BallotRecord | undefined;
  readonly bytes: Uint8Array;
}

/** The ballot ID for a message: decoded from the bytes only on the way to reporting a problem. */
function idOf(bytes: Uint8Array): string {
  return decodeRecord(bytes).ballotId;
}

const CHUNK = 20_000;

export interface ReplayOptions {
  /** stop after this entry (a snapshot bound, so a second thread can check the same entries) */
  readonly lastSeq?: number;
  /**
   * Take each entry's stored hash as its hash without recomputing it: only when another thread
   * (chain-check.ts) re-hashes and links the same entries and its verdict takes precedence.
   */
  readonly hashesCheckedElsewhere?: boolean;
}

export function replayLedger(db: Db, visitor: ReplayVisitor = {}, keepHashesAt: ReadonlySet<number> = new Set(), opts: ReplayOptions = {}): ReplaySummary {
  const lastSeq = opts.lastSeq ?? Number.MAX_SAFE_INTEGER;
  const recompute = opts.hashesCheckedElsewhere !== true;
  // hex text, not BLOBs: see entryHashFromHex
  const stmt = db.prepare('SELECT seq, kind, hex(payload), lower(hex(entry_hash)) FROM entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?').raw(true);
  const prevOf = db.prepare('SELECT lower(hex(prev_hash)) FROM entries WHERE seq = ?').pluck();
  const wantRecords = visitor.onCast !== undefined || visitor.onReturned !== undefined;
  const fail = (seq: number, kind: ProblemKind, message: string): never => {
    throw new ReplayProblem({ seq, kind, message });
  };

  let genesis: Genesis | undefined;
  let expected = 1;
  let prevHex = toHex(ZERO_HASH);
  let cast = 0;
  let returned = 0;
  let events = 0;
  let batch = 1;
  const pending = new Map<number, PendingState>();
  const pendingByKey = new Map<string, number>();
  const castByKey = new Map<string, number>();
  let batchLeaves: Buffer[] = [];
  let batchRecords: Uint8Array[] = [];
  const tree = new MerkleAccumulator();
  const batches: ClosedBatchView[] = [];
  const hashesAt = new Map<number, Uint8Array>();
  let publicKey: Uint8Array = new Uint8Array(32);

  for (;;) {
    const rows = stmt.all(expected - 1, lastSeq, CHUNK) as Array<[number, number, string, string]>;
    if (rows.length === 0) break;
    for (const [seq, kind, payloadHex, storedHex] of rows) {
      if (seq !== expected) fail(expected, 'deleted', chainProblemMessage('deleted', expected, seq));
      let hHex = storedHex;
      if (recompute) {
        hHex = entryHashFromHex(kind, seq, prevHex, payloadHex);
        if (hHex !== storedHex) {
          // tell a broken link (something removed, added or moved before it) from a changed entry
          if (prevOf.get(seq) !== prevHex) fail(seq, 'out-of-order', chainProblemMessage('out-of-order', seq));
          fail(seq, 'changed', chainProblemMessage('changed', seq));
        }
      } else {
        payloadIntoScratch(payloadHex);
      }
      const payload = hexScratch().subarray(42, 42 + payloadHex.length / 2);
      if (keepHashesAt.has(seq)) hashesAt.set(seq, Buffer.from(hHex, 'hex'));
      try {
        if (seq === 1) {
          if (kind !== EntryKind.genesis) fail(seq, 'invalid', 'the first entry is not a genesis entry');
          genesis = decodeGenesis(payload);
          visitor.onGenesis?.(genesis);
          publicKey = Buffer.from(genesis.station.publicKey, 'hex');
        } else if (genesis === undefined || kind === EntryKind.genesis) {
          fail(seq, 'invalid', 'a second genesis entry');
        } else if (kind === EntryKind.pending) {
          const p = decodePending(payload);
          const record = wantRecords ? decodeRecord(p.record) : undefined;
          const place = record ?? scanRecord(p.record);
          if (place.mode !== genesis.mode) fail(seq, 'invalid', `a ${place.mode} ballot in the ${genesis.mode} ledger`);
          if (place.batch !== batch) fail(seq, 'invalid', `ballot ${idOf(p.record)} names batch ${place.batch} while batch ${batch} is open`);
          if (place.station !== genesis.station.number) fail(seq, 'invalid', `ballot ${idOf(p.record)} names station ${place.station}, not ${genesis.station.number}`);
          const key = recordBallotIdKey(p.record);
          const first = castByKey.get(key);
          if (first !== undefined) fail(seq, 'duplicate', `ballot ${idOf(p.record)} was already cast at entry ${first}`);
          const open = pendingByKey.get(key);
          if (open !== undefined) fail(seq, 'duplicate', `ballot ${idOf(p.record)} is already pending at entry ${open}`);
          pending.set(seq, { key, record, bytes: Buffer.from(p.record) });
          pendingByKey.set(key, seq);
        } else if (kind === EntryKind.cast || kind === EntryKind.returned) {
          const r = kind === EntryKind.cast ? { pendingSeq: decodeCast(payload), reason: '' } : decodeReturned(payload);
          const p = pending.get(r.pendingSeq);
          if (p === undefined) fail(seq, 'invalid', `it settles entry ${r.pendingSeq}, which is not a pending ballot`);
          const ps = p as PendingState;
          pending.delete(r.pendingSeq);
          pendingByKey.delete(ps.key);
          if (kind === EntryKind.cast) {
            cast += 1;
            castByKey.set(ps.key, seq);
            batchLeaves.push(leafHash(ps.bytes));
            if (visitor.keepBatches) batchRecords.push(ps.bytes);
            if (visitor.onCast) visitor.onCast(ps.record ?? decodeRecord(ps.bytes), seq);
          } else {
            returned += 1;
            if (visitor.onReturned) visitor.onReturned(ps.record ?? decodeRecord(ps.bytes), r.reason, seq);
          }
        } else if (kind === EntryKind.event) {
          const ev = decodeEvent(payload);
          events += 1;
          visitor.onEvent?.(ev, seq);
        } else if (kind === EntryKind.checkpoint) {
          const { body, signature } = decodeCheckpointEntry(payload);
          const c = parseCheckpoint(body);
          if (c.mode !== genesis.mode || c.election !== genesis.election.hash || c.station !== genesis.station.id) {
            fail(seq, 'invalid', 'the checkpoint names another mode, election or station than the ledger');
          }
          if (c.batch !== batch) fail(seq, 'batch-mismatch', `the checkpoint is for batch ${c.batch} but batch ${batch} is open`);
          if (c.headSeq !== seq - 1 || toHex(c.headHash) !== prevHex) {
            fail(seq, 'rewritten', `the signed checkpoint names head ${c.headSeq} ${toHex(c.headHash).slice(0, 16)}… but the chain before it ends at ${seq - 1} ${prevHex.slice(0, 16)}…: entries up to ${c.headSeq} were rewritten`);
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
        } else {
          fail(seq, 'invalid', `unknown entry kind ${kind}`);
        }
      } catch (e) {
        if (e instanceof ReplayProblem) throw e;
        fail(seq, 'invalid', `its ${KIND_NAMES[kind] ?? `kind-${kind}`} payload is malformed: ${(e as Error).message}`);
      }
      prevHex = hHex;
      expected = seq + 1;
    }
  }
  if (genesis === undefined) fail(1, 'deleted', 'the ledger has no entries at all');
  return {
    genesis: genesis as Genesis,
    entries: expected - 1,
    head: { seq: expected - 1, hash: Buffer.from(prevHex, 'hex') },
    cast,
    returned,
    pending: pending.size,
    events,
    batches,
    openBatch: batch,
    openBatchCast: batchLeaves.length,
    hashesAt,
  };
}
