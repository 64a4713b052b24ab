/**
 * The one interface the station uses for every scanner: events in, commands out, capabilities to say what the
 * hardware can do. Sheet IDs come from the device (or, for SANE and folders, from the driver) and stay the same
 * across reconnects, so the station can match a confirmation to the record it wrote before the cable fell out.
 */
import { assertNever, type Result } from '../lib/result';
import type { SheetOutcome, SheetStage } from './lifecycle';

export type ImageFormat = 'png' | 'tiff' | 'pnm';

export interface ScannedImage {
  readonly side: 'front' | 'back';
  readonly format: ImageFormat;
  readonly bytes: Uint8Array;
}

export interface ScannerCapabilities {
  /** The sheet waits in the scanner after scanning until the station says accept or return. */
  readonly canHold: boolean;
  /** The scanner itself can drop a sheet into the box or send it back to the voter. If false, accept() and
   * returnSheet() only record the station's decision, and the poll worker moves the paper. */
  readonly canDivert: boolean;
  readonly duplex: boolean;
  readonly detectsDoubleSheets: boolean;
  readonly canCalibrate: boolean;
}

export interface DeviceInfo {
  readonly driver: 'serial' | 'sane' | 'folder';
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  readonly protocolVersion: number;
}

export type FeedFault = 'jam' | 'double-sheet' | 'cover-open';

export type ScannerEvent =
  | { readonly type: 'sheet-inserted'; readonly sheetId: string }
  | { readonly type: 'sheet-scanned'; readonly sheetId: string; readonly front: ScannedImage; readonly back?: ScannedImage }
  /** Exactly once per sheet: where the paper ended up. */
  | { readonly type: 'sheet-done'; readonly sheetId: string; readonly outcome: SheetOutcome }
  | { readonly type: 'jam'; readonly sheetId?: string; readonly stage: SheetStage | 'idle' }
  | { readonly type: 'jam-cleared' }
  | { readonly type: 'double-sheet'; readonly sheetId: string }
  | { readonly type: 'cover-open' }
  | { readonly type: 'cover-closed' }
  | { readonly type: 'ballot-box-full' }
  | { readonly type: 'ballot-box-emptied' }
  | { readonly type: 'feeder-empty' }
  | { readonly type: 'disconnected'; readonly reason: string }
  | { readonly type: 'reconnected'; readonly powerCycled: boolean }
  | { readonly type: 'hardware-error'; readonly code: string; readonly message: string };

export type ScannerEventType = ScannerEvent['type'];

export type DriverError =
  | { readonly kind: 'disconnected' }
  | { readonly kind: 'timeout'; readonly command: string; readonly ms: number }
  | { readonly kind: 'refused'; readonly command: string; readonly reason: RefusalReason }
  | { readonly kind: 'unknown-sheet'; readonly sheetId: string }
  | { readonly kind: 'busy'; readonly detail: string }
  | { readonly kind: 'io'; readonly detail: string };

export type RefusalReason = 'box-full' | 'cover-open' | 'jammed' | 'no-such-sheet' | 'bad-state' | 'unsupported';

export type PaperPathState = 'idle' | SheetStage | 'jammed';

export interface ScannerStatus {
  readonly connected: boolean;
  readonly feeding: boolean;
  readonly path: PaperPathState;
  readonly coverOpen: boolean;
  readonly boxFull: boolean;
  /** Sheets the driver knows of that have not reached sheet-done. */
  readonly openSheets: readonly { readonly sheetId: string; readonly stage: SheetStage }[];
  /**
   * How the last sheets ended, as the device itself remembers it (newest last), including sheets that
   * finished while no host was connected: a host that restarts after telling a sheet to drop learns from
   * this whether it reached the box. Empty for a device that keeps no such record.
   */
  readonly recent: readonly { readonly sheetId: string; readonly outcome: SheetOutcome }[];
}

export interface CalibrationReport {
  /** Per-sensor reading with no paper, 0..255, as the device reports it. */
  readonly sensors: Readonly<Record<string, number>>;
  readonly ok: boolean;
}

export type Unsubscribe = () => void;

export interface ScannerDriver {
  readonly capabilities: ScannerCapabilities;
  connect(): Promise<Result<DeviceInfo, DriverError>>;
  /** Start taking paper (serial: open the feeder; SANE: run the batch; folder: start watching). */
  enableFeeding(): Promise<Result<void, DriverError>>;
  disableFeeding(): Promise<Result<void, DriverError>>;
  /** Scan what is waiting now (one sheet, one SANE batch, one pass over the folder). */
  scan(): Promise<Result<void, DriverError>>;
  /** Drop the held sheet into the box; sheet-done { box } follows once the device saw it fall. */
  accept(sheetId: string): Promise<Result<void, DriverError>>;
  /** Give the held sheet back to the voter; sheet-done { returned } follows. */
  returnSheet(sheetId: string): Promise<Result<void, DriverError>>;
  status(): Promise<Result<ScannerStatus, DriverError>>;
  calibrate(): Promise<Result<CalibrationReport, DriverError>>;
  on(listener: (event: ScannerEvent) => void): Unsubscribe;
  close(): Promise<void>;
}

/** A small typed fan-out for driver events; a listener that throws is reported, not allowed to break the driver. */
export class EventHub {
  private readonly listeners = new Set<(event: ScannerEvent) => void>();

  constructor(private readonly onListenerError: (e: unknown) => void = () => undefined) {}

  on(listener: (event: ScannerEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ScannerEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }
}

export function describeDriverError(e: DriverError): string {
  switch (e.kind) {
    case 'disconnected':
      return 'the scanner is disconnected';
    case 'timeout':
      return `the scanner did not answer "${e.command}" within ${e.ms} ms`;
    case 'refused':
      return `the scanner refused "${e.command}": ${e.reason}`;
    case 'unknown-sheet':
      return `no sheet ${e.sheetId} is waiting in the scanner`;
    case 'busy':
      return `the scanner is busy: ${e.detail}`;
    case 'io':
      return `scanner I/O error: ${e.detail}`;
    default:
      return assertNever(e, 'driver error');
  }
}
