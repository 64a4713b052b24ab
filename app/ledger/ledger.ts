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
  decodePending,
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
import { BallotCaptureSchema, decodeRecord, encodeRecord, recordFromCapture } from './record';
import { bytesToSerial, serialToBytes } from './serial';
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
  private readonly st: {
    insertEntry: Statement;
    entry: Statement;
    ballot: Statement;
    insertBallot: Statement;
    castBallot: Statement;
    dropBallot: Statement;
    pending: Statement;
    insertOpen: Statement;
    openRows: Statement;
    clearOpen: Statement;
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
    this.st = {
      insertEntry: prep('INSERT INTO entries (seq, kind, payload, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?)'),
      entry: prep('SELECT kind, payload FROM entries WHERE seq = ?'),
      ballot: prep('SELECT state, pending_seq, cast_seq FROM ballots WHERE ballot_id = ?'),
      insertBallot: prep("INSERT INTO ballots (ballot_id, state, pending_seq) VALUES (?, 'pending', ?)"),
      castBallot: prep("UPDATE ballots SET state = 'cast', cast_seq = ? WHERE ballot_id = ? AND state = 'pending'"),
      dropBallot: prep("DELETE FROM ballots WHERE ballot_id = ? AND state = 'pending'"),
      pending: prep("SELECT pending_seq FROM ballots WHERE state = 'pending' ORDER BY pending_seq"),
      insertOpen: prep('INSERT INTO open_batch (cast_seq, leaf_hash) VALUES (?, ?)'),
      openRows: prep('SELECT cast_seq, leaf_hash FROM open_batch ORDER BY cast_seq'),
      clearOpen: prep('DELETE FROM open_batch'),
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
    this.unreconciled = new Set(this.st.pending.pluck().all() as number[]);
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
    fs.writeFileSync(sessionMarker(file), `${process.pid}\n`);
    fsyncDir(path.dirname(file));
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
    return (this.st.pending.pluck().all() as number[]).map((s) => this.pendingBallot(s));
  }

  private pendingBallot(seq: number): PendingBallot {
    const row = this.st.entry.get(seq) as { kind: number; payload: Buffer } | undefined;
    if (row === undefined || row.kind !== EntryKind.pending) throw new LedgerError('state', this.file, `entry ${seq} is not a pending ballot`);
    const record = decodeRecord(decodePending(row.payload).record);
    return { pendingSeq: seq, ballotId: record.ballotId, record };
  }

  /**
   * Runs `fn` as one transaction: one commit (one fsync) for many appends. For bulk loads and benchmarks;
   * the station appends one ballot per transaction.
   */
  transaction<T>(fn: () => T): T {
    this.assertOpen();
    const saved = { head: this.head, batch: this.batch };
    try {
      return this.db.transaction(fn)();
    } catch (e) {
      this.head = saved.head;
      this.batch = saved.batch;
      throw storageError(e, this.file);
    }
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
    const parsed = BallotCaptureSchema.safeParse(input);
    if (!parsed.success) return err({ kind: 'invalid', detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const capture = parsed.data;
    if (capture.mode !== this.mode) return err({ kind: 'wrong-mode', ledgerMode: this.mode, ballotMode: capture.mode });
    const problem = this.checkAgainstElection(capture);
    if (problem !== undefined) return err({ kind: 'invalid', detail: problem });
    let record: BallotRecord;
    let recordBytes: Uint8Array;
    try {
      record = recordFromCapture(capture, this.genesis.station.number, this.batch);
      recordBytes = encodeRecord(record);
    } catch (e) {
      return err({ kind: 'invalid', detail: (e as Error).message });
    }
    const id = serialToBytes(record.ballotId);
    return this.transaction(() => {
      const existing = this.st.ballot.get(id) as { state: string; pending_seq: number; cast_seq: number | null } | undefined;
      if (existing !== undefined) {
        if (existing.state === 'cast') return err({ kind: 'duplicate', ballotId: record.ballotId, firstSeq: existing.cast_seq as number, firstPendingSeq: existing.pending_seq } as const);
        return err({ kind: 'already-pending', ballotId: record.ballotId, pendingSeq: existing.pending_seq } as const);
      }
      const appended = this.appendRaw(EntryKind.pending, encodePending({ record: recordBytes, imageSha256: capture.imageSha256, votingId: capture.votingId }));
      this.st.insertBallot.run(id, appended.seq);
      return ok({ ...appended, ballotId: record.ballotId });
    });
  }

  private checkAgainstElection(c: BallotCapture): string | undefined {
    const contests = this.genesis.election.contests;
    for (const sel of c.contests) {
      const def = contests[sel.contest];
      if (def === undefined) return `contest index ${sel.contest} is not in the election (it has ${contests.length})`;
      for (const o of sel.options) if (o >= def.options.length) return `option index ${o} is not in contest ${def.id} (it has ${def.options.length})`;
      if (new Set(sel.options).size !== sel.options.length) return `contest ${def.id} lists an option twice`;
      if (sel.overvote !== sel.options.length > def.seats) return `contest ${def.id}: overvote flag disagrees with ${sel.options.length} marks for ${def.seats} seat(s)`;
      if (sel.undervote !== sel.options.length < def.seats) return `contest ${def.id}: undervote flag disagrees with ${sel.options.length} marks for ${def.seats} seat(s)`;
    }
    return undefined;
  }

  private resolvable(pendingSeq: number): Result<{ record: BallotRecord; recordBytes: Uint8Array; id: Uint8Array }, ResolveRefusal> {
    const row = this.st.entry.get(pendingSeq) as { kind: number; payload: Buffer } | undefined;
    if (row === undefined || row.kind !== EntryKind.pending) return err({ kind: 'not-pending', pendingSeq, detail: `entry ${pendingSeq} is not a pending ballot` });
    const recordBytes = decodePending(row.payload).record;
    const record = decodeRecord(recordBytes);
    const id = serialToBytes(record.ballotId);
    const b = this.st.ballot.get(id) as { state: string; pending_seq: number } | undefined;
    if (b === undefined || b.state !== 'pending' || b.pending_seq !== pendingSeq) {
      return err({ kind: 'not-pending', pendingSeq, detail: `ballot ${record.ballotId} of entry ${pendingSeq} is no longer pending` });
    }
    return ok({ record, recordBytes, id });
  }

  private castInTx(pendingSeq: number, r: { recordBytes: Uint8Array; id: Uint8Array }): Appended {
    const appended = this.appendRaw(EntryKind.cast, encodeCast(pendingSeq));
    this.st.castBallot.run(appended.seq, r.id);
    this.st.insertOpen.run(appended.seq, leafHash(r.recordBytes));
    return appended;
  }

  private returnInTx(pendingSeq: number, id: Uint8Array, reason: string): Appended {
    const appended = this.appendRaw(EntryKind.returned, encodeReturned(pendingSeq, reason));
    this.st.dropBallot.run(id);
    return appended;
  }

  /** The scanner confirmed the drop: the ballot now counts. */
  confirmCast(pendingSeq: number): Result<Appended, ResolveRefusal> {
    this.assertOpen();
    return this.transaction(() => {
      const r = this.resolvable(pendingSeq);
      if (!r.ok) return r;
      return ok(this.castInTx(pendingSeq, r.value));
    });
  }

  /** The ballot went back to the voter (overvote, voter's choice, jam): it does not count and may be fed again. */
  markReturned(pendingSeq: number, reason: string): Result<Appended, ResolveRefusal> {
    this.assertOpen();
    if (!RETURN_REASON.test(reason)) throw new LedgerError('state', this.file, `return reason must be a short machine code like "overvote:mayor", got "${reason}"`);
    return this.transaction(() => {
      const r = this.resolvable(pendingSeq);
      if (!r.ok) return r;
      return ok(this.returnInTx(pendingSeq, r.value.id, reason));
    });
  }

  /**
   * Settles every pending ballot with what the scanner reports, in one transaction, and logs the decision.
   * A ballot counts only if the scanner confirms the drop (invariant 1); any other report returns it.
   */
  reconcile(reports: ReadonlyMap<number, ScannerReport>, at: Date = new Date()): Result<ReconcileOutcome[], ReconcileRefusal> {
    this.assertOpen();
    const pending = this.st.pending.pluck().all() as number[];
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
        const id = r.value.record.ballotId;
        switch (report) {
          case 'dropped': {
            const a = this.castInTx(seq, r.value);
            counts.cast += 1;
            outcomes.push({ pendingSeq: seq, ballotId: id, decision: 'cast', seq: a.seq, instruction: `Ballot ${id} is in the box and is now counted. Nothing to do.` });
            break;
          }
          case 'returned': {
            const a = this.returnInTx(seq, r.value.id, 'reconciled:returned');
            counts.returned += 1;
            outcomes.push({ pendingSeq: seq, ballotId: id, decision: 'returned', seq: a.seq, instruction: `Ballot ${id} was not counted. Take it from the scanner's return tray and have the voter feed it again.` });
            break;
          }
          case 'unknown': {
            const a = this.returnInTx(seq, r.value.id, 'reconciled:unknown');
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
    return this.transaction(() => this.appendRaw(EntryKind.event, encodeEvent(ev)));
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
    const pending = this.st.pending.pluck().all() as number[];
    if (pending.length > 0) return err({ kind: 'pending', pendingSeqs: pending });
    const closed = this.transaction(() => {
      const rows = this.st.openRows.all() as Array<{ cast_seq: number; leaf_hash: Buffer }>;
      const order = orderByHash(rows.map((r) => r.leaf_hash));
      const start = this.st.leafCount.get() as number;
      order.forEach((i, k) => {
        const row = rows[i] as { cast_seq: number; leaf_hash: Buffer };
        this.st.insertLeaf.run(start + k, this.batch, row.cast_seq, row.leaf_hash);
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
      this.st.clearOpen.run();
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

  /** Ballot ID serial of an 8-byte key (helper for callers holding raw rows). */
  static serialOf(id: Uint8Array): string {
    return bytesToSerial(id);
  }
}
