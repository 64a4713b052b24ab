/**
 * A ScannerDriver over a directory of scans made elsewhere (central count): every image file dropped into the
 * directory becomes one sheet, exactly once, even across restarts, thanks to a journal kept beside the files.
 * A file is taken only once its size has stopped changing, so a half-copied scan is not read.
 * After a restart, files that were taken but never decided are offered again under the same sheet ID, so the
 * station can match them to the records it already holds.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_SCAN_BYTES } from '../../ballots/read/limits';
import { describeKind, readScanFile } from '../../ballots/read/scan-file';
import { err, ok, type Result } from '../../lib/result';
import { systemClock, type Clock } from '../clock';
import { EventHub, type CalibrationReport, type DeviceInfo, type DriverError, type ImageFormat, type ScannerCapabilities, type ScannerDriver, type ScannerEvent, type ScannerStatus, type Unsubscribe } from '../driver';
import type { SheetOutcome } from '../lifecycle';
import { SheetTracker } from '../sheet-tracker';
import { JournalWriter, readJournal } from './journal';

const RECENT_KEPT = 16;

export const JOURNAL_FILE = '.tallyproof-taken.jsonl';

export interface FolderDriverOptions {
  readonly dir: string;
  /** Where the journal lives; defaults to the scanned directory itself. */
  readonly journalPath?: string;
  readonly pollMs?: number;
  readonly clock?: Clock;
  readonly log?: (m: string) => void;
  /** Files larger than this are reported and skipped (default, and at most: the reader's MAX_SCAN_BYTES). */
  readonly maxFileBytes?: number;
}

function formatOf(name: string): ImageFormat | undefined {
  const n = name.toLowerCase();
  if (n.endsWith('.png')) return 'png';
  if (n.endsWith('.tif') || n.endsWith('.tiff')) return 'tiff';
  if (n.endsWith('.pgm') || n.endsWith('.ppm') || n.endsWith('.pnm')) return 'pnm';
  return undefined;
}

export class FolderScannerDriver implements ScannerDriver {
  readonly capabilities: ScannerCapabilities = { canHold: true, canDivert: false, duplex: false, detectsDoubleSheets: false, canCalibrate: false };
  private readonly hub: EventHub;
  private readonly tracker: SheetTracker;
  private readonly clock: Clock;
  private readonly log: (m: string) => void;
  private journal: JournalWriter | undefined;
  private recent: { sheetId: string; outcome: SheetOutcome }[] = [];
  private readonly taken = new Map<string, { sheetId: string; decided: boolean }>();
  private readonly sheetFiles = new Map<string, string>();
  /** Sizes seen on the previous pass: a file is taken when its size is the same twice running. */
  private readonly lastSize = new Map<string, number>();
  private readonly rejected = new Set<string>();
  private stopPolling: (() => void) | undefined;
  private scanning = false;

  constructor(private readonly opts: FolderDriverOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? (() => undefined);
    this.hub = new EventHub((e) => this.log(`listener threw: ${String(e)}`));
    this.tracker = new SheetTracker((sheetId, outcome) => this.hub.emit({ type: 'sheet-done', sheetId, outcome }), this.log);
  }

  private get journalPath(): string {
    return this.opts.journalPath ?? join(this.opts.dir, JOURNAL_FILE);
  }

  on(listener: (event: ScannerEvent) => void): Unsubscribe {
    return this.hub.on(listener);
  }

  async connect(): Promise<Result<DeviceInfo, DriverError>> {
    try {
      if (!statSync(this.opts.dir).isDirectory()) return err({ kind: 'io', detail: `${this.opts.dir} is not a directory` });
    } catch (e) {
      return err({ kind: 'io', detail: `cannot read ${this.opts.dir}: ${(e as Error).message}` });
    }
    const j = readJournal(this.journalPath);
    if (!j.ok) return err({ kind: 'io', detail: `journal ${this.journalPath} line ${j.error.line}: ${j.error.message}` });
    if (j.value.tornTail) this.log(`journal ${this.journalPath}: ignoring a torn last line`);
    this.journal?.close();
    this.journal = new JournalWriter(this.journalPath, j.value);
    this.recent = [];
    for (const [file, f] of j.value.files) {
      this.taken.set(file, { sheetId: f.sheetId, decided: f.outcome !== undefined });
      this.sheetFiles.set(f.sheetId, file);
      if (f.outcome) this.remember(f.sheetId, f.outcome);
    }
    // Taken before a restart but never decided: offer again, same sheet ID.
    for (const [file, f] of j.value.files) if (!f.outcome) this.offer(file, f.sheetId);
    return ok({ driver: 'folder', model: 'folder', serial: this.opts.dir, firmware: 'folder', protocolVersion: 0 });
  }

  async enableFeeding(): Promise<Result<void, DriverError>> {
    if (!this.journal) return err({ kind: 'disconnected' });
    if (this.stopPolling) return ok(undefined);
    let stopped = false;
    let cancel: () => void = () => undefined;
    const tick = (): void => {
      if (stopped) return;
      void this.scan().then(() => {
        if (!stopped) cancel = this.clock.after(this.opts.pollMs ?? 500, tick);
      });
    };
    this.stopPolling = () => {
      stopped = true;
      cancel();
    };
    tick();
    return ok(undefined);
  }

  async disableFeeding(): Promise<Result<void, DriverError>> {
    this.stopPolling?.();
    this.stopPolling = undefined;
    return ok(undefined);
  }

  /** One pass over the directory. */
  async scan(): Promise<Result<void, DriverError>> {
    if (!this.journal) return err({ kind: 'disconnected' });
    if (this.scanning) return ok(undefined);
    this.scanning = true;
    try {
      let names: string[];
      try {
        names = readdirSync(this.opts.dir).sort();
      } catch (e) {
        return err({ kind: 'io', detail: `cannot list ${this.opts.dir}: ${(e as Error).message}` });
      }
      for (const name of names) {
        if (name.startsWith('.') || this.taken.has(name) || this.rejected.has(name) || !formatOf(name)) continue;
        this.consider(name);
      }
      return ok(undefined);
    } finally {
      this.scanning = false;
    }
  }

  private consider(name: string): void {
    const path = join(this.opts.dir, name);
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) {
        // a FIFO would block the read and a device such as /dev/zero never ends: refused once, never opened
        this.refuse(name, 'not-a-file', `${name} is ${describeKind(st)}, not a scan file`);
        return;
      }
      size = st.size;
    } catch {
      return; // vanished between listing and stat
    }
    const before = this.lastSize.get(name);
    this.lastSize.set(name, size);
    if (before !== size || size === 0) return; // still being written
    if (size > this.maxBytes) {
      this.refuse(name, 'file-too-large', `${name} is ${size} bytes, larger than any scan`);
      return;
    }
    const read = readScanFile(path, { maxBytes: this.maxBytes });
    if (!read.ok) {
      // changed between the look and the read (replaced by a link to a device, grown, removed)
      if (read.error.code === 'not-found') return;
      this.refuse(name, read.error.code === 'too-large' ? 'file-too-large' : read.error.code === 'not-a-file' ? 'not-a-file' : 'unreadable-file', `${name}: ${read.error.message}`);
      return;
    }
    const bytes = read.value;
    const digest = bytesToHex(sha256(bytes));
    const sheetId = `folder-${digest.slice(0, 16)}-${this.taken.size + 1}`;
    this.journal?.append({ op: 'taken', file: name, sheetId, sha256: digest, size: bytes.length });
    this.lastSize.delete(name);
    this.taken.set(name, { sheetId, decided: false });
    this.sheetFiles.set(sheetId, name);
    this.offer(name, sheetId, bytes);
  }

  private get maxBytes(): number {
    return Math.min(this.opts.maxFileBytes ?? MAX_SCAN_BYTES, MAX_SCAN_BYTES);
  }

  /** Reports a file that is not taken, once: it stays refused until the station restarts. */
  private refuse(name: string, code: string, message: string): void {
    this.rejected.add(name);
    this.lastSize.delete(name);
    this.hub.emit({ type: 'hardware-error', code, message });
  }

  private offer(name: string, sheetId: string, bytes?: Uint8Array): void {
    let data = bytes;
    if (!data) {
      const read = readScanFile(join(this.opts.dir, name), { maxBytes: this.maxBytes });
      if (!read.ok) {
        // The scan was taken and then removed or replaced (by a device, a pipe, a larger file): say so rather
        // than drop the sheet silently, and never read what it became.
        this.tracker.begin(sheetId, 'held');
        this.tracker.settle(sheetId, { kind: 'flagged', reason: 'lost-track', stage: 'held' });
        this.log(`${name}: ${read.error.message}`);
        return;
      }
      data = read.value;
    }
    const format = formatOf(name) ?? 'png';
    this.tracker.begin(sheetId, 'held');
    this.hub.emit({ type: 'sheet-inserted', sheetId });
    this.hub.emit({ type: 'sheet-scanned', sheetId, front: { side: 'front', format, bytes: data } });
  }

  async accept(sheetId: string): Promise<Result<void, DriverError>> {
    return this.decide(sheetId, { kind: 'box' });
  }

  async returnSheet(sheetId: string): Promise<Result<void, DriverError>> {
    return this.decide(sheetId, { kind: 'returned', reason: 'station' });
  }

  private async decide(sheetId: string, outcome: SheetOutcome): Promise<Result<void, DriverError>> {
    if (this.tracker.stageOf(sheetId) !== 'held' || !this.journal) return err({ kind: 'unknown-sheet', sheetId });
    this.journal.append({ op: 'done', sheetId, outcome });
    this.remember(sheetId, outcome);
    const file = this.sheetFiles.get(sheetId);
    const t = file === undefined ? undefined : this.taken.get(file);
    if (t) t.decided = true;
    this.tracker.settle(sheetId, outcome);
    return ok(undefined);
  }

  async status(): Promise<Result<ScannerStatus, DriverError>> {
    return ok({ connected: this.journal !== undefined, feeding: this.stopPolling !== undefined, path: 'idle', coverOpen: false, boxFull: false, openSheets: this.tracker.openSheets(), recent: [...this.recent] });
  }

  /** The journal is the folder's memory of how sheets ended; the last few are reported like a device's. */
  private remember(sheetId: string, outcome: SheetOutcome): void {
    this.recent.push({ sheetId, outcome });
    if (this.recent.length > RECENT_KEPT) this.recent.shift();
  }

  async calibrate(): Promise<Result<CalibrationReport, DriverError>> {
    return err({ kind: 'refused', command: 'calibrate', reason: 'unsupported' });
  }

  async close(): Promise<void> {
    await this.disableFeeding();
    this.journal?.close();
    this.journal = undefined;
  }
}
