import { assertNever } from '../../lib/result';
import type { ScannedImage, ScannerDriver, ScannerEvent } from '../../firmware-bridge/driver';
import { describeDriverError } from '../../firmware-bridge/driver';
import type { AuditEventType } from '../ledger/events';
import type { PollsState, ScannerAlarm, SheetFeedback, StationEvent } from './api';
import { takesBallots } from './polls';
import type { SheetRunner } from './sheet-runner';
import type { RestartReconcile } from './station-restart';

export const HARDWARE_ALARMS: readonly ScannerAlarm[] = ['cover-open', 'box-full', 'jam', 'disconnected'];
/** Alarms only a poll worker ends (clear-alarm): the scanner takes no sheet while one stands. */
export const POLL_WORKER_ALARMS: readonly ScannerAlarm[] = ['double-sheet', 'streaks'];

/** What the scanner link needs from the station. */
export interface ScannerLinkDeps {
  readonly scanner: ScannerDriver;
  readonly sheets: Pick<SheetRunner, 'anyJammed' | 'awaitingVoter' | 'jammed' | 'run' | 'dropsPutOff'>;
  readonly restart: Pick<RestartReconcile, 'heard'>;
  polls(): PollsState;
  /** the standing message for the poll worker (no sheet is taken while there is one) */
  attention(): string | null;
  /** pending ballots of a crashed session are being settled */
  reconciling(): boolean;
  /** the station is shutting down */
  closed(): boolean;
  /** the feedback on the screens now */
  feedback(): SheetFeedback | null;
  clearFeedback(): void;
  /** a sheet the scanner read: the station decides whether it takes it and reads it */
  sheetScanned(sheetId: string, front: ScannedImage, back: ScannedImage | undefined): Promise<void>;
  event(type: AuditEventType, role: 'system', detail: Record<string, string | number | boolean>): void;
  emit(e: StationEvent): void;
  emitStatus(): void;
  /** runs `fn` after the station's queued work, one at a time */
  enqueue(fn: () => Promise<unknown>): void;
  log(message: string): void;
}

/**
 * The station's side of the scanner: connecting (and trying again every 2 s while it cannot), the alarms,
 * telling the feeder whether the station wants ballots, and the driver's events turned into the station's.
 */
export class ScannerLink {
  private readonly alarmSet = new Set<ScannerAlarm>();
  private scannerConnected = false;
  private scannerState = 'starting';
  /** what the feeder was last told (null: unknown) */
  private feeding: boolean | null = null;
  /** why the scanner could not be reached, while it cannot: logged at the first failure, not at every retry */
  private connectFailure: string | null = null;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: ScannerLinkDeps) {}

  get connected(): boolean {
    return this.scannerConnected;
  }

  get state(): string {
    return this.scannerState;
  }

  get alarms(): ReadonlySet<ScannerAlarm> {
    return this.alarmSet;
  }

  pollWorkerAlarm(): boolean {
    return POLL_WORKER_ALARMS.some((a) => this.alarmSet.has(a));
  }

  async connect(): Promise<void> {
    const d = this.d;
    const r = await d.scanner.connect();
    if (r.ok) {
      this.connectFailure = null;
      this.scannerConnected = true;
      this.scannerState = 'ready';
      this.setAlarm('disconnected', false);
      d.event('scanner-connected', 'system', { model: r.value.model, serial: r.value.serial, firmware: r.value.firmware });
      // A scanner that kept its power while this station was down still has its feeder running from the
      // last session: it takes no sheet until this station has settled what it holds and wants ballots.
      const off = await d.scanner.disableFeeding();
      this.feeding = false;
      if (!off.ok) d.log(`could not stop the feeder after connecting: ${describeDriverError(off.error)}`);
      return;
    }
    this.scannerConnected = false;
    this.scannerState = describeDriverError(r.error);
    // once until it connects: a scanner left switched off all morning must not bury the log in the same line
    // (the disconnected alarm stands on both screens meanwhile)
    if (this.connectFailure === null) d.log(`the scanner is not connected: ${this.scannerState}; trying again every 2 s`);
    this.connectFailure = this.scannerState;
    this.setAlarm('disconnected', true);
    if (!d.closed()) {
      this.connectTimer = setTimeout(() => {
        this.connectTimer = undefined;
        void this.connect().then(() => this.updateFeeding());
      }, 2000);
    }
  }

  /** No more tries to connect (the station is closing). */
  cancelRetry(): void {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
  }

  /** The station is closing: a feeder it turned on is turned off. */
  async stopFeeder(): Promise<void> {
    if (this.feeding === true) await this.d.scanner.disableFeeding();
  }

  async updateFeeding(): Promise<void> {
    const d = this.d;
    const want =
      takesBallots(d.polls()) &&
      d.attention() === null &&
      !d.sheets.anyJammed() &&
      !this.alarmSet.has('jam') &&
      !d.reconciling() &&
      this.scannerConnected &&
      !this.alarmSet.has('box-full') &&
      !this.alarmSet.has('cover-open') &&
      !this.pollWorkerAlarm() &&
      !this.alarmSet.has('export-missing') &&
      !this.alarmSet.has('export-full') &&
      !d.closed();
    if (want === this.feeding) return;
    // with no link there is no feeder to tell: connecting stops it (see connect), and a lost link
    // leaves the scanner taking nothing without its station
    if (!this.scannerConnected) return;
    const r = want ? await d.scanner.enableFeeding() : await d.scanner.disableFeeding();
    if (r.ok) this.feeding = want;
    else d.log(`could not ${want ? 'enable' : 'disable'} feeding: ${describeDriverError(r.error)}`);
  }

  onScannerEvent(e: ScannerEvent): void {
    const d = this.d;
    switch (e.type) {
      case 'sheet-inserted':
        if (d.feedback() !== null && d.sheets.awaitingVoter() === undefined) {
          d.clearFeedback();
          d.emitStatus();
        }
        return;
      case 'sheet-scanned':
        d.enqueue(() => d.sheetScanned(e.sheetId, e.front, e.back));
        return;
      case 'sheet-done':
        if (d.reconciling()) d.restart.heard(e.sheetId, e.outcome);
        d.enqueue(() => d.sheets.run(e.sheetId, { type: 'done', outcome: e.outcome }));
        return;
      case 'jam':
        d.event('scanner-jam', 'system', { stage: e.stage });
        // No next sheet until the stuck one's outcome is known: the scanner would resume feeding as soon as
        // the jam clears, the jam's end can reach the station before the sheet's outcome does, and a drop
        // can jam before the station has heard the scanner take the drop command.
        if (e.sheetId !== undefined) d.sheets.jammed(e.sheetId);
        this.feeding = false;
        void d.scanner.disableFeeding();
        this.setAlarm('jam', true);
        return;
      case 'jam-cleared':
        this.setAlarm('jam', false);
        this.retryDrops();
        return;
      case 'double-sheet':
        d.event('scanner-fault', 'system', { code: 'double-sheet' });
        // at once, not behind queued work: the scanner gives the sheets back and would feed the next one (the
        // alarm's queued update asks again, and settles the station's own record of feeding). Until then the
        // feeder's state is unknown: a clear-alarm that runs before that update must still turn it back on
        this.feeding = null;
        void d.scanner.disableFeeding();
        this.setAlarm('double-sheet', true);
        return;
      case 'cover-open':
        this.setAlarm('cover-open', true);
        return;
      case 'cover-closed':
        this.setAlarm('cover-open', false);
        this.retryDrops();
        return;
      case 'ballot-box-full':
        this.setAlarm('box-full', true);
        return;
      case 'ballot-box-emptied':
        this.setAlarm('box-full', false);
        return;
      case 'feeder-empty':
        return;
      case 'disconnected':
        this.scannerConnected = false;
        this.scannerState = `disconnected: ${e.reason}`;
        d.event('scanner-disconnected', 'system', { reason: e.reason.slice(0, 200) });
        this.setAlarm('disconnected', true);
        return;
      case 'reconnected':
        this.scannerConnected = true;
        this.scannerState = 'ready';
        d.event('scanner-connected', 'system', { powerCycled: e.powerCycled });
        this.setAlarm('disconnected', false);
        this.retryDrops();
        // what the feeder does now is unknown (a power cycle stops it; the polls may have opened, paused or
        // closed while the link was down): tell it what the station wants
        this.feeding = null;
        d.enqueue(() => this.updateFeeding());
        return;
      case 'hardware-error':
        d.event('scanner-fault', 'system', { code: e.code.slice(0, 64), message: e.message.slice(0, 200) });
        this.scannerState = `hardware error ${e.code}: ${e.message}`;
        d.emitStatus();
        return;
      default:
        assertNever(e, 'scanner event');
    }
  }

  setAlarm(alarm: ScannerAlarm, active: boolean): void {
    if (this.alarmSet.has(alarm) === active) return;
    if (active) this.alarmSet.add(alarm);
    else this.alarmSet.delete(alarm);
    this.d.emit({ type: 'alarm', alarm, active });
    if (active) this.d.emit({ type: 'cue', cue: 'alarm' });
    this.d.emitStatus();
    if (alarm === 'box-full' || alarm === 'cover-open' || alarm === 'jam' || alarm === 'export-missing' || alarm === 'export-full' || POLL_WORKER_ALARMS.includes(alarm)) this.d.enqueue(() => this.updateFeeding());
  }

  /** After the scanner became ready again: ask again for the drops it put off meanwhile. */
  private retryDrops(): void {
    for (const sheetId of this.d.sheets.dropsPutOff()) this.d.enqueue(() => this.d.sheets.run(sheetId, { type: 'retry-drop' }));
  }
}
