import fs from 'node:fs';
import path from 'node:path';
import type { Statement } from 'better-sqlite3';
import type { Result } from '../../lib/result';
import { assertNever, err, ok } from '../../lib/result';
import { bytesEqual, toHex } from '../../lib/bytes';
import type { CheckpointSigner } from './checkpoint';
import { formatCheckpoint, signCheckpoint } from './checkpoint';
import { fsyncDir } from '../../lib/durable-fs';
import type { HeadReason } from './signed-head';
import { POST_SEAL_EVENTS, formatSignedHead, parseSignedHead, signHeadStatement } from './signed-head';
import { appendSignedHeadLine, signedHeadsFile } from './signed-heads-file';
import type { Genesis } from './entries';
import {
  EntryKind,
  GenesisSchema,
  ZERO_HASH,
  decodeGenesis,
  decodeCast,
  pendingRecord,
  decodeReturned,
  encodeCast,
  encodeCheckpointEntry,
  encodeEvent,
  encodeGenesis,
  encodePending,
  encodeReturned,
  decodeCheckpointEntry,
  decodeEvent,
  entryHash,
  RETURN_REASON,
} from './entries';
import { LedgerError } from './errors';
import { appendHeadsFileLine } from './heads-file';
import type { AuditEventInput } from './events';
import { AuditEventSchema, isoSeconds } from './events';
import { leafHash, merkleRoot, orderByHash } from './merkle';
import type { BallotCapture, BallotRecord, LedgerMode } from './record';
import { BallotCaptureSchema, decodeRecord, encodeCaptureRecord, isWellFormedCapture, recordBallotIdKey } from './record';
import { SERIAL_PATTERN } from './serial';
import { serialProbe } from './replay-adjudication';
import type { Db, OpenDbOptions } from './storage';
import { openDb, sessionMarker, storageError, walFile, withStorage } from './storage';
import { scanAfterCrash } from './wal-scan';
import type { AdjudicationInput, AdjudicationRefusal, AdjudicationWritten } from './ledger-adjudication';
import { LedgerAdjudication } from './ledger-adjudication';
import { sheetDetailMismatch } from './sheet-detail';

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
  | { readonly kind: 'unreconciled'; readonly pendingSeqs: readonly number[] }
  /** the ledger's own polls events say the polls are paused or closed (sealedAt: the seal entry, once sealed) */
  | { readonly kind: 'polls-not-open'; readonly polls: 'paused' | 'closed'; readonly sealedAt?: number };

export type SealRefusal =
  | { readonly kind: 'polls-not-closed' }
  | { readonly kind: 'pending'; readonly pendingSeqs: readonly number[] }
  | { readonly kind: 'open-batch'; readonly castInOpenBatch: number }
  | { readonly kind: 'already-sealed'; readonly sealedAt: number };

/**
 * How the ledger signs its own heads: every `every` entries (and whenever the station asks: batch, pause,
 * start, seal) a signed-head entry goes into the ledger and the same statement to `dir`, a second location
 * (the export device or a directory set in station.json), as one line of
 * `<dir>/<station>.<mode>.signed-heads.jsonl`.
 */
export interface HeadSigning {
  readonly signer: CheckpointSigner;
  readonly every: number;
  readonly dir?: string;
  /**
   * A periodic signed head that could not be written (disk, a removed export device). It never fails the
   * ballot or event whose append triggered it: that is already committed.
   */
  readonly onError?: (e: Error) => void;
}

export const DEFAULT_SIGN_HEAD_EVERY = 100;

export interface SignedHeadWritten {
  readonly seq: number;
  readonly headSeq: number;
  readonly reason: HeadReason;
  readonly body: string;
  readonly signature: Uint8Array;
  /** the second-location file, if one is set */
  readonly file?: string;
  /**
   * why the second location could not be written (a removed device, a full disk): the signed head is in
   * the ledger all the same, and HeadSigning.onError heard of it too
   */
  readonly secondLocationError?: string;
}

type PollsWindow = 'none' | 'open' | 'paused' | 'closed';
const POST_SEAL: ReadonlySet<string> = new Set(POST_SEAL_EVENTS);

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
  /** run SQLite's full integrity_check at open (the station does at start-up; quick_check always runs) */
  readonly integrityCheck?: boolean;
}

/** What opening the ledger found wrong with its files: the station raises it as an alarm. */
export interface StartupFinding {
  readonly what: 'write-ahead-log' | 'integrity';
  readonly message: string;
  /** copies kept of the damaged files, as found, before SQLite opened them */
  readonly evidence: readonly string[];
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
  /** the polls as the ledger's own events tell them (replay.ts holds verify to the same rules) */
  private polls: PollsWindow = 'none';
  private sealSeq: number | undefined;
  private lastSignedSeq = 1;
  /** pending entries ever written (returned ones too): polls cannot open after a ballot was entered */
  private ballotEntries = 0;
  private signing: HeadSigning | undefined;
  private signingNow = false;
  private findings: readonly StartupFinding[] = [];
  /** after the seal: the open sign-in and the items decided (ledger-adjudication.ts) */
  private readonly adjudication: LedgerAdjudication;
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
    this.rebuildPollsAndHeads();
    this.unreconciled = new Set(this.pending.keys());
    this.adjudication = new LedgerAdjudication(db, genesis, this.sealSeq);
  }

  /** One pass over the ballot entries (the chain was written by this code; `verify` is the full check). */
  private rebuildIndexes(): void {
    const rows = this.db.prepare('SELECT seq, kind, payload FROM entries WHERE kind IN (?, ?, ?, ?) ORDER BY seq').raw(true);
    for (const row of rows.iterate(EntryKind.pending, EntryKind.cast, EntryKind.returned, EntryKind.checkpoint) as IterableIterator<[number, number, Buffer]>) {
      const [seq, kind, payload] = row;
      if (kind === EntryKind.pending) {
        const recordBytes = pendingRecord(payload);
        const key = recordBallotIdKey(recordBytes);
        this.ballotEntries += 1;
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

  /** The polls window, the seal and the last signed head, from the (few) event and signed-head entries. */
  private rebuildPollsAndHeads(): void {
    const rows = this.db.prepare('SELECT seq, kind, payload FROM entries WHERE kind IN (?, ?) ORDER BY seq').raw(true);
    for (const [seq, kind, payload] of rows.iterate(EntryKind.event, EntryKind.signedHead) as IterableIterator<[number, number, Buffer]>) {
      if (kind === EntryKind.signedHead) {
        this.lastSignedSeq = seq;
        if (parseSignedHead(decodeCheckpointEntry(payload).body).reason === 'seal') this.sealSeq = seq;
        continue;
      }
      // most events are not about the polls: look before parsing
      if (payload.indexOf('"polls-') < 0) continue;
      const type = decodeEvent(payload).type;
      if (type === 'polls-opened' || type === 'polls-resumed') this.polls = 'open';
      else if (type === 'polls-paused') this.polls = 'paused';
      else if (type === 'polls-closed') this.polls = 'closed';
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
    // before SQLite reads the log (and clears the index the killed writer left): see wal-scan.ts
    const findings = walFindings(file);
    const db = openDb(file, opts);
    try {
      const row = db.prepare('SELECT kind, payload FROM entries WHERE seq = 1').get() as { kind: number; payload: Buffer } | undefined;
      if (row === undefined || row.kind !== EntryKind.genesis) throw new LedgerError('wrong-ledger', file, 'entry 1 is not a genesis entry');
      if (opts.integrityCheck === true) {
        const rows = db.pragma('integrity_check(20)', { simple: false }) as Array<{ integrity_check: string }>;
        const said = rows.map((r) => r.integrity_check);
        if (said.length !== 1 || said[0] !== 'ok') findings.push({ what: 'integrity', message: `SQLite integrity_check: ${said.join('; ')}`, evidence: [] });
      }
      const ledger = Ledger.start(db, file, decodeGenesis(row.payload));
      ledger.findings = findings;
      return ledger;
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

  /** Ballots cast since the last batch checkpoint. */
  get castInOpenBatch(): number {
    return this.openBatch.length;
  }

  headNow(): Head {
    return this.head;
  }

  /** What open found wrong with the files (a damaged write-ahead log, integrity_check): empty when whole. */
  get startupFindings(): readonly StartupFinding[] {
    return this.findings;
  }

  /** The seal entry, once the polls closed and the ledger was sealed. */
  get sealedAt(): number | undefined {
    return this.sealSeq;
  }

  /** The polls as this ledger's own events tell them ('none' before any polls event). */
  get pollsWindow(): PollsWindow {
    return this.polls;
  }

  /** Turns on signed heads: every `every` entries from now on, and whenever signHead or seal is called. */
  useHeadSigning(signing: HeadSigning): void {
    if (!Number.isInteger(signing.every) || signing.every < 1) throw new LedgerError('state', this.file, `signed heads every ${signing.every} entries: give a whole number of at least 1`);
    this.checkSigner(signing.signer);
    this.signing = signing;
  }

  private checkSigner(signer: CheckpointSigner): void {
    if (!bytesEqual(signer.publicKey, Buffer.from(this.genesis.station.publicKey, 'hex'))) {
      throw new LedgerError('key-file', this.file, 'the signing key is not the station key named in this ledger');
    }
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
    const out = this.undoOnFailure(() => this.runInTx(fn) as T);
    if (!this.db.inTransaction) this.afterCommit();
    return out;
  }

  /**
   * Runs `fn`, which writes exactly one row, in SQLite's autocommit mode: a single INSERT is atomic and
   * durable by itself, so the explicit BEGIN/COMMIT pair would only add two statement round trips to
   * every ballot. Inside an outer transaction it simply joins it.
   */
  private singleWrite<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    const out = this.undoOnFailure(fn);
    this.afterCommit();
    return out;
  }

  /** A periodic signed head when `every` entries have passed since the last one; never throws. */
  private afterCommit(): void {
    const s = this.signing;
    if (s === undefined || this.signingNow || this.head.seq - this.lastSignedSeq < s.every) return;
    try {
      this.signHead('periodic');
    } catch (e) {
      s.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * Signs the current head with the station key into the ledger (a signed-head entry) and, if a second
   * location is set, appends the same statement there. The entry goes first: a crash between the two
   * leaves a statement only in the ledger, never one naming an entry the ledger does not have.
   */
  signHead(reason: HeadReason): SignedHeadWritten {
    this.assertOpen();
    const s = this.signing;
    if (s === undefined) throw new LedgerError('state', this.file, 'signed heads are not turned on for this ledger (useHeadSigning)');
    if (reason === 'seal') throw new LedgerError('state', this.file, 'the seal is written by seal(), which checks the polls are closed');
    return this.writeSignedHead(reason, s);
  }

  private writeSignedHead(reason: HeadReason, s: HeadSigning): SignedHeadWritten {
    // the second location must never name an entry a rolled-back transaction takes away
    if (this.db.inTransaction) throw new LedgerError('state', this.file, 'a signed head is written on its own, not inside a transaction');
    const body = formatSignedHead({ mode: this.mode, election: this.genesis.election.hash, station: this.genesis.station.id, headSeq: this.head.seq, headHash: this.head.hash, reason });
    const signature = signHeadStatement(body, s.signer);
    this.signingNow = true;
    let appended: Appended;
    try {
      appended = this.undoOnFailure(() => this.appendRaw(EntryKind.signedHead, encodeCheckpointEntry(body, signature)));
    } finally {
      this.signingNow = false;
    }
    this.lastSignedSeq = appended.seq;
    if (reason === 'seal') this.sealSeq = appended.seq;
    const out = { seq: appended.seq, headSeq: appended.seq - 1, reason, body, signature };
    if (s.dir === undefined) return out;
    const file = signedHeadsFile(s.dir, this.genesis.station.id, this.mode);
    try {
      withStorage(file, () => appendSignedHeadLine(s.dir as string, file, { entry: appended.seq, statement: body, signature: toHex(signature) }));
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      s.onError?.(error);
      return { ...out, file, secondLocationError: error.message };
    }
    return { ...out, file };
  }

  /**
   * Seals the ledger when the polls have closed: a signed head over every entry, written after the final
   * batch checkpoint. From then on the ledger takes no ballot, no checkpoint and only the events in
   * POST_SEAL_EVENTS; `verify` holds any ledger to the same rule.
   */
  seal(signer: CheckpointSigner): Result<SignedHeadWritten, SealRefusal> {
    this.assertOpen();
    this.checkSigner(signer);
    if (this.sealSeq !== undefined) return err({ kind: 'already-sealed', sealedAt: this.sealSeq });
    if (this.polls !== 'closed') return err({ kind: 'polls-not-closed' });
    if (this.pending.size > 0) return err({ kind: 'pending', pendingSeqs: [...this.pending.keys()].sort((a, b) => a - b) });
    if (this.openBatch.length > 0) return err({ kind: 'open-batch', castInOpenBatch: this.openBatch.length });
    return ok(this.writeSignedHead('seal', this.signing ?? { signer, every: Number.MAX_SAFE_INTEGER }));
  }

  /**
   * Records one decision on a cast ballot's marginal mark or write-in, after the seal: the statement names
   * this place in the chain, the ballot, the item, the decision and the signed-in adjudicator, and is signed
   * with the station key. Refused (nothing written) for anything `verify` would reject. With head signing on,
   * a signed head follows each decision, in the ledger and the second location.
   */
  adjudicate(input: AdjudicationInput, signer: CheckpointSigner): Result<AdjudicationWritten, AdjudicationRefusal> {
    this.assertOpen();
    this.checkSigner(signer);
    const sealedAt = this.sealSeq;
    if (sealedAt === undefined) return err({ kind: 'not-sealed', message: 'decisions on marginal marks and write-ins are recorded after the polls close and the ledger is sealed' });
    const castSeq = this.castSeqOf(input.ballotId);
    const prepared = this.adjudication.prepare(input, castSeq, this.head, signer);
    if (!prepared.ok) return prepared;
    const appended = this.singleWrite(() => this.appendRaw(EntryKind.adjudication, encodeCheckpointEntry(prepared.value.body, prepared.value.signature)));
    this.adjudication.decided(prepared.value.key, appended.seq);
    let head: SignedHeadWritten | undefined;
    if (this.signing !== undefined) {
      try {
        head = this.writeSignedHead('adjudication', this.signing);
      } catch (e) {
        this.signing.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
    }
    return ok({ ...appended, statement: prepared.value.statement, ...(head === undefined ? {} : { signedHead: head }) });
  }

  /** The cast entry of a ballot ID, or undefined (not cast here, or a malformed ID). */
  private castSeqOf(ballotId: string): number | undefined {
    if (!SERIAL_PATTERN.test(ballotId.toUpperCase())) return undefined;
    const state = this.ballots.get(recordBallotIdKey(serialProbe(ballotId.toUpperCase())));
    return state?.state === 'cast' ? state.castSeq : undefined;
  }

  /** The open sign-in after the seal (its role and `login` entry), which an adjudication names. */
  get adjudicationSession(): { readonly seq: number; readonly role: string } | undefined {
    return this.adjudication.session;
  }

  private assertNotSealed(what: string): void {
    if (this.sealSeq !== undefined) throw new LedgerError('sealed', this.file, `the polls are closed and the ledger was sealed at entry ${this.sealSeq}: it takes no ${what}`);
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
    if (this.polls === 'paused' || this.polls === 'closed') return err({ kind: 'polls-not-open', polls: this.polls, ...(this.sealSeq !== undefined ? { sealedAt: this.sealSeq } : {}) });
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
      const appended = this.appendRaw(EntryKind.pending, encodePending({ record: rb, imageSha256: capture.imageSha256, votingId: capture.votingId, detail: capture.detail }));
      this.change(
        () => {
          this.ballots.set(key, { state: 'pending', pendingSeq: appended.seq });
          this.pending.set(appended.seq, { key, recordBytes: rb });
          this.ballotEntries += 1;
        },
        () => {
          this.ballotEntries -= 1;
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
    return c.detail === undefined ? undefined : sheetDetailMismatch(c.detail, contests, c.contests);
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
    if (this.sealSeq !== undefined && !POST_SEAL.has(ev.type)) this.assertNotSealed(`"${ev.type}" event (after the seal: ${POST_SEAL_EVENTS.join(', ')})`);
    const window = ev.type === 'polls-opened' && this.ballotEntries > 0 ? { refused: `the polls cannot open: ${this.ballotEntries} ballot(s) were already entered` } : nextPollsWindow(this.polls, ev.type);
    if (typeof window !== 'string') throw new LedgerError('state', this.file, window.refused);
    const appended = this.singleWrite(() => {
      const a = this.appendRaw(EntryKind.event, encodeEvent(ev));
      if (this.sealSeq !== undefined) this.adjudication.event(ev, a.seq);
      const was = this.polls;
      this.change(
        () => {
          this.polls = window;
        },
        () => {
          this.polls = was;
        },
      );
      return a;
    });
    return appended;
  }

  /**
   * Closes the open batch: its cast records, ordered by leaf hash, join the public tree, and the station
   * signs a checkpoint of the tree and the ledger head. Refused while any ballot is pending.
   */
  closeBatch(signer: CheckpointSigner): Result<ClosedBatch, { kind: 'pending'; pendingSeqs: readonly number[] }> {
    this.assertOpen();
    this.checkSigner(signer);
    this.assertNotSealed('batch checkpoint');
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
    // a batch closed while the polls are open gets a signed head in the second location too; at close the seal does
    if (this.signing !== undefined && this.polls !== 'closed') {
      try {
        this.writeSignedHead('batch', this.signing);
      } catch (e) {
        this.signing.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
    }
    return ok(closed);
  }

  /** Every batch checkpoint the station signed, in batch order (what a station reports to a county log). */
  signedCheckpoints(): { batch: number; body: string; signature: Uint8Array }[] {
    this.assertOpen();
    const rows = this.db.prepare('SELECT batch, body, signature FROM checkpoints ORDER BY batch').all() as { batch: number; body: string; signature: Buffer }[];
    return rows.map((r) => ({ batch: r.batch, body: r.body, signature: new Uint8Array(r.signature) }));
  }

  /**
   * Notes the current head outside the database (a printed tape or an anchor now carries it), so that a
   * ledger cut back to before it is caught by `verify` even though the cut file is self-consistent.
   */
  noteExternalHead(headsFile: string, what: string): Head {
    const h = this.head;
    appendHeadsFileLine(headsFile, { seq: h.seq, hash: toHex(h.hash), what });
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

/**
 * The polls window after an event, or why the event is refused: the transitions replay.ts accepts, so the
 * ledger never writes a polls event that `verify` would reject.
 */
function nextPollsWindow(now: PollsWindow, type: string): PollsWindow | { refused: string } {
  switch (type) {
    case 'polls-opened':
      return now === 'none' ? 'open' : { refused: `the polls cannot open: they are already ${now}` };
    case 'polls-paused':
      return now === 'open' ? 'paused' : { refused: `the polls cannot pause: they are ${now === 'none' ? 'not open yet' : now}` };
    case 'polls-resumed':
      return now === 'paused' ? 'open' : { refused: `the polls cannot resume: they are ${now === 'none' ? 'not open yet' : now}` };
    case 'polls-closed':
      return now === 'closed' ? { refused: 'the polls are already closed' } : 'closed';
    default:
      return now;
  }
}

/**
 * After a crash, the write-ahead log as the killed writer left it: if it lost committed frames, a copy of
 * it and its index is kept beside the ledger (SQLite will read around the damage and, at the next write,
 * write over it) and the loss is reported.
 */
function walFindings(file: string): StartupFinding[] {
  const found = scanAfterCrash(file);
  if (found.kind !== 'scanned' || found.scan.problems.length === 0) return [];
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const evidence: string[] = [];
  withStorage(file, () => {
    for (const f of [walFile(file), `${file}-shm`]) {
      if (!fs.existsSync(f)) continue;
      const copy = `${f}.damaged-${stamp}`;
      fs.copyFileSync(f, copy, fs.constants.COPYFILE_EXCL);
      evidence.push(copy);
    }
    fsyncDir(path.dirname(file));
  });
  return [{ what: 'write-ahead-log', message: found.scan.problems.join('; '), evidence }];
}
