import fs from 'node:fs';
import path from 'node:path';
import { assertNever } from '../../lib/result';
import type { ScannedImage, ScannerDriver } from '../../firmware-bridge/driver';
import type { AuditEventType } from '../ledger/events';
import { isoSeconds } from '../ledger/events';
import type { DataLayout } from '../ledger/layout';
import { dataLayout } from '../ledger/layout';
import { DEFAULT_SIGN_HEAD_EVERY, Ledger } from '../ledger/ledger';
import type { StationKey } from '../ledger/station-key';
import type { CountyReportSettings } from '../county/report/report-settings';
import { startCountyReporter, type CountyReporter } from './station-county';
import { loadOrCreateStationKey } from '../ledger/station-key';
import { IMAGE_KEY_INFO, ImageStore } from '../ledger/image-store';
import type { ImageRetention } from './sheet-images';
import { DEFAULT_IMAGE_RETENTION, SheetImages } from './sheet-images';
import type { VerifyOptions } from '../ledger/verify';
import type {
  AdjudicateArgs,
  AdjudicationList,
  AdjudicationListArgs,
  ApiResult,
  BallotLookup,
  CommandArgs,
  CommandOutcome,
  LoginArgs,
  LookupArgs,
  PollsState,
  Role,
  SheetFeedback,
  StationApi,
  StationCommand,
  StationEvent,
  StationStatus,
  VoterDecisionArgs,
} from './api';
import { AdjudicateInput, AdjudicationListInput, CommandInput, LoginInput, LookupInput, ROLES, VoterDecisionInput } from './api';
import type { ElectionPackage } from './election-package';
import { installPackage, loadPackage } from './election-package';
import { PinBook, lockedUntil } from './pins';
import type { LedgerMode } from './polls';
import { decide, modeOf, takesBallots } from './polls';
import { refusalEvent } from './refusal-log';
import type { StationState } from './state-file';
import { initialState, readState, stationDir, writeState } from './state-file';
import { SheetJournal } from './sheet-journal';
import { SheetReader } from './sheet-reading';
import { SheetRunner } from './sheet-runner';
import { eventTime } from './event-time';
import { makeDataDirPrivate } from './private-files';
import { loadChainsConfig } from '../chain/chains-config';
import type { Paper } from '../reports/tapes';
import type { PrinterConfig } from '../print/config';
import { openPrinter } from '../print/printers';
import { TapeDesk } from './tape-desk';
import { StationPolls } from './station-polls';
import { runTapeCommand } from './station-tapes';
import { StationLedgers, checkGenesis, ledgerGenesis } from './station-ledgers';
import { HARDWARE_ALARMS, POLL_WORKER_ALARMS, ScannerLink } from './station-scanner';
import { titlesByLanguage } from './election-titles';
import { lookupBallot } from './station-lookup';
import { StaffSessions } from './station-sessions';
import type { AdjudicationDeps } from './station-adjudication';
import { adjudicate, adjudicationList } from './station-adjudication';
import { keptFromStore } from './adjudication-clips';
import { publishOfficial } from './station-publishing';
import { RestartReconcile } from './station-restart';
import type { LedgerCommandDeps } from './station-ledger-commands';
import { exportLedger, verifyLedgers } from './station-ledger-commands';
import { StationStartError } from './start-error';
import type { ContinuousExportConfig } from './continuous-export-config';
import { ContinuousExport } from './continuous-export';
import type { ExportDevice } from '../county-export/export-device';
import { DirectoryDevice } from '../county-export/export-device';

/**
 * What the station's launchers (the CLI, the Electron app) run with: one thread reading sheets beside the
 * station's own, so the serial link, the ledger and the screens are not held up while a page is read
 * (10,000 ballots on a shared 2-core machine: 1,145 ballots/min, against 1,080 reading in the station's thread).
 */
export const DEFAULT_READER_WORKERS = 1;

/** A staff sign-in nobody uses for this long ends by itself (station.json `staffIdleSignOutSeconds`). */
export const DEFAULT_STAFF_IDLE_SIGN_OUT_SECONDS = 120;

export interface StationOptions {
  /** everything the station keeps lives under here (see app/ledger/layout.ts dataLayout) */
  dataDir: string;
  /** election definition JSON file */
  election: string;
  /** the election's public keys file (election-public.json, see `tallyproof election keys`) */
  electionKeys: string;
  /** precinct id this station serves */
  precinct: string;
  /** calibration profile JSON (calibration/profile.ts); default profile otherwise */
  calibration?: string;
  /** from firmware-bridge/driver.ts, already constructed (simulated serial, SANE or folder) */
  scanner: ScannerDriver;
  /** unlocks the station key (app/ledger/station-key.ts) */
  stationPassphrase: string;
  pins: { 'poll-worker': string; captain: string; auditor: string };
  /** injected clock */
  now?: () => Date;
  /** ballots/read/pool.ts ReaderPool size; 0 (the default here, and in tests) = read in the station's thread */
  readerWorkers?: number;
  /** return undervoted ballots to the voter for review (station setting; off by default) */
  returnUndervotes?: boolean;
  /** station id for a new station key (default `station-<precinct>`); an existing key keeps its own */
  stationId?: string;
  /** the number the election office gave this station; ballot records carry it (default 1) */
  stationNumber?: number;
  /** paper for tapes (default the printer's: the 80 mm roll, letter for a CUPS queue) */
  paper?: Paper;
  /** where tapes are printed (station.json `printer`, app/print/config.ts); default: PDF files only */
  printer?: PrinterConfig;
  /** chains.json (app/chain) for the captain's 'publish'; without it publishing is refused with the CLI to use */
  chains?: string;
  /** publish by signing only: the signed transactions are written for broadcast from another machine */
  publishOffline?: boolean;
  /**
   * consecutive sheets rejected for scanner streaks before the station raises the streaks alarm and stops
   * taking sheets until a poll worker cleans the glass and clears it (default 1: a streak is the scanner's, so
   * the next sheet would show it too; a higher count rides out a voter's ruled line read as a streak)
   */
  streakAlarmAfter?: number;
  /** how long a restart waits for the scanner to report a pending sheet's fate (default 10 s) */
  reconcileWaitMs?: number;
  /**
   * a staff sign-in with no sign-in, command or ballot lookup for this long ends by itself (default 120 s):
   * a poll worker who walks away leaves no signed-in screen behind
   */
  staffIdleSignOutSeconds?: number;
  /**
   * the second location of the ledgers' signed heads (station.json `signedHeadsDir`): the export device or
   * a directory on another disk; without it a ledger cut short after its last printed head is not caught
   */
  signedHeadsDir?: string;
  /** a signed head every this many ledger entries (default 100), besides those at pause, batch and close */
  signHeadsEvery?: number;
  /** station.json `continuousExport`: every cast ballot's CVR to the export device (continuous-export.ts); off without it */
  continuousExport?: ContinuousExportConfig;
  /** the export device itself (tests: a layer that fails as a full stick does); default the configured directory */
  exportDevice?: ExportDevice;
  /** which scans are kept, encrypted, in <data>/images (station.json `imageRetention`, sheet-images.ts; default all) */
  imageRetention?: ImageRetention;
  /** the county log the station reports its signed checkpoints to (station.json `county`); without it, none */
  county?: CountyReportSettings;
  log?: (message: string) => void;
}

export interface Station extends StationApi {
  close(): Promise<void>;
}

export { StationStartError };

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
const refused = <T>(code: string, message: string): ApiResult<T> => ({ ok: false, error: { code, message } });

function parseArgs<T>(schema: { safeParse(x: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } } }, input: unknown): ApiResult<T> {
  const p = schema.safeParse(input);
  if (p.success) return ok(p.data);
  return refused('bad-input', p.error.issues.map((i) => `${i.path.map(String).join('.') || 'input'}: ${i.message}`).join('; '));
}

class StationService implements Station {
  private readonly listeners = new Set<(e: StationEvent) => void>();
  private readonly now: () => Date;
  private readonly log: (m: string) => void;
  private readonly layout: DataLayout;
  private readonly stateFile: string;
  private readonly journal: SheetJournal;
  private readonly unsubscribe: () => void;
  private readonly reading: SheetReader;
  /** the station's one record of each sheet (sheet-state.ts) */
  private readonly sheets: SheetRunner;
  private readonly sessions: StaffSessions;
  private feedback: SheetFeedback | null = null;
  private attention: string | null = null;
  private reconciling = false;
  /** the official and test ledgers, head signing, the cast counts */
  private readonly ledgers: StationLedgers;
  private work: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** sheet-done reports seen while reconciling after a restart */
  private readonly restart: RestartReconcile;
  private readonly desk: TapeDesk;
  private readonly polls: StationPolls;
  private readonly link: ScannerLink;
  private readonly exporter: ContinuousExport | null;
  private images: ImageStore | undefined;
  private readonly county: CountyReporter | undefined;

  constructor(
    private readonly opts: StationOptions,
    private readonly pkg: ElectionPackage,
    private readonly key: StationKey,
    private readonly official: Ledger,
    private state: StationState,
    private readonly pins: PinBook,
  ) {
    this.now = opts.now ?? (() => new Date());
    this.log = opts.log ?? (() => undefined);
    this.layout = dataLayout(opts.dataDir);
    this.stateFile = path.join(stationDir(opts.dataDir), 'state.json');
    this.journal = new SheetJournal(path.join(stationDir(opts.dataDir), 'sheets.jsonl'));
    this.ledgers = new StationLedgers(
      {
        layout: this.layout,
        pkg,
        key,
        stationNumber: opts.stationNumber ?? 1,
        signHeadsEvery: opts.signHeadsEvery ?? DEFAULT_SIGN_HEAD_EVERY,
        signedHeadsDir: opts.signedHeadsDir,
        state: () => this.state,
        setState: (patch) => {
          this.state = { ...this.state, ...patch };
        },
        saveState: () => this.saveState(),
        event: (type, role, detail) => this.event(type, role, detail),
        log: (m) => this.log(m),
      },
      official,
    );
    this.reading = new SheetReader(pkg, { readerWorkers: opts.readerWorkers ?? 0, returnUndervotes: opts.returnUndervotes ?? false, streakAlarmAfter: opts.streakAlarmAfter ?? 1 });
    this.sheets = new SheetRunner({
      scanner: opts.scanner,
      journal: this.journal,
      calibrationVersion: pkg.calibrationVersion,
      ledgerFor: (mode) => this.ledgerFor(mode),
      read: (mode, images) => this.reading.read(mode, images),
      images: new SheetImages(() => this.imageStore(), opts.imageRetention ?? DEFAULT_IMAGE_RETENTION, (m) => this.log(m)),
      forgetSettledSheets: () => this.forgetSettledSheets(),
      audit: (type, detail) => this.event(type, 'system', detail),
      count: (counter) => {
        this.state = { ...this.state, counts: { ...this.state.counts, [counter]: this.state.counts[counter] + 1 } };
        this.saveState();
      },
      countCast: (mode, castAsIs) => this.ledgers.countCast(mode, castAsIs),
      castRecorded: (mode, pendingSeq) => this.exporter?.castRecorded(mode, this.ledgerFor(mode), pendingSeq),
      shown: () => this.feedback,
      show: (feedback, cue) => this.show(feedback, cue),
      attention: (text) => {
        this.attention = text;
      },
      raiseAlarm: (alarm) => this.link.setAlarm(alarm, true),
      updateFeeding: () => this.link.updateFeeding(),
      log: (m) => this.log(m),
    });
    this.restart = new RestartReconcile({
      scanner: opts.scanner,
      journal: this.journal,
      waitMs: opts.reconcileWaitMs ?? 10_000,
      now: this.now,
      polls: () => this.state.polls,
      sheetSettled: (sheetId) => this.sheets.reconciled(sheetId),
      countCast: (mode, castAsIs) => this.ledgers.countCast(mode, castAsIs),
      log: (m) => this.log(m),
    });
    this.sessions = new StaffSessions({
      pins,
      now: this.now,
      idleSignOutSeconds: opts.staffIdleSignOutSeconds ?? DEFAULT_STAFF_IDLE_SIGN_OUT_SECONDS,
      lockout: (role) => this.state.lockout[role],
      setLockout: (role, lockout) => {
        this.state = { ...this.state, lockout: { ...this.state.lockout, [role]: lockout } };
        this.saveState();
      },
      event: (type, role, detail) => this.event(type, role, detail),
      emitStatus: () => this.emitStatus(),
      enqueue: (fn) => void this.enqueue(fn),
    });
    this.link = new ScannerLink({
      scanner: opts.scanner,
      sheets: this.sheets,
      restart: this.restart,
      polls: () => this.state.polls,
      attention: () => this.attention,
      reconciling: () => this.reconciling,
      closed: () => this.closed,
      feedback: () => this.feedback,
      clearFeedback: () => {
        this.feedback = null;
      },
      sheetScanned: (sheetId, front, back) => this.onSheetScanned(sheetId, front, back),
      event: (type, role, detail) => this.event(type, role, detail),
      emit: (e) => this.emit(e),
      emitStatus: () => this.emitStatus(),
      enqueue: (fn) => void this.enqueue(fn),
      log: (m) => this.log(m),
    });
    this.unsubscribe = opts.scanner.on((e) => this.link.onScannerEvent(e));
    const ce = opts.continuousExport;
    this.exporter =
      ce === undefined
        ? null
        : new ContinuousExport({
            device: opts.exportDevice ?? new DirectoryDevice(ce.dir, { mustBeMountPoint: ce.mustBeMountPoint ?? true }),
            whenDeviceFails: ce.whenDeviceFails,
            key,
            pkg,
            imagesDir: this.layout.images,
            ledger: (mode) => (mode === 'official' ? this.official : this.ledgers.test),
            verifyOptions: (mode) => this.verifyOptions(mode),
            setAlarm: (alarm, active) => this.link.setAlarm(alarm, active),
            enqueue: (fn) => void this.enqueue(fn),
            log: (m) => this.log(m),
          });
    const printer = openPrinter(opts.printer ?? { kind: 'none', paper: 'roll80' });
    this.desk = new TapeDesk({
      layout: this.layout,
      pkg,
      stationId: key.stationId,
      printer,
      paper: opts.paper ?? printer.paper,
      network: () => {
        if (opts.chains === undefined) return null;
        try {
          const c = loadChainsConfig(opts.chains);
          return { records: c.records.network, anchor: c.anchor.network };
        } catch (e) {
          // the tape says "none set" rather than not printing: publishing reports the bad file itself
          this.log(`the results tape names no network: ${(e as Error).message}`);
          return null;
        }
      },
      verifyOptions: (mode) => this.verifyOptions(mode),
      official,
      now: this.now,
    });
    this.polls = new StationPolls({
      official,
      key,
      layout: this.layout,
      desk: this.desk,
      sheets: this.sheets,
      polls: () => this.state.polls,
      updateState: (patch) => {
        this.state = { ...this.state, ...patch };
        this.saveState();
      },
      officialCast: () => this.ledgers.cast.official,
      event: (type, role, detail) => this.event(type, role, detail),
      resetTestLedger: () => this.ledgers.resetTestLedger(),
      testLedgerOpen: () => this.ledgers.test !== null,
      closeTestLedger: async () => {
        this.ledgers.closeTest();
        await this.reading.closeReader('test');
      },
      updateFeeding: () => this.link.updateFeeding(),
      emitStatus: () => this.emitStatus(),
    });
    this.county = startCountyReporter(opts, () => official.signedCheckpoints(), () => this.emitStatus());
  }

  // ---- start ---------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    this.ledgers.open(this.state.polls === 'testing');
    this.event('software-started', 'system', { polls: this.state.polls });
    const ledgerAlarm = this.ledgers.ledgerAlarm();
    this.ledgers.signStartHead();
    const unreconciled = this.official.unreconciledBallots().length + (this.ledgers.test?.unreconciledBallots().length ?? 0);
    if (unreconciled > 0) {
      this.reconciling = true;
      this.attention = `The station stopped with ${unreconciled} ballot(s) in the scanner. Do not feed ballots: the station is asking the scanner what became of them.`;
    } else if (ledgerAlarm !== null) this.attention = ledgerAlarm;
    await this.link.connect();
    if (unreconciled > 0) await this.reconcileAfterRestart();
    else this.forgetSettledSheets();
    if (ledgerAlarm !== null && unreconciled > 0) this.attention = `${ledgerAlarm} ${this.attention ?? ''}`.trim();
    if (ledgerAlarm !== null) this.emit({ type: 'cue', cue: 'alarm' });
    this.ledgers.finishInterruptedClose();
    // after the restart's reconcile: the ballots it cast are written too
    this.exporter?.catchUpAll();
    await this.link.updateFeeding();
    this.county?.kick();
    this.emitStatus();
  }

  private get mode(): LedgerMode {
    return modeOf(this.state.polls);
  }

  /** Opened on the first scan it keeps: a station keeping no images makes no images directory. */
  private imageStore(): ImageStore {
    this.images ??= ImageStore.open(this.layout.images, this.key.deriveKey(IMAGE_KEY_INFO));
    return this.images;
  }

  private ledgerFor(mode: LedgerMode): Ledger {
    return this.ledgers.ledgerFor(mode);
  }

  private verifyOptions(mode: LedgerMode): VerifyOptions {
    return this.ledgers.verifyOptions(mode);
  }

  // ---- scanner -------------------------------------------------------------------------------------------

  /** Driver events and API calls that touch the ledger run one at a time, in arrival order. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.work.then(fn, fn);
    this.work = next.catch((e: unknown) => this.log(`station task failed: ${(e as Error).stack ?? String(e)}`));
    return next;
  }

  // ---- one sheet (sheet-state.ts moves it, sheet-runner.ts carries out what it says) ---------------------

  private async onSheetScanned(sheetId: string, front: ScannedImage, back: ScannedImage | undefined): Promise<void> {
    const images = back === undefined ? [front.bytes] : [front.bytes, back.bytes];
    // a refusal here is a re-report of a sheet the station read already (after a reconnect): not read again
    await this.sheets.run(sheetId, { type: 'scanned', mode: this.mode, images, refusal: this.whyNotTaking() });
  }

  /** Why the station takes no sheet now, in the poll worker's words; null when it takes one. */
  private whyNotTaking(): string | null {
    if (this.reconciling || this.attention !== null) return this.attention ?? '';
    if (this.link.alarms.has('box-full')) return 'The ballot box is full: empty it.';
    if (this.exporter?.stopsFeeding === true) return `${this.exporter.deviceProblem?.message ?? 'the export device'}: put the export device back (or an empty one).`;
    if (this.link.pollWorkerAlarm()) return `The ${[...this.link.alarms].filter((a) => POLL_WORKER_ALARMS.includes(a)).join(' and ')} alarm stands: deal with it, then clear it.`;
    if (!takesBallots(this.state.polls)) return `The polls are ${this.state.polls}.`;
    return null;
  }

  private show(feedback: SheetFeedback, cue?: 'counted' | 'returned' | 'rejected' | 'alarm'): void {
    this.feedback = feedback;
    this.emit({ type: 'sheet', feedback });
    if (cue !== undefined) this.emit({ type: 'cue', cue });
    this.emitStatus();
  }

  // ---- restart -------------------------------------------------------------------------------------------

  /** After a crash or power cut: the pending ballots are settled by the scanner's word (station-restart.ts). */
  private async reconcileAfterRestart(): Promise<void> {
    const instructions = await this.restart.run(this.ledgers.test === null ? [this.official] : [this.official, this.ledgers.test]);
    this.reconciling = false;
    this.forgetSettledSheets();
    this.attention = `${instructions.join(' ')} Then clear this message (poll worker: clear alarm).`;
  }

  // ---- API -----------------------------------------------------------------------------------------------

  status(): StationStatus {
    const def = this.pkg.election.definition;
    const now = this.now();
    const lockedOut: Partial<Record<Role, string>> = {};
    for (const role of ROLES) {
      const until = lockedUntil(this.state.lockout[role], now);
      if (until !== null) lockedOut[role] = until.toISOString();
    }
    return {
      polls: this.state.polls,
      mode: this.mode,
      role: this.role,
      stationId: this.key.stationId,
      election: {
        title: def.election.title,
        hash: this.pkg.election.hash,
        precinct: this.pkg.precinct,
        precinctName: def.precincts.find((p) => p.id === this.pkg.precinct)?.name ?? this.pkg.precinct,
        contestTitles: Object.fromEntries(def.contests.map((c) => [c.id, c.title])),
        translations: titlesByLanguage(def, this.pkg.precinct),
      },
      counts: {
        public: this.ledgers.cast[this.mode],
        lifetime: this.state.testCountedCleared + this.ledgers.cast.official + this.ledgers.cast.test,
        returned: this.state.counts.returned,
        rejected: this.state.counts.rejected,
        castAsIs: this.ledgers.castAsIs[this.mode],
      },
      scanner: { connected: this.link.connected, state: this.link.state, alarms: [...this.link.alarms] },
      sheet: this.feedback,
      attention: this.attention,
      lockedOut,
      ...(this.county === undefined ? {} : { county: this.county.status() }),
    };
  }

  async login(args: LoginArgs): Promise<ApiResult<{ role: Role }>> {
    const a = parseArgs(LoginInput, args);
    if (!a.ok) return a;
    return this.enqueue(() => this.sessions.login(a.value.role, a.value.pin));
  }

  async logout(): Promise<ApiResult<null>> {
    return this.enqueue(async () => this.sessions.logout());
  }

  private get role(): Role | null {
    return this.sessions.role;
  }

  /** The signed-in staff member did something: the idle sign-out starts counting again. */
  private staffActive(): void {
    this.sessions.active();
  }

  async command(args: CommandArgs): Promise<ApiResult<CommandOutcome>> {
    const a = parseArgs(CommandInput, args);
    if (!a.ok) return a;
    this.staffActive();
    const done = await this.enqueue(() => this.runCommand(a.value.command, a.value.confirm === true, a.value.copies ?? 1));
    // closing the polls signed the day's checkpoint: the county log hears of it now
    if (done.ok && a.value.command === 'close-polls') this.county?.kick();
    return done;
  }

  private async runCommand(command: StationCommand, confirmed: boolean, copies: number): Promise<ApiResult<CommandOutcome>> {
    const from = this.state.polls;
    const facts = { officialBallots: this.ledgers.cast.official + this.official.pendingBallots().length, pendingBallots: this.ledgers.pendingCount(), officialZeroTape: this.ledgers.officialZeroTape };
    const d = decide(from, command, this.role, facts, { confirmed });
    if (!d.ok) {
      // a signed-in person's refused attempt (opening closed polls again, before the zero tape…) is a record an auditor must see
      const refusal = refusalEvent(command, this.role, from, d.error);
      if (refusal !== null) this.event('command-refused', refusal.role, refusal.detail);
      return d;
    }
    const role = this.role as Role;
    switch (command) {
      case 'enter-test-mode':
        return this.polls.enterTestMode(d.value.next, role);
      case 'leave-test-mode':
        return this.polls.leaveTestMode(d.value.next, role);
      case 'open-polls':
        return this.polls.open(d.value.next, role);
      case 'pause-polls':
        return this.polls.pause(d.value.next, role);
      case 'resume-polls':
        return this.polls.resume(d.value.next, role);
      case 'close-polls':
        return this.polls.close(d.value.next, role);
      case 'publish':
        return this.publish(d.value.next, role);
      case 'print-zero-tape':
      case 'print-results-tape':
      case 'reprint-tape':
        return runTapeCommand(
          { desk: this.desk, mode: () => this.mode, ledgerFor: (mode) => this.ledgerFor(mode), officialZeroTapePrinted: () => this.ledgers.officialZeroTapePrinted() },
          command,
          role,
          copies,
        );
      case 'verify-ledger':
        return verifyLedgers(this.ledgerCommandDeps(), role);
      case 'export-bundle':
        return exportLedger(this.ledgerCommandDeps(), this.mode, role);
      case 'clear-alarm': {
        this.reading.resetStreaks();
        for (const alarm of POLL_WORKER_ALARMS) this.link.setAlarm(alarm, false);
        if (!this.reconciling) this.attention = null;
        await this.link.updateFeeding();
        this.emitStatus();
        const left = [...this.link.alarms].filter((x) => HARDWARE_ALARMS.includes(x));
        return ok({ message: left.length === 0 ? 'Cleared.' : `Cleared; the scanner still reports: ${left.join(', ')}.` });
      }
      default:
        return assertNever(command, 'station command');
    }
  }

  private ledgerCommandDeps(): LedgerCommandDeps {
    return { layout: this.layout, now: this.now, verifyOptions: (mode) => this.verifyOptions(mode), event: (type, role, detail) => this.event(type, role, detail) };
  }

  private async publish(next: PollsState, role: Role): Promise<ApiResult<CommandOutcome>> {
    const o = this.opts;
    return publishOfficial(
      { layout: this.layout, chains: o.chains, stationPassphrase: o.stationPassphrase, offline: o.publishOffline === true, event: (type, r, detail) => this.event(type, r, detail), moveToPublished: (r) => this.polls.moveTo(next, r, 'Published.') },
      role,
    );
  }

  async voterDecision(args: VoterDecisionArgs): Promise<ApiResult<SheetFeedback>> {
    const a = parseArgs(VoterDecisionInput, args);
    if (!a.ok) return a;
    const { sheetId, decision } = a.value;
    return this.enqueue(async () => {
      const r = await this.sheets.run(sheetId, { type: 'voter-decision', decision });
      if (!r.ok) return refused<SheetFeedback>('no-such-sheet', `sheet ${sheetId} is not waiting for the voter`);
      return ok(this.feedback ?? { sheetId, outcome: 'awaiting-voter', reasons: [], canCastAsIs: false });
    });
  }

  async lookupBallot(args: LookupArgs): Promise<ApiResult<BallotLookup>> {
    const a = parseArgs(LookupInput, args);
    if (!a.ok) return a;
    if (this.role !== 'auditor' && this.role !== 'captain') return refused('forbidden', 'looking up a ballot needs an auditor login');
    this.staffActive();
    const id = a.value.ballotId.trim().toUpperCase();
    return this.enqueue(async () => lookupBallot({ layout: this.layout, official: this.official, verifyOptions: (mode) => this.verifyOptions(mode) }, id));
  }

  async adjudicationList(args: AdjudicationListArgs): Promise<ApiResult<AdjudicationList>> {
    const a = parseArgs(AdjudicationListInput, args);
    if (!a.ok) return a;
    this.staffActive();
    return this.enqueue(() => adjudicationList(this.adjudicationDeps(), a.value.all === true));
  }

  async adjudicate(args: AdjudicateArgs): Promise<ApiResult<CommandOutcome>> {
    const a = parseArgs(AdjudicateInput, args);
    if (!a.ok) return a;
    this.staffActive();
    return this.enqueue(async () => adjudicate(this.adjudicationDeps(), a.value));
  }

  private adjudicationDeps(): AdjudicationDeps {
    return {
      official: this.official,
      key: this.key,
      election: this.pkg.election,
      role: () => this.role,
      polls: () => this.state.polls,
      verifyOptions: () => this.verifyOptions('official'),
      kept: keptFromStore(() => this.imageStore()),
    };
  }

  subscribe(listener: (e: StationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.link.cancelRetry();
    this.sessions.close();
    await this.county?.stop();
    await this.work.catch(() => undefined);
    this.exporter?.close();
    this.unsubscribe();
    await this.link.stopFeeder();
    await this.reading.close();
    // returned and rejected sheets' files written since the last recorded sheet
    this.images?.flushDirectory();
    this.ledgers.closeAll();
    this.listeners.clear();
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  private event(type: AuditEventType, role: Role | 'system', detail: Record<string, string | number | boolean> = {}): void {
    const t = eventTime(this.now(), this.state.polls, type);
    this.official.recordEvent({ type, role, at: t.at, detail: t.coarse ? { ...detail, atPrecision: 'hour' } : detail });
  }

  /** The sheet journal keeps only the ballots whose drop is not settled yet (PRIVACY.md). */
  private forgetSettledSheets(): void {
    const pending = new Set<string>();
    for (const ledger of [this.official, this.ledgers.test]) {
      if (ledger === null) continue;
      for (const b of ledger.pendingBallots()) pending.add(`${ledger.mode}:${b.ballotId.toUpperCase()}`);
    }
    // a test line while the test ledger is shut stays: that ledger is reconciled when it opens again
    this.journal.keepOnly((l) => (l.mode === 'test' && this.ledgers.test === null) || pending.has(`${l.mode}:${l.ballot}`));
  }

  private saveState(): void {
    writeState(this.stateFile, this.state);
  }

  private emit(e: StationEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.log(`station listener failed: ${(err as Error).message}`);
      }
    }
  }

  private emitStatus(): void {
    if (this.listeners.size > 0) this.emit({ type: 'status', status: this.status() });
  }
}

/**
 * Starts the station service: loads and installs the election package, unlocks (or makes) the station key,
 * opens the ledgers, resumes the persisted polls state, connects the scanner and, after a crash, settles the
 * ballots that were pending before it accepts any new one.
 */
export async function startStation(opts: StationOptions): Promise<Station> {
  const idle = opts.staffIdleSignOutSeconds;
  if (idle !== undefined && !(Number.isFinite(idle) && idle > 0 && idle <= 86_400)) throw new StationStartError(`staffIdleSignOutSeconds must be more than 0 and at most a day, got ${idle}`);
  const loaded = loadPackage(opts.calibration === undefined ? { election: opts.election, keys: opts.electionKeys } : { election: opts.election, keys: opts.electionKeys, calibration: opts.calibration }, opts.precinct);
  makeDataDirPrivate(opts.dataDir, opts.log);
  installPackage(opts.dataDir, loaded);
  const layout = dataLayout(opts.dataDir);
  const key = loadOrCreateStationKey(layout.stationKey, opts.stationId ?? `station-${opts.precinct}`, opts.stationPassphrase);
  const stateFile = path.join(stationDir(opts.dataDir), 'state.json');
  const existing = readState(stateFile);
  if (existing !== undefined && existing.election !== loaded.pkg.election.hash) throw new StationStartError(`${stateFile}: the station state belongs to another election (hash ${existing.election.slice(0, 16)}…)`);
  const state = existing ?? initialState(loaded.pkg.election.hash);
  if (existing === undefined) writeState(stateFile, state);
  const pins = await PinBook.fromClear(opts.pins);
  fs.mkdirSync(path.dirname(layout.ledger('official')), { recursive: true });
  const officialFile = layout.ledger('official');
  const firstStart = !fs.existsSync(officialFile);
  const genesis = ledgerGenesis(loaded.pkg, key, opts.stationNumber ?? 1, 'official');
  const official = firstStart ? Ledger.create(officialFile, genesis) : Ledger.open(officialFile, { integrityCheck: true });
  checkGenesis(official, genesis);
  if (firstStart) {
    const at = isoSeconds((opts.now ?? (() => new Date()))());
    official.recordEvent({ type: 'election-loaded', role: 'administrator', at, detail: { election: loaded.pkg.election.definition.election.id, hash: loaded.pkg.election.hash, precinct: opts.precinct } });
    official.recordEvent({ type: 'calibration-loaded', role: 'administrator', at, detail: { name: loaded.pkg.profile.name, version: loaded.pkg.calibrationVersion } });
  }
  const station = new StationService(opts, loaded.pkg, key, official, state, pins);
  try {
    await station.start();
  } catch (e) {
    await station.close();
    throw e;
  }
  return station;
}
