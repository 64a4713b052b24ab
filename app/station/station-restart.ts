import type { ScannerDriver } from '../../firmware-bridge/driver';
import { describeDriverError } from '../../firmware-bridge/driver';
import type { SheetOutcome } from '../../firmware-bridge/lifecycle';
import type { Ledger, ScannerReport } from '../ledger/ledger';
import type { PollsState } from './api';
import { eventDate } from './event-time';
import type { LedgerMode } from './polls';
import type { SheetJournal } from './sheet-journal';
import { StationStartError } from './start-error';

/** What settling the ballots left pending by a crash needs from the station. */
export interface ReconcileDeps {
  readonly scanner: ScannerDriver;
  readonly journal: SheetJournal;
  /** how long to wait for the scanner to report a pending sheet's fate */
  readonly waitMs: number;
  readonly now: () => Date;
  polls(): PollsState;
  /** the restart settled the ballot on this sheet: a late report of it is not read again */
  sheetSettled(sheetId: string): void;
  countCast(mode: LedgerMode, castAsIs: boolean): void;
  log(message: string): void;
}

/**
 * After a crash or power cut: every pending ballot is settled by what the scanner says of its sheet (the sheet
 * journal names it). A sheet still held is given back (it never dropped); one in motion is waited for; one that
 * finished while the station was down is settled by the scanner's record of its last sheets; one the scanner no
 * longer knows at all is `unknown`: not counted, and the poll worker is told what to look for.
 */
export class RestartReconcile {
  /** sheet-done reports heard while reconciling */
  private readonly heardDone = new Map<string, SheetOutcome>();

  constructor(private readonly d: ReconcileDeps) {}

  heard(sheetId: string, outcome: SheetOutcome): void {
    this.heardDone.set(sheetId, outcome);
  }

  /** Settles the pending ballots of each open ledger; returns what the poll worker is told, ledger by ledger. */
  async run(ledgers: readonly Ledger[]): Promise<string[]> {
    const journal = this.d.journal.all();
    const instructions: string[] = [];
    for (const ledger of ledgers) {
      const left = ledger.unreconciledBallots();
      if (left.length === 0) continue;
      const reports = new Map<number, ScannerReport>();
      for (const b of left) {
        const line = [...journal].reverse().find((l) => l.ballot === b.ballotId.toUpperCase() && l.mode === ledger.mode);
        reports.set(b.pendingSeq, line === undefined ? 'unknown' : await this.askScanner(line.sheet));
        if (line !== undefined) this.d.sheetSettled(line.sheet);
      }
      const r = ledger.reconcile(reports, eventDate(this.d.now(), this.d.polls()));
      if (!r.ok) throw new StationStartError(`${ledger.file}: reconcile refused: ${r.error.kind} ${r.error.pendingSeqs.join(', ')}`);
      for (const o of r.value) {
        instructions.push(o.instruction);
        if (o.decision === 'cast') this.d.countCast(ledger.mode, left.find((b) => b.pendingSeq === o.pendingSeq)?.record.castAsIs === true);
      }
    }
    this.heardDone.clear();
    return instructions;
  }

  private async askScanner(sheetId: string): Promise<ScannerReport> {
    const { scanner, log } = this.d;
    log(`reconciling: asking the scanner about sheet ${sheetId}`);
    const fromOutcome = (o: SheetOutcome): ScannerReport => (o.kind === 'box' ? 'dropped' : o.kind === 'returned' ? 'returned' : 'unknown');
    const deadline = Date.now() + this.d.waitMs;
    const seen = (): SheetOutcome | undefined => this.heardDone.get(sheetId);
    const early = seen();
    if (early !== undefined) return fromOutcome(early);
    const st = await scanner.status();
    const open = st.ok ? st.value.openSheets.find((s) => s.sheetId === sheetId) : undefined;
    if (open === undefined) {
      // finished while no station listened: the scanner's own record of its last sheets says how
      const remembered = st.ok ? st.value.recent.find((r) => r.sheetId === sheetId) : undefined;
      return remembered === undefined ? 'unknown' : fromOutcome(remembered.outcome);
    }
    let giveBack = open.stage === 'held';
    while (Date.now() < deadline) {
      const o = seen();
      if (o !== undefined) return fromOutcome(o);
      if (giveBack) {
        // never told to drop: give it back so the voter can feed it again (asked again while the scanner
        // is still busy re-sending the sheet's images after the reconnect)
        const r = await scanner.returnSheet(sheetId);
        if (r.ok) giveBack = false;
        else log(`could not return ${sheetId} while reconciling yet: ${describeDriverError(r.error)}`);
      }
      await new Promise((r) => setTimeout(r, giveBack ? 200 : 20));
    }
    return 'unknown';
  }
}
