import fs from 'node:fs';
import path from 'node:path';
import type { Statement } from 'better-sqlite3';
import type { Result } from '../../ballots/result';
import { assertNever, err, ok } from '../../ballots/result';
import { bytesEqual, toHex } from './bytes';
import type { CheckpointSigner } from './checkpoint';
import { formatCheckpoint, signCheckpoint } from './checkpoint';
import { appendLineDurably, fsyncDir } from './durable-fs';
import type { Genesis } from './entries';
import {
  EntryKind,
  GenesisSchema,
  ZERO_HASH,
  decodeGenesis,
  decodeCast,
  decodePending,
  decodeReturned,
  encodeCast,
  encodeCheckpointEntry,
  encodeEvent,
  encodeGenesis,
  encodePending,
  encodeReturned,
  entryHash,
  RETURN_REASON,
} from './entries';
import { LedgerError } from './errors';
import type { AuditEventInput } from './events';
import { AuditEventSchema, isoSeconds } from './events';
import { leafHash, merkleRoot, orderByHash } from './merkle';
import type { BallotCapture, BallotRecord, LedgerMode } from './record';
import { BallotCaptureSchema, decodeRecord, encodeCaptureRecord, isWellFormedCapture, recordBallotIdKey } from './record';
import type { Db, OpenDbOptions } from './storage';
import { openDb, sessionMarker, storageError, withStorage } from './storage';

export interface Head {
  readonly seq: number;
  readonly hash: Uint8Array;
}

export interface Appended {
  readonly seq: number;
  readonly entryHash: Uint8Array;
}

export interface PendingBallot {
  readonly pendingSeq: number;
  readonly ballotId: string;
  readonly record: BallotRecord;
}

export type AppendRefusal =
  | { readonly kind: 'invalid'; readonly detail: string }
  | { readonly kind: 'wrong-mode'; readonly ledgerMode: LedgerMode; readonly ballotMode: LedgerMode }
  | { readonly kind: 'duplicate'; readonly ballotId: string; readonly firstSeq: number; readonly firstPendingSeq: number }
  | { readonly kind: 'already-pending'; readonly ballotId: string; readonly pendingSeq: number }
  | { readonly kind: 'unreconciled'; readonly pendingSeqs: readonly number[] };

export type ResolveRefusal = { readonly kind: 'not-pending'; readonly pendingSeq: number; readonly detail: string };

/** What the scanner says became of a ballot that was pending when the station stopped. */
export type ScannerReport = 'dropped' | 'returned' | 'unknown';

export interface ReconcileOutcome {
  readonly pendingSeq: number;
  readonly ballotId: string;
  readonly decision: 'cast' | 'returned';
  readonly seq: number;
  /** what the poll worker must do, in words */
  readonly instruction: string;
}

export type ReconcileRefusal =
  | { readonly kind: 'missing-report'; readonly pendingSeqs: readonly number[] }
  | { readonly kind: 'unknown-ballot'; readonly pendingSeqs: readonly number[] };

export interface ClosedBatch {
  readonly batch: number;
  readonly seq: number;
  readonly body: string;
  readonly signature: Uint8Array;
  readonly treeSize: number;
  readonly root: Uint8Array;
}

interface BallotState {
  readonly state: 'pending' | 'cast';
  readonly pendingSeq: number;
  readonly castSeq?: number;
}

interface PendingState {
  readonly key: string;
  readonly recordBytes: Uint8Array;
}

/** A contest has at most a few hundred options: pairwise beats building a Set for every contest of every ballot. */
function hasRepeat(xs: readonly number[]): boolean {
  for (let i = 1; i < xs.length; i++) for (let j = 0; j < i; j++) if (xs[i] === xs[j]) return true;
  return false;
}

export interface LedgerOptions {
  readonly maxPageCount?: OpenDbOptions['maxPageCount'];
}

/**
 * The station's ledger: one SQLite file per mode (official, test), an append-only hash chain of entries.
 * Every append is one transaction committed with WAL + synchronous=FULL before the call returns, so an
 * acknowledged entry survives a power cut. One writer process at a time.
 */
export class Ledger {
  private head: Head;
  private batch: number;
  private readonly unreconciled: Set<number>;
  private closed = false;
  /**
   * Ballot state by ballot ID (8-byte key as latin1), rebuilt from the entries at open: the chain is the
   * only thing on disk, so a pending append writes one row, as a bare insert does.
   */
  private readonly ballots = new Map<string, BallotState>();
  /** pending ballots by pending seq */
  private readonly pending = new Map<number, PendingState>();
  /** cast records of the open batch (their leaf hashes are made when it closes) */
  private openBatch: Array<{ castSeq: number; record: Uint8Array }> = [];
  /** undo steps of in-memory changes made inside the running transaction */
  private undo: Array<() => void> = [];
  /** made once: better-sqlite3 builds a fresh wrapper (and its statements' bindings) per transaction() call */
  private readonly runInTx: (fn: () => unknown) => unknown;
  private readonly st: {
    insertEntry: Statement;
    leafCount: Statement;
    leafHashes: Statement;
    insertLeaf: Statement;
    insertCheckpoint: Statement;
  };

  private constructor(
    private readonly db: Db,
    readonly file: string,
    readonly genesis: Genesis,
  ) {
    const prep = (sql: string): Statement => db.prepare(sql);
    this.runInTx = db.transaction((fn: () => unknown) => fn());
    this.st = {
      insertEntry: prep('INSERT INTO entries (seq, kind, payload, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?)'),
      leafCount: prep('SELECT count(*) FROM leaves').pluck(),
      leafHashes: prep('SELECT leaf_hash FROM leaves ORDER BY leaf_index').pluck(),
      insertLeaf: prep('INSERT INTO leaves (leaf_index, batch, cast_seq, leaf_hash) VALUES (?, ?, ?, ?)'),
      insertCheckpoint: prep('INSERT INTO checkpoints (batch, seq, body, signature) VALUES (?, ?, ?, ?)'),
    };
    const last = db.prepare('SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1').get() as { seq: number; entry_hash: Buffer } | undefined;
    if (last === undefined) throw new LedgerError('wrong-ledger', file, 'the ledger has no genesis entry');
    this.head = { seq: last.seq, hash: new Uint8Array(last.entry_hash) };
    const maxBatch = db.prepare('SELECT max(batch) FROM checkpoints').pluck().get() as number | null;
    this.batch = (maxBatch ?? 0) + 1;
    this.rebuildIndexes();
    this.unreconciled = new Set(this.pending.keys());
  }

  /** One pass over the ballot entries (the chain was written by this code; `verify` is the full check). */
  private rebuildIndexes(): void {
    const rows = this.db.prepare('SELECT seq, kind, payload FROM entries WHERE kind IN (?, ?, ?, ?) ORDER BY seq').raw(true);
    for (const row of rows.iterate(EntryKind.pending, EntryKind.cast, EntryKind.returned, EntryKind.checkpoint) as IterableIterator<[number, number, Buffer]>) {
      const [seq, kind, payload] = row;
      if (kind === EntryKind.pending) {
        const recordBytes = decodePending(payload).record;
        const key = recordBallotIdKey(recordBytes);
        this.pending.set(seq, { key, recordBytes });
        this.ballots.set(key, { state: 'pending', pendingSeq: seq });
      } else if (kind === EntryKind.checkpoint) {
        this.openBatch = [];
      } else {
        const pendingSeq = kind === EntryKind.cast ? decodeCast(payload) : decodeReturned(payload).pendingSeq;
        const p = this.pending.get(pendingSeq);
        if (p === undefined) throw new LedgerError('corrupt', this.file, `entry ${seq} settles entry ${pendingSeq}, which is not pending: run \`tallyproof ledger verify\``);
        this.pending.delete(pendingSeq);
        if (kind === EntryKind.cast) {
          this.ballots.set(p.key, { state: 'cast', pendingSeq, castSeq: seq });
          this.openBatch.push({ castSeq: seq, record: p.recordBytes });
        } else {
          this.ballots.delete(p.key);
        }
      }
    }
  }

  /**
   * Makes a new ledger file whose first entry states its mode, election and station. It is built under a
   * temporary name and renamed into place, so a crash never leaves a half-made ledger behind.
   */
  static create(file: string, genesis: Genesis, opts: LedgerOptions = {}): Ledger {
    const g = GenesisSchema.parse(genesis);
    if (fs.existsSync(file)) throw new LedgerError('exists', file, 'a ledger already exists here; refusing to overwrite it');
    const tmp = `${file}.new`;
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) fs.rmSync(f, { force: true });
    const db = openDb(tmp, { create: true, ...opts });
    try {
      const payload = encodeGenesis(g);
      const hash = entryHash(EntryKind.genesis, 1, ZERO_HASH, payload);
      db.transaction(() => {
        db.prepare('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)').run('format', g.format, 'mode', g.mode);
        db.prepare('INSERT INTO entries (seq, kind, payload, prev_hash, entry_hash) VALUES (1, ?, ?, ?, ?)').run(EntryKind.genesis, payload, ZERO_HASH, hash);
      })();
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    } catch (e) {
      db.close();
      throw storageError(e, file);
    }
    if (fs.existsSync(file)) throw new LedgerError('exists', file, 'a ledger appeared here while this one was being made');
    fs.renameSync(tmp, file);
    fsyncDir(path.dirname(file));
    return Ledger.open(file, opts);
  }

  static open(file: string, opts: LedgerOptions = {}): Ledger {
    const db = openDb(file, opts);
    try {
      const row = db.prepare('SELECT kind, payload FROM entries WHERE seq = 1').get() as { kind: number; payload: Buffer } | undefined;
      if (row === undefined || row.kind !== EntryKind.genesis) throw new LedgerError('wrong-ledger', file, 'entry 1 is not a genesis entry');
      return Ledger.start(db, file, decodeGenesis(row.payload));
    } catch (e) {
      db.close();
      throw storageError(e, file);
    }
  }

  private static start(db: Db, file: string, g: Genesis): Ledger {
    const ledger = new Ledger(db, file, g);
    withStorage(sessionMarker(file), () => {
      fs.writeFileSync(sessionMarker(file), `${process.pid}\n`, { mode: 0o600 });
      fsyncDir(path.dirname(file));
    });
    return ledger;
  }

  get mode(): LedgerMode {
    return this.genesis.mode;
  }

  get currentBatch(): number {
    return this.batch;
  }

  headNow(): Head {
    return this.head;
  }

  /** Ballots left pending by a previous run: they must be reconciled before any new ballot is taken. */
  unreconciledBallots(): PendingBallot[] {
    return [...this.unreconciled].sort((a, b) => a - b).map((s) => this.pendingBallot(s));
  }

  pendingBallots(): PendingBallot[] {
    return [...this.pending.keys()].sort((a, b) => a - b).map((s) => this.pendingBallot(s));
  }

  private pendingBallot(seq: number): PendingBallot {
    const p = this.pending.get(seq);
    if (p === undefined) throw new LedgerError('state', this.file, `entry ${seq} is not a pending ballot`);
    const record = decodeRecord(p.recordBytes);
    return { pendingSeq: seq, ballotId: record.ballotId, record };
  }

  /**
   * Runs `fn` as one transaction: one commit (one fsync) for many appends. For bulk loads and benchmarks;
   * the station appends one ballot per transaction.
   */
  transaction<T>(fn: () => T): T {
    return this.undoOnFailure(() => this.runInTx(fn) as T);
  }

  /**
   * Runs `fn`, which writes exactly one row, in SQLite's autocommit mode: a single INSERT is atomic and
   * durable by itself, so the explicit BEGIN/COMMIT pair would only add two statement round trips to
   * every ballot. Inside an outer transaction it simply joins it.
   */
  private singleWrite<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.undoOnFailure(fn);
  }

  /**
   * Runs a write; if it throws, takes back the in-memory changes it made and the head and batch it moved.
   * Once nothing is left uncommitted the undo steps are dropped.
   */
  private undoOnFailure<T>(run: () => T): T {
    this.assertOpen();
    const saved = { head: this.head, batch: this.batch, undo: this.undo.length };
    try {
      const out = run();
      if (!this.db.inTransaction) this.undo = [];
      return out;
    } catch (e) {
      while (this.undo.length > saved.undo) (this.undo.pop() as () => void)();
      this.head = saved.head;
      this.batch = saved.batch;
      throw storageError(e, this.file);
    }
  }

  /** Changes an in-memory index now and registers how to take it back if the transaction fails. */
  private change(apply: () => void, revert: () => void): void {
    apply();
    // outside a transaction the row is already committed and nothing after it can take it back
    if (this.db.inTransaction) this.undo.push(revert);
  }

  private assertOpen(): void {
    if (this.closed) throw new LedgerError('state', this.file, 'the ledger is closed');
  }

  /** Adds one entry; callers run it inside a transaction and the head moves only if that commits. */
  private appendRaw(kind: number, payload: Uint8Array): Appended {
    const seq = this.head.seq + 1;
    const hash = entryHash(kind, seq, this.head.hash, payload);
    this.st.insertEntry.run(seq, kind, payload, this.head.hash, hash);
    this.head = { seq, hash };
    return { seq, entryHash: hash };
  }

  /** Records a scanned ballot as pending, durably, before the scanner may drop it into the box. */
  appendPending(input: BallotCapture): Result<Appended & { ballotId: string }, AppendRefusal> {
    this.assertOpen();
    if (this.unreconciled.size > 0) return err({ kind: 'unreconciled', pendingSeqs: [...this.unreconciled].sort((a, b) => a - b) });
    let capture: BallotCapture;
    if (isWellFormedCapture(input)) {
      capture = input;
    } else {
      const parsed = BallotCaptureSchema.safeParse(input);
      if (!parsed.success) return err({ kind: 'invalid', detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      capture = parsed.data;
    }
    if (capture.mode !== this.mode) return err({ kind: 'wrong-mode', ledgerMode: this.mode, ballotMode: capture.mode });
    const problem = this.checkAgainstElection(capture);
    if (problem !== undefined) return err({ kind: 'invalid', detail: problem });
    let recordBytes: Uint8Array;
    try {
      recordBytes = encodeCaptureRecord(capture, this.genesis.station.number, this.batch, this.genesis.election.contests);
    } catch (e) {
      return err({ kind: 'invalid', detail: (e as Error).message });
    }
    const ballotId = capture.ballotId.toUpperCase();
    const key = recordBallotIdKey(recordBytes);
    const existing = this.ballots.get(key);
    if (existing !== undefined) {
      if (existing.state === 'cast') return err({ kind: 'duplicate', ballotId, firstSeq: existing.castSeq as number, firstPendingSeq: existing.pendingSeq });
      return err({ kind: 'already-pending', ballotId, pendingSeq: existing.pendingSeq });
    }
    const rb = recordBytes;
    return this.singleWrite(() => {
      const appended = this.appendRaw(EntryKind.pending, encodePending({ record: rb, imageSha256: capture.imageSha256, votingId: capture.votingId }));
      this.change(
        () => {
          this.ballots.set(key, { state: 'pending', pendingSeq: appended.seq });
          this.pending.set(appended.seq, { key, recordBytes: rb });
        },
        () => {
          this.ballots.delete(key);
          this.pending.delete(appended.seq);
        },
      );
      return ok({ ...appended, ballotId });
    });
  }

  private checkAgainstElection(c: BallotCapture): string | undefined {
    const contests = this.genesis.election.contests;
    for (const sel of c.contests) {
      const def = contests[sel.contest];
      if (def === undefined) return `contest index ${sel.contest} is not in the election (it has ${contests.length})`;
      for (const o of sel.options) if (o >= def.options.length) return `option index ${o} is not in contest ${def.id} (it has ${def.options.length})`;
      if (hasRepeat(sel.options)) return `contest ${def.id} lists an option twice`;
      if (sel.overvote !== sel.options.length > def.seats) return `contest ${def.id}: overvote flag disagrees with ${sel.options.length} marks for ${def.seats} seat(s)`;
      if (sel.undervote !== sel.options.length < def.seats) return `contest ${def.id}: undervote flag disagrees with ${sel.options.length} marks for ${def.seats} seat(s)`;
    }
    return undefined;
  }

  private resolvable(pendingSeq: number): Result<PendingState, ResolveRefusal> {
    const p = this.pending.get(pendingSeq);
    if (p === undefined) return err({ kind: 'not-pending', pendingSeq, detail: `entry ${pendingSeq} is not a pending ballot` });
    return ok(p);
  }

  private castInTx(pendingSeq: number, p: PendingState): Appended {
    const appended = this.appendRaw(EntryKind.cast, encodeCast(pendingSeq));
    // the leaf hash waits for closeBatch: nothing on a ballot's durable path needs it
    const item = { castSeq: appended.seq, record: p.recordBytes };
    this.change(
      () => {
        this.pending.delete(pendingSeq);
        this.ballots.set(p.key, { state: 'cast', pendingSeq, castSeq: appended.seq });
        this.openBatch.push(item);
      },
      () => {
        this.pending.set(pendingSeq, p);
        this.ballots.set(p.key, { state: 'pending', pendingSeq });
        this.openBatch.pop();
      },
    );
    return appended;
  }

  private returnInTx(pendingSeq: number, p: PendingState, reason: string): Appended {
    const appended = this.appendRaw(EntryKind.returned, encodeReturned(pendingSeq, reason));
    this.change(
      () => {
        this.pending.delete(pendingSeq);
        this.ballots.delete(p.key);
      },
      () => {
        this.pending.set(pendingSeq, p);
        this.ballots.set(p.key, { state: 'pending', pendingSeq });
      },
    );
    return appended;
  }

  /** The scanner confirmed the drop: the ballot now counts. */
  confirmCast(pendingSeq: number): Result<Appended, ResolveRefusal> {
    this.assertOpen();
    return this.singleWrite(() => {
      const r = this.resolvable(pendingSeq);
      if (!r.ok) return r;
      return ok(this.castInTx(pendingSeq, r.value));
    });
  }

  /** The ballot went back to the voter (overvote, voter's choice, jam): it does not count and may be fed again. */
  markReturned(pendingSeq: number, reason: string): Result<Appended, ResolveRefusal> {
    this.assertOpen();
    if (!RETURN_REASON.test(reason)) throw new LedgerError('state', this.file, `return reason must be a short machine code like "overvote:mayor", got "${reason}"`);
    return this.singleWrite(() => {
      const r = this.resolvable(pendingSeq);
      if (!r.ok) return r;
      return ok(this.returnInTx(pendingSeq, r.value, reason));
    });
  }

  /**
   * Settles every pending ballot with what the scanner reports, in one transaction, and logs the decision.
   * A ballot counts only if the scanner confirms the drop (invariant 1); any other report returns it.
   */
  reconcile(reports: ReadonlyMap<number, ScannerReport>, at: Date = new Date()): Result<ReconcileOutcome[], ReconcileRefusal> {
    this.assertOpen();
    const pending = [...this.pending.keys()].sort((a, b) => a - b);
    const missing = pending.filter((s) => !reports.has(s));
    if (missing.length > 0) return err({ kind: 'missing-report', pendingSeqs: missing });
    const unknown = [...reports.keys()].filter((s) => !pending.includes(s));
    if (unknown.length > 0) return err({ kind: 'unknown-ballot', pendingSeqs: unknown });
    const result = this.transaction(() => {
      const outcomes: ReconcileOutcome[] = [];
      const counts = { cast: 0, returned: 0, unknown: 0 };
      for (const seq of pending) {
        const r = this.resolvable(seq);
        if (!r.ok) throw new LedgerError('state', this.file, r.error.detail);
        const report = reports.get(seq) as ScannerReport;
        const id = decodeRecord(r.value.recordBytes).ballotId;
        switch (report) {
          case 'dropped': {
            const a = this.castInTx(seq, r.value);
            counts.cast += 1;
            outcomes.push({ pendingSeq: seq, ballotId: id, decision: 'cast', seq: a.seq, instruction: `Ballot ${id} is in the box and is now counted. Nothing to do.` });
            break;
          }
          case 'returned': {
            const a = this.returnInTx(seq, r.value, 'reconciled:returned');
            counts.returned += 1;
            outcomes.push({ pendingSeq: seq, ballotId: id, decision: 'returned', seq: a.seq, instruction: `Ballot ${id} was not counted. Take it from the scanner's return tray and have the voter feed it again.` });
            break;
          }
          case 'unknown': {
            const a = this.returnInTx(seq, r.value, 'reconciled:unknown');
            counts.unknown += 1;
            outcomes.push({
              pendingSeq: seq,
              ballotId: id,
              decision: 'returned',
              seq: a.seq,
              instruction: `Ballot ${id} was not counted and the scanner cannot say where it is. Clear the paper path: if the ballot is there, feed it again; if it is not, call the captain to note ballot ${id} on the results tape as possibly in the box uncounted.`,
            });
            break;
          }
          default:
            assertNever(report, 'scanner report');
        }
      }
      this.appendRaw(EntryKind.event, encodeEvent(AuditEventSchema.parse({ type: 'pending-reconciled', role: 'system', at: isoSeconds(at), detail: counts })));
      return outcomes;
    });
    this.unreconciled.clear();
    return ok(result);
  }

  /** Logs an audit event (polls, logins, faults...). */
  recordEvent(input: Omit<AuditEventInput, 'at'> & { at?: string }): Appended {
    this.assertOpen();
    const ev = AuditEventSchema.parse({ ...input, at: input.at ?? isoSeconds(new Date()) });
    return this.singleWrite(() => this.appendRaw(EntryKind.event, encodeEvent(ev)));
  }

  /**
   * Closes the open batch: its cast records, ordered by leaf hash, join the public tree, and the station
   * signs a checkpoint of the tree and the ledger head. Refused while any ballot is pending.
   */
  closeBatch(signer: CheckpointSigner): Result<ClosedBatch, { kind: 'pending'; pendingSeqs: readonly number[] }> {
    this.assertOpen();
    if (!bytesEqual(signer.publicKey, Buffer.from(this.genesis.station.publicKey, 'hex'))) {
      throw new LedgerError('key-file', this.file, 'the signing key is not the station key named in this ledger');
    }
    if (this.pending.size > 0) return err({ kind: 'pending', pendingSeqs: [...this.pending.keys()].sort((a, b) => a - b) });
    const closed = this.transaction(() => {
      const rows = this.openBatch;
      const batchLeaves = rows.map((r) => leafHash(r.record));
      const order = orderByHash(batchLeaves);
      const start = this.st.leafCount.get() as number;
      order.forEach((i, k) => {
        this.st.insertLeaf.run(start + k, this.batch, (rows[i] as { castSeq: number }).castSeq, batchLeaves[i] as Buffer);
      });
      const leaves = this.st.leafHashes.all() as Buffer[];
      const root = merkleRoot(leaves);
      const body = formatCheckpoint({
        mode: this.mode,
        election: this.genesis.election.hash,
        station: this.genesis.station.id,
        batch: this.batch,
        batchStart: start,
        treeSize: leaves.length,
        root,
        headSeq: this.head.seq,
        headHash: this.head.hash,
      });
      const signature = signCheckpoint(body, signer);
      const appended = this.appendRaw(EntryKind.checkpoint, encodeCheckpointEntry(body, signature));
      this.st.insertCheckpoint.run(this.batch, appended.seq, body, signature);
      const was = this.openBatch;
      this.change(
        () => {
          this.openBatch = [];
        },
        () => {
          this.openBatch = was;
        },
      );
      const batch = this.batch;
      this.batch += 1;
      return { batch, seq: appended.seq, body, signature, treeSize: leaves.length, root };
    });
    return ok(closed);
  }

  /**
   * Notes the current head outside the database (a printed tape or an anchor now carries it), so that a
   * ledger cut back to before it is caught by `verify` even though the cut file is self-consistent.
   */
  noteExternalHead(headsFile: string, what: string): Head {
    const h = this.head;
    appendLineDurably(headsFile, JSON.stringify({ seq: h.seq, hash: toHex(h.hash), what }));
    return h;
  }

  /** Checkpoints the WAL into the main file and closes; a clean close leaves no session marker. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    withStorage(this.file, () => this.db.pragma('wal_checkpoint(TRUNCATE)'));
    fs.rmSync(sessionMarker(this.file), { force: true });
    this.db.close();
  }
}
