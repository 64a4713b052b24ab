import type { PageReading } from '../../ballots/read/interpret';
import { BallotReader } from '../../ballots/read/interpret';
import { ReaderPool } from '../../ballots/read/pool';
import { combineSheet } from '../../ballots/read/sheet';
import type { ElectionPackage } from './election-package';
import type { LedgerMode } from './polls';
import { decideSheet } from './policy';
import type { SheetEvent } from './sheet-state';

interface Reader {
  read(bytes: Uint8Array): Promise<PageReading>;
  close(): Promise<void>;
}

export interface SheetReadingOptions {
  /** ballots/read/pool.ts ReaderPool size; 0 = read in the station's thread */
  readonly readerWorkers: number;
  readonly returnUndervotes: boolean;
  /** streaked sheets in a row that raise the streaks alarm */
  readonly streakAlarmAfter: number;
}

/**
 * Reads a scanned sheet's pages (one reader per ledger mode, made on first use) into the sheet's 'read'
 * answer: the combined reading, the policy's decision, and whether it completes a run of streaked sheets.
 */
export class SheetReader {
  private readonly readers = new Map<LedgerMode, Reader>();
  /** sheets rejected for streaks one after another */
  private streakRun = 0;

  constructor(
    private readonly pkg: ElectionPackage,
    private readonly opts: SheetReadingOptions,
  ) {}

  async read(mode: LedgerMode, images: readonly Uint8Array[]): Promise<SheetEvent> {
    let pages: PageReading[];
    try {
      pages = await Promise.all(images.map((b) => this.reader(mode).read(b)));
    } catch (e) {
      return { type: 'read-failed', message: (e as Error).message };
    }
    const sheet = combineSheet(pages);
    const decision = decideSheet(sheet);
    this.streakRun = sheet.reasons.includes('scanner-streaks') ? this.streakRun + 1 : 0;
    const votingId = pages.find((p) => p.votingId !== undefined)?.votingId ?? '';
    return { type: 'read', sheet, decision, votingId, streakAlarm: this.streakRun >= this.opts.streakAlarmAfter };
  }

  /** A poll worker cleaned the glass and cleared the alarm: the run starts over. */
  resetStreaks(): void {
    this.streakRun = 0;
  }

  async closeReader(mode: LedgerMode): Promise<void> {
    const r = this.readers.get(mode);
    this.readers.delete(mode);
    await r?.close();
  }

  async close(): Promise<void> {
    for (const mode of [...this.readers.keys()]) await this.closeReader(mode);
  }

  private reader(mode: LedgerMode): Reader {
    let r = this.readers.get(mode);
    if (r === undefined) {
      const setup = {
        election: this.pkg.election,
        publicKeys: this.pkg.publicKeys,
        profile: this.pkg.profile,
        station: { mode, precinctId: this.pkg.precinct },
        returnUndervotes: this.opts.returnUndervotes,
      };
      if (this.opts.readerWorkers > 0) {
        const pool = new ReaderPool(setup, this.opts.readerWorkers);
        r = { read: (b) => pool.read(b), close: () => pool.close() };
      } else {
        const reader = new BallotReader(setup);
        r = { read: (b) => reader.readFile(b), close: async () => undefined };
      }
      this.readers.set(mode, r);
    }
    return r;
  }
}
