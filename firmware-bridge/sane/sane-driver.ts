/**
 * A ScannerDriver for off-the-shelf document scanners through SANE: runs `scanimage` in batch mode from the
 * feeder and reports each page as soon as scanimage has written it (--batch-print). SANE scanners cannot hold
 * or divert paper, so accept and return only record the station's decision: the poll worker moves the sheet.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readScanFile } from '../../ballots/read/scan-file';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { assertNever, err, ok, type Result } from '../../lib/result';
import { systemClock, type Clock } from '../clock';
import { EventHub, type CalibrationReport, type DeviceInfo, type DriverError, type ImageFormat, type ScannedImage, type ScannerCapabilities, type ScannerDriver, type ScannerEvent, type ScannerStatus, type Unsubscribe } from '../driver';
import type { SheetOutcome } from '../lifecycle';
import { SheetTracker } from '../sheet-tracker';
import { conditionFromExit, conditionFromLine, isEndOfBatch, type SaneCondition } from './sane-errors';

export interface SaneDriverOptions {
  /** SANE device name, e.g. `fujitsu:fi-7160:1234` or `pnm:0`. */
  readonly device: string;
  readonly scanimage?: string;
  /** Environment for scanimage (SANE_CONFIG_DIR and the like). */
  readonly env?: NodeJS.ProcessEnv;
  /** Device options, e.g. ['--source', 'ADF Duplex', '--mode', 'Gray']. */
  readonly deviceArgs?: readonly string[];
  readonly format?: Exclude<ImageFormat, 'pnm'> | 'pnm';
  readonly resolution?: number;
  /** Pages come front, back, front, back…: two pages make one sheet. */
  readonly duplex?: boolean;
  /** Stop a batch after this many pages (the pnm backend has no feeder and repeats its file). */
  readonly batchCount?: number;
  /** A batch that produces no page for this long is killed and reported as a timeout. */
  readonly pageTimeoutMs?: number;
  /** While feeding is enabled, how long to wait after an empty feeder before trying again. */
  readonly idlePollMs?: number;
  readonly workDir?: string;
  readonly clock?: Clock;
  readonly log?: (message: string) => void;
}

interface BatchResult {
  readonly pages: number;
  readonly condition: SaneCondition | undefined;
  readonly timedOut: boolean;
}

export class SaneScannerDriver implements ScannerDriver {
  readonly capabilities: ScannerCapabilities;
  private readonly hub: EventHub;
  private readonly tracker: SheetTracker;
  private readonly clock: Clock;
  private readonly log: (m: string) => void;
  private readonly session = randomBytes(4).toString('hex');
  private readonly workDir: string;
  private readonly ownsWorkDir: boolean;
  private sheetNo = 0;
  private batchNo = 0;
  private proc: ChildProcess | undefined;
  private feeding = false;
  private feedLoop: Promise<void> | undefined;
  private closed = false;
  private coverOpen = false;
  private jammed = false;
  private pendingFront: ScannedImage | undefined;

  constructor(private readonly opts: SaneDriverOptions) {
    this.capabilities = { canHold: false, canDivert: false, duplex: opts.duplex ?? false, detectsDoubleSheets: false, canCalibrate: false };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? (() => undefined);
    this.hub = new EventHub((e) => this.log(`listener threw: ${String(e)}`));
    this.tracker = new SheetTracker((sheetId, outcome) => this.hub.emit({ type: 'sheet-done', sheetId, outcome }), this.log);
    this.ownsWorkDir = opts.workDir === undefined;
    this.workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'tp-sane-'));
  }

  on(listener: (event: ScannerEvent) => void): Unsubscribe {
    return this.hub.on(listener);
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.opts.env };
  }

  /** Checks that scanimage runs and knows the device (scanimage -L lists what SANE sees). */
  async connect(): Promise<Result<DeviceInfo, DriverError>> {
    const r = await this.run(['-L'], 20_000);
    if (!r.ok) return r;
    const line = r.value.split('\n').find((l) => l.includes(`\`${this.opts.device}'`));
    if (!line) return err({ kind: 'io', detail: `SANE does not list the device ${this.opts.device}` });
    const model = /is a (.*)$/.exec(line)?.[1]?.trim() ?? this.opts.device;
    return ok({ driver: 'sane', model, serial: this.opts.device, firmware: 'sane', protocolVersion: 0 });
  }

  private run(args: string[], timeoutMs: number): Promise<Result<string, DriverError>> {
    return new Promise((resolve) => {
      let out = '';
      let errText = '';
      let p: ChildProcess;
      try {
        p = spawn(this.opts.scanimage ?? 'scanimage', args, { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        resolve(err({ kind: 'io', detail: `cannot run scanimage: ${(e as Error).message}` }));
        return;
      }
      const cancel = this.clock.after(timeoutMs, () => {
        p.kill('SIGKILL');
        resolve(err({ kind: 'timeout', command: `scanimage ${args.join(' ')}`, ms: timeoutMs }));
      });
      p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr?.on('data', (d: Buffer) => (errText += d.toString()));
      p.on('error', (e) => {
        cancel();
        resolve(err({ kind: 'io', detail: `cannot run scanimage: ${e.message}` }));
      });
      p.on('close', (code) => {
        cancel();
        if (code === 0) resolve(ok(out));
        else resolve(err({ kind: 'io', detail: `scanimage ${args.join(' ')} failed (${code}): ${errText.trim()}` }));
      });
    });
  }

  async enableFeeding(): Promise<Result<void, DriverError>> {
    if (this.feeding) return ok(undefined);
    this.feeding = true;
    this.feedLoop = (async () => {
      while (this.feeding && !this.closed) {
        const r = await this.batch();
        if (!this.feeding || this.closed) break;
        // An empty feeder is the normal idle state; anything else waits for the poll worker a little longer.
        const wait = r.ok ? (this.opts.idlePollMs ?? 1000) : (this.opts.idlePollMs ?? 1000) * 3;
        await new Promise<void>((res) => this.clock.after(wait, res));
      }
    })();
    return ok(undefined);
  }

  async disableFeeding(): Promise<Result<void, DriverError>> {
    this.feeding = false;
    this.proc?.kill('SIGTERM');
    await this.feedLoop;
    return ok(undefined);
  }

  /** One batch: scans until the feeder is empty; resolves when scanimage has finished. */
  async scan(): Promise<Result<void, DriverError>> {
    if (this.proc) return err({ kind: 'busy', detail: 'a batch is already running' });
    return this.batch();
  }

  private async batch(): Promise<Result<void, DriverError>> {
    if (this.proc) return err({ kind: 'busy', detail: 'a batch is already running' });
    const r = await this.runBatch();
    if (r.timedOut) return err({ kind: 'timeout', command: 'scan', ms: this.opts.pageTimeoutMs ?? 60_000 });
    const c = r.condition;
    if (c === undefined || isEndOfBatch(c)) {
      this.hub.emit({ type: 'feeder-empty' });
      return ok(undefined);
    }
    switch (c) {
      case 'jammed':
        return err({ kind: 'refused', command: 'scan', reason: 'jammed' });
      case 'cover-open':
        return err({ kind: 'refused', command: 'scan', reason: 'cover-open' });
      case 'busy':
        return err({ kind: 'busy', detail: `${this.opts.device} is busy (in use by another program?)` });
      case 'no-device':
      case 'access-denied':
      case 'io-error':
      case 'no-mem':
      case 'invalid':
      case 'cancelled':
        return err({ kind: 'io', detail: `scanimage: ${c}` });
      case 'no-docs':
      case 'eof':
        return ok(undefined);
      default:
        return assertNever(c, 'SANE condition');
    }
  }

  private runBatch(): Promise<BatchResult> {
    this.batchNo += 1;
    const format = this.opts.format ?? 'png';
    const ext = format === 'tiff' ? 'tif' : format;
    const pattern = join(this.workDir, `b${this.batchNo}-p%04d.${ext}`);
    const args = ['-d', this.opts.device, `--format=${format}`, `--batch=${pattern}`, '--batch-print'];
    if (this.opts.batchCount !== undefined) args.push(`--batch-count=${this.opts.batchCount}`);
    if (this.opts.resolution !== undefined) args.push('--resolution', String(this.opts.resolution));
    args.push(...(this.opts.deviceArgs ?? []));
    this.log(`scanimage ${args.join(' ')}`);
    return new Promise((resolve) => {
      let condition: SaneCondition | undefined;
      let pages = 0;
      let timedOut = false;
      const p = spawn(this.opts.scanimage ?? 'scanimage', args, { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc = p;
      const pageTimeout = this.opts.pageTimeoutMs ?? 60_000;
      let cancel = this.clock.after(pageTimeout, onTimeout);
      function onTimeout(): void {
        timedOut = true;
        p.kill('SIGKILL');
      }
      createInterface({ input: p.stdout as NodeJS.ReadableStream }).on('line', (file) => {
        cancel();
        cancel = this.clock.after(pageTimeout, onTimeout);
        pages += 1;
        this.page(file.trim(), format);
      });
      createInterface({ input: p.stderr as NodeJS.ReadableStream }).on('line', (line) => {
        const c = conditionFromLine(line);
        if (!c) return;
        condition = c;
        this.onCondition(c);
      });
      let spawnError: string | undefined;
      p.on('error', (e) => (spawnError = e.message));
      p.on('close', (code) => {
        cancel();
        this.proc = undefined;
        if (spawnError) condition = 'io-error';
        // Older scanimage versions print nothing for some failures; the exit code is the SANE status.
        if (condition === undefined) {
          const fromExit = conditionFromExit(code);
          if (fromExit) {
            condition = fromExit;
            this.onCondition(fromExit);
          }
        }
        if (this.pendingFront) {
          // Duplex batch ended on an odd page: report what we have rather than lose the sheet.
          this.emitSheet(this.pendingFront, undefined);
          this.pendingFront = undefined;
        }
        resolve({ pages, condition, timedOut });
      });
    });
  }

  private onCondition(c: SaneCondition): void {
    switch (c) {
      case 'jammed':
        this.jammed = true;
        this.hub.emit({ type: 'jam', stage: 'scanning' });
        return;
      case 'cover-open':
        this.coverOpen = true;
        this.hub.emit({ type: 'cover-open' });
        return;
      case 'busy':
      case 'io-error':
      case 'no-mem':
      case 'access-denied':
      case 'no-device':
      case 'invalid':
        this.hub.emit({ type: 'hardware-error', code: c, message: `scanimage reported ${c} on ${this.opts.device}` });
        return;
      case 'no-docs':
      case 'eof':
      case 'cancelled':
        return;
      default:
        assertNever(c, 'SANE condition');
    }
  }

  private page(file: string, format: ImageFormat): void {
    // scanimage writes into this driver's own temporary directory, but what it named is still checked like any
    // scan file: a regular file within the reader's byte limit, or a clear reason and no read
    const read = readScanFile(file);
    try {
      rmSync(file, { force: true });
    } catch {
      // not a file (the reason is reported below); the temporary directory goes when the driver closes
    }
    if (!read.ok) {
      this.hub.emit({ type: 'hardware-error', code: read.error.code === 'not-found' ? 'missing-page' : read.error.code === 'too-large' ? 'page-too-large' : 'unreadable-page', message: `scanimage named ${file} but it cannot be read: ${read.error.message}` });
      return;
    }
    const bytes = read.value;
    if (this.jammed || this.coverOpen) {
      this.jammed = false;
      this.coverOpen = false;
      this.hub.emit({ type: 'jam-cleared' });
    }
    if (!this.opts.duplex) {
      this.emitSheet({ side: 'front', format, bytes }, undefined);
      return;
    }
    if (!this.pendingFront) {
      this.pendingFront = { side: 'front', format, bytes };
      return;
    }
    this.emitSheet(this.pendingFront, { side: 'back', format, bytes });
    this.pendingFront = undefined;
  }

  private emitSheet(front: ScannedImage, back: ScannedImage | undefined): void {
    this.sheetNo += 1;
    const sheetId = `sane-${this.session}-${String(this.sheetNo).padStart(6, '0')}`;
    this.tracker.begin(sheetId, 'scanning');
    this.tracker.apply(sheetId, { type: 'scanned' });
    this.hub.emit({ type: 'sheet-inserted', sheetId });
    this.hub.emit(back ? { type: 'sheet-scanned', sheetId, front, back } : { type: 'sheet-scanned', sheetId, front });
  }

  /** Records the decision; the sheet is already in the output tray and the poll worker puts it in the box. */
  async accept(sheetId: string): Promise<Result<void, DriverError>> {
    return this.decide(sheetId, { kind: 'box' });
  }

  async returnSheet(sheetId: string): Promise<Result<void, DriverError>> {
    return this.decide(sheetId, { kind: 'returned', reason: 'station' });
  }

  private async decide(sheetId: string, outcome: SheetOutcome): Promise<Result<void, DriverError>> {
    if (this.tracker.stageOf(sheetId) !== 'held') return err({ kind: 'unknown-sheet', sheetId });
    this.tracker.settle(sheetId, outcome);
    return ok(undefined);
  }

  async status(): Promise<Result<ScannerStatus, DriverError>> {
    return ok({
      connected: true,
      feeding: this.feeding,
      path: this.jammed ? 'jammed' : this.proc ? 'scanning' : 'idle',
      coverOpen: this.coverOpen,
      boxFull: false,
      openSheets: this.tracker.openSheets(),
      // a SANE scanner keeps no record of sheets between sessions
      recent: [],
    });
  }

  async calibrate(): Promise<Result<CalibrationReport, DriverError>> {
    return err({ kind: 'refused', command: 'calibrate', reason: 'unsupported' });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.disableFeeding();
    if (this.ownsWorkDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}
