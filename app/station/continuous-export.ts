import { toHex } from '../../lib/bytes';
import type { CvrBallot, CvrContext } from '../county-export/cvr';
import { cvrBallotOf } from '../county-export/cvr';
import { electionModelOf } from '../county-export/election-model';
import { ballotFiles, expectedFileNames, exportReportHead, keptImageFiles } from '../county-export/export-ballot';
import type { DeviceProblem, ExportDevice } from '../county-export/export-device';
import { problemOf } from '../county-export/export-device';
import type { BallotFiles } from '../county-export/export-folder';
import { ExportFolder, ForeignExportError, NotEnoughSpaceError } from '../county-export/export-folder';
import type { CastBallot } from '../county-export/ledger-read';
import { readLedgerForCounty } from '../county-export/ledger-read';
import { EntryKind, decodePending } from '../ledger/entries';
import type { Ledger } from '../ledger/ledger';
import { leafHash } from '../ledger/merkle';
import { decodeRecord } from '../ledger/record';
import type { Db } from '../ledger/storage';
import { openDb } from '../ledger/storage';
import type { StationKey } from '../ledger/station-key';
import type { VerifyOptions } from '../ledger/verify';
import type { ScannerAlarm } from './api';
import type { ElectionPackage } from './election-package';
import type { LedgerMode } from './polls';

export type { ContinuousExportConfig } from './continuous-export-config';

/** The alarms the export raises: the first two stop the feeder ('stop'), the third does not ('warn'). */
export const EXPORT_STOP_ALARMS = ['export-missing', 'export-full'] as const satisfies readonly ScannerAlarm[];
export const EXPORT_WARN_ALARM = 'export-warning' satisfies ScannerAlarm;
export type ExportAlarm = (typeof EXPORT_STOP_ALARMS)[number] | typeof EXPORT_WARN_ALARM;

/** How often a device in trouble is looked at again. */
export const EXPORT_RETRY_MS = 2000;

export interface ContinuousExportDeps {
  readonly device: ExportDevice;
  readonly whenDeviceFails: 'stop' | 'warn';
  readonly key: StationKey;
  readonly pkg: ElectionPackage;
  /** the station's image store (`<data>/images`): each cast sheet's kept sides are copied, still encrypted */
  readonly imagesDir: string;
  /** the ledger of a mode, null when it is not open (the test ledger outside test mode) */
  ledger(mode: LedgerMode): Ledger | null;
  verifyOptions(mode: LedgerMode): VerifyOptions;
  setAlarm(alarm: ExportAlarm, active: boolean): void;
  /** runs `fn` in the station's work queue (no ledger write meanwhile) */
  enqueue(fn: () => Promise<unknown>): void;
  log(message: string): void;
}

interface ModeState {
  /** the ledger instance the folder's state was caught up with (a test ledger started again is another) */
  ledger: Ledger;
  folder: ExportFolder;
  context: CvrContext;
  /** a read-only connection to the ledger file: the cast ballot's CVR is made from what the ledger holds */
  db: Db;
}

/**
 * The station's continuous export. The ledger is the record of truth: a ballot is cast in the ledger first,
 * then its files are written to the device; a write that fails leaves the ballot counted, raises the alarm, and
 * the device is looked at every 2 s; once it is back the catch-up writes every cast ballot the device lacks,
 * from the verified ledger, and the alarm clears.
 */
export class ContinuousExport {
  private readonly modes = new Map<LedgerMode, ModeState>();
  private problem: DeviceProblem | null = null;
  private alarm: ExportAlarm | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** free bytes when the device was last found full: a retry is worth a ledger read only once this grows */
  private freeWhenFull: number | undefined;
  /**
   * failed catch-ups in a row with the device seemingly there (a stick that fails every write): each retry reads
   * the whole ledger, so they back off, 2 s doubling to a minute; a device seen gone and back is tried at once
   */
  private failuresInARow = 0;
  private nextTryAt = 0;
  private closed = false;

  constructor(private readonly d: ContinuousExportDeps) {}

  /** The device's problem now (null: every cast ballot is on it). */
  get deviceProblem(): DeviceProblem | null {
    return this.problem;
  }

  /** In 'stop' mode a standing problem stops the feeder. */
  get stopsFeeding(): boolean {
    return this.problem !== null && this.d.whenDeviceFails === 'stop';
  }

  /** After a ballot's cast entry is written: its files to the device (or the alarm). */
  castRecorded(mode: LedgerMode, ledger: Ledger, pendingSeq: number): void {
    if (this.problem !== null) return;
    const gone = this.d.device.check();
    if (gone !== null) {
      this.fail(gone);
      return;
    }
    const s = this.modes.get(mode);
    if (s === undefined || s.ledger !== ledger) {
      this.catchUp(mode);
      return;
    }
    try {
      const ballot = cvrBallotOf(this.castBallot(s, pendingSeq));
      // the ballot's CVR and scans are on the device before the voter is told; its index file and the signed
      // manifest follow right after, in the station's queue, one write for every ballot cast meanwhile
      s.folder.add([this.filesOf(s, ballot)], { deferIndex: true });
      this.queueFlush();
    } catch (e) {
      this.fail(e);
    }
  }

  private flushQueued = false;

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    this.d.enqueue(async () => {
      this.flushQueued = false;
      if (this.problem !== null) return;
      try {
        for (const s of this.modes.values()) s.folder.flush();
      } catch (e) {
        this.fail(e);
      }
    });
  }

  /**
   * Every open ledger's cast ballots onto the device (start-up, the device back), then the device looked at
   * every 2 s: a stick pulled out between two ballots raises the alarm before the next voter feeds one.
   */
  catchUpAll(): void {
    this.startWatch();
    for (const mode of ['official', 'test'] as const) {
      if (this.d.ledger(mode) === null) continue;
      if (!this.catchUp(mode)) return;
    }
  }

  private catchUp(mode: LedgerMode): boolean {
    const ledger = this.d.ledger(mode);
    if (ledger === null) return true;
    const problem = this.d.device.check();
    if (problem !== null) {
      this.fail(problem);
      return false;
    }
    try {
      const s = this.stateFor(mode, ledger);
      const read = readLedgerForCounty(ledger.file, this.d.verifyOptions(mode));
      const inLedger = new Set<string>();
      const missing = [];
      for (const b of read.ballots) {
        const leaf = b.leaf.toString('hex');
        inLedger.add(leaf);
        // its sheet detail decoded once, for the names and the files, and let go with the ballot
        const ballot = cvrBallotOf(b);
        // on the device already, under the names this scan's files have (a test ledger started over casts the same
        // records again, with new scans): nothing to write
        if (s.folder.fileNames(leaf)?.join('\n') === expectedFileNames(leaf, ballot.detail).join('\n')) continue;
        missing.push(this.filesOf(s, ballot));
      }
      const extra = s.folder.leaves().filter((l) => !inLedger.has(l));
      if (extra.length > 0 && mode === 'test') s.folder.remove(extra);
      else if (extra.length > 0) this.d.log(`the export device holds ${extra.length} official ballot(s) the ledger does not cast (left there: tallyproof export verify names them)`);
      for (const f of s.folder.findings) this.d.log(`continuous export: ${f}`);
      s.folder.findings.length = 0;
      if (missing.length > 0 || s.folder.needsRewrite) s.folder.add(missing);
      const swept = s.folder.sweepUnlisted();
      if (swept.length > 0) this.d.log(`continuous export: removed ${swept.length} file(s) no index lists (an interrupted write): ${swept.slice(0, 5).join(', ')}`);
      if (missing.length > 0) this.d.log(`continuous export: wrote ${missing.length} ${mode} ballot(s) the device lacked`);
      this.recovered();
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  private stateFor(mode: LedgerMode, ledger: Ledger): ModeState {
    const had = this.modes.get(mode);
    if (had !== undefined && had.ledger === ledger) return had;
    if (had !== undefined) had.db.close();
    this.modes.delete(mode);
    const g = ledger.genesis;
    const model = electionModelOf(this.d.pkg.election, g, ledger.file);
    const folder = ExportFolder.open(
      this.d.device,
      { stationId: g.station.id, stationNumber: g.station.number, publicKey: g.station.publicKey, election: g.election.hash, mode },
      this.d.key,
      exportReportHead(model, g),
    );
    const s: ModeState = { ledger, folder, context: { model, stationId: g.station.id, source: ledger.file }, db: openDb(ledger.file, { readonly: true }) };
    this.modes.set(mode, s);
    return s;
  }

  /** The cast ballot as the ledger holds it (its pending entry), as a verified read would give it. */
  private castBallot(s: ModeState, pendingSeq: number): CastBallot {
    const row = s.db.prepare('SELECT kind, payload FROM entries WHERE seq = ?').get(pendingSeq) as { kind: number; payload: Buffer } | undefined;
    if (row === undefined || row.kind !== EntryKind.pending) throw new Error(`${s.ledger.file}: entry ${pendingSeq} is not a pending ballot`);
    const p = decodePending(row.payload);
    const record = Uint8Array.from(p.record);
    return { record, leaf: leafHash(record), batch: decodeRecord(record).batch, imageSha256: Uint8Array.from(p.imageSha256), votingId: p.votingId, detail: p.detail };
  }

  private filesOf(s: ModeState, b: CvrBallot): BallotFiles {
    const leaf = toHex(b.leaf);
    const images = keptImageFiles(leaf, b.detail, this.d.imagesDir);
    if (images.missing.length > 0) this.d.log(`continuous export: ballot ${leaf}: the image store lacks kept image(s) ${images.missing.join(', ')}; its CVR is exported without them`);
    return ballotFiles(s.context, b, images.files);
  }

  private fail(e: unknown): void {
    const problem: DeviceProblem =
      e instanceof NotEnoughSpaceError
        ? { kind: 'full', message: e.message }
        : e instanceof ForeignExportError
        ? { kind: 'missing', message: `the export device ${this.d.device.root} holds an export this station must not write into: ${e.message}` }
        : isProblem(e)
          ? e
          : (e as NodeJS.ErrnoException).code !== undefined
            ? problemOf(this.d.device.root, e)
            : { kind: 'missing', message: `the continuous export failed: ${(e as Error).message}` };
    if (this.problem?.message !== problem.message) this.d.log(`${problem.message}; the ballots stay counted in the ledger and are written when the device is back`);
    this.problem = problem;
    this.freeWhenFull = problem.kind === 'full' ? this.d.device.freeBytes() : undefined;
    this.failuresInARow += 1;
    this.nextTryAt = Date.now() + Math.min(60_000, EXPORT_RETRY_MS * 2 ** (this.failuresInARow - 1));
    // what the device holds is read again when it is back: another stick may come in its place
    for (const s of this.modes.values()) s.db.close();
    this.modes.clear();
    this.setAlarm(this.d.whenDeviceFails === 'warn' ? EXPORT_WARN_ALARM : problem.kind === 'full' ? 'export-full' : 'export-missing');
    this.startWatch();
  }

  private recovered(): void {
    this.problem = null;
    this.freeWhenFull = undefined;
    this.failuresInARow = 0;
    this.setAlarm(null);
  }

  private setAlarm(alarm: ExportAlarm | null): void {
    if (this.alarm === alarm) return;
    if (this.alarm !== null) this.d.setAlarm(this.alarm, false);
    this.alarm = alarm;
    if (alarm !== null) this.d.setAlarm(alarm, true);
  }

  /** One timer, every 2 s: while the device is fine, is it still there; while it is not, is it back. */
  private startWatch(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => {
      this.d.enqueue(async () => {
        if (this.closed) return;
        const gone = this.d.device.check();
        if (this.problem === null) {
          if (gone !== null) this.fail(gone);
          return;
        }
        if (gone !== null) {
          // gone now: when it is back it is another chance (maybe another stick), tried at once
          this.nextTryAt = 0;
          return;
        }
        if (Date.now() < this.nextTryAt) return;
        if (this.problem.kind === 'full') {
          const free = this.d.device.freeBytes();
          if (free !== undefined && this.freeWhenFull !== undefined && free <= this.freeWhenFull) return;
        }
        const before = this.problem;
        this.problem = null;
        this.catchUpAll();
        if (this.problem === null) this.d.log(`the export device is back (${before.message} before): every cast ballot is on it`);
      });
    }, EXPORT_RETRY_MS);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const s of this.modes.values()) s.db.close();
    this.modes.clear();
  }
}

function isProblem(e: unknown): e is DeviceProblem {
  return typeof e === 'object' && e !== null && !(e instanceof Error) && 'kind' in e && 'message' in e;
}
