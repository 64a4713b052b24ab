import type { ScannerDriver } from '../../firmware-bridge/driver';
import { describeDriverError } from '../../firmware-bridge/driver';
import type { Ledger } from '../ledger/ledger';
import type { Result } from '../../lib/result';
import { assertNever, ok } from '../../lib/result';
import type { SheetFeedback } from './api';
import { captureOf } from './capture';
import type { LedgerMode } from './polls';
import type { SheetJournal } from './sheet-journal';
import type { SideImage } from '../ledger/sheet-detail';
import type { SheetImages } from './sheet-images';
import type { Cue, SheetEffect, SheetEvent, SheetRefusal, SheetState } from './sheet-state';
import { advance, unseen } from './sheet-state';

/** What carrying out a sheet's effects needs from the station. */
export interface SheetRunnerDeps {
  readonly scanner: ScannerDriver;
  readonly journal: SheetJournal;
  readonly calibrationVersion: number;
  ledgerFor(mode: LedgerMode): Ledger;
  /** reads the images into the 'read' or 'read-failed' answer */
  read(mode: LedgerMode, images: readonly Uint8Array[]): Promise<SheetEvent>;
  /** the image store as the retention setting has it (sheet-images.ts) */
  readonly images: SheetImages;
  /** the sheet journal keeps only the lines of ballots still pending (PRIVACY.md) */
  forgetSettledSheets(): void;
  audit(type: 'ballot-rejected' | 'ballot-returned', detail: Readonly<Record<string, string | number>>): void;
  count(counter: 'rejected' | 'returned'): void;
  countCast(mode: LedgerMode, castAsIs: boolean): void;
  /** the cast entry is written: the continuous export writes the ballot's files (before the voter is told) */
  castRecorded(mode: LedgerMode, pendingSeq: number): void;
  shown(): SheetFeedback | null;
  show(feedback: SheetFeedback, cue?: Cue): void;
  attention(text: string): void;
  raiseAlarm(alarm: 'streaks'): void;
  updateFeeding(): Promise<void>;
  log(message: string): void;
}

/**
 * Settled sheets the station remembers, so that a late re-report after a reconnect is not read again: a
 * re-report only follows a reconnect, within a few sheets, so a short memory keeps memory flat all day.
 */
const SETTLED_MEMORY = 1024;

/**
 * The station's one map of sheet ID → state (sheet-state.ts), and the executor of the effects `advance`
 * returns. Runs inside the station's work queue, one event at a time; an effect's answer is handled where the
 * effect ran, before the effects after it.
 */
export class SheetRunner {
  private readonly sheets = new Map<string, SheetState>();
  private settledCount = 0;

  constructor(private readonly d: SheetRunnerDeps) {}

  get(sheetId: string): SheetState {
    return this.sheets.get(sheetId) ?? unseen(sheetId);
  }

  /** The sheet waiting for the voter's decision, if one is. */
  awaitingVoter(): SheetState | undefined {
    for (const s of this.sheets.values()) if (s.step.kind === 'awaiting-voter') return s;
    return undefined;
  }

  /** A jam named a sheet whose fate the scanner has not told yet. */
  anyJammed(): boolean {
    for (const s of this.sheets.values()) if (s.jammed) return true;
    return false;
  }

  /** Sheets whose drop the scanner put off. */
  dropsPutOff(): string[] {
    return [...this.sheets.values()].filter((s) => s.step.kind === 'dropping' && s.step.deferred).map((s) => s.sheetId);
  }

  /** A jam report named the sheet: recorded at once, outside the work queue. */
  jammed(sheetId: string): void {
    this.moveWithoutEffects(sheetId, { type: 'jammed' });
  }

  /** A restart settled the ballot on this sheet: a late report of it is not read again. */
  reconciled(sheetId: string): void {
    this.moveWithoutEffects(sheetId, { type: 'reconciled' });
  }

  private moveWithoutEffects(sheetId: string, event: SheetEvent): void {
    const r = advance(this.get(sheetId), event);
    if (!r.ok) return;
    if (r.value.effects.length > 0) throw new Error(`${event.type} has effects`);
    this.put(r.value.state);
  }

  /** One event of one sheet: the move, then its effects in order. A refusal changes nothing. */
  async run(sheetId: string, event: SheetEvent): Promise<Result<SheetState, SheetRefusal>> {
    const before = this.get(sheetId);
    const r = advance(before, event);
    if (!r.ok) return r;
    this.put(r.value.state);
    this.keepGivenBack(before, event, r.value.state);
    for (const effect of r.value.effects) {
      const answer = await this.perform(effect);
      if (answer === undefined) continue;
      const a = await this.run(sheetId, answer);
      // an answer always fits the state its question left: anything else is a bug, not a voter's doing
      if (!a.ok) throw new Error(`the answer ${answer.type} was refused: ${a.error.message}`);
    }
    return ok(this.get(sheetId));
  }

  /**
   * A sheet given back without a ledger record keeps its scan too (flagged returned or rejected), whatever
   * move gave it back; a recorded sheet's scan is kept by recordPending, before its pending entry.
   */
  private keepGivenBack(before: SheetState, event: SheetEvent, after: SheetState): void {
    const b = before.step;
    const a = after.step;
    const how = a.kind === 'settled' && (a.how === 'rejected' || a.how === 'returned') ? a.how : b.kind === 'awaiting-voter' && a.kind === 'unseen' ? 'returned' : undefined;
    if (how === undefined) return;
    if (b.kind === 'reading') this.d.images.givenBack(b.mode, b.images, how);
    else if (b.kind === 'awaiting-voter') this.d.images.givenBack(b.held.mode, b.held.images, how);
    else if (b.kind === 'unseen' && event.type === 'scanned') this.d.images.givenBack(event.mode, event.images, how);
  }

  private put(state: SheetState): void {
    const before = this.sheets.get(state.sheetId);
    const wasSettled = before?.step.kind === 'settled';
    const isSettled = state.step.kind === 'settled';
    if (state.step.kind === 'unseen' && !state.jammed) this.sheets.delete(state.sheetId);
    else this.sheets.set(state.sheetId, state);
    this.settledCount += (isSettled ? 1 : 0) - (wasSettled ? 1 : 0);
    if (isSettled && !wasSettled && this.settledCount > SETTLED_MEMORY) this.forgetOldestSettled();
  }

  private forgetOldestSettled(): void {
    for (const [id, s] of this.sheets) {
      if (s.step.kind !== 'settled') continue;
      this.sheets.delete(id);
      this.settledCount -= 1;
      return;
    }
  }

  private async perform(e: SheetEffect): Promise<SheetEvent | undefined> {
    const d = this.d;
    switch (e.type) {
      case 'read':
        return d.read(e.mode, e.images);
      case 'audit':
        d.audit(e.event, e.detail);
        return undefined;
      case 'count':
        d.count(e.counter);
        return undefined;
      case 'count-cast':
        d.countCast(e.mode, e.castAsIs);
        return undefined;
      case 'show': {
        const now = d.shown();
        if (e.unlessShown === true && now?.sheetId === e.feedback.sheetId && now.outcome === e.feedback.outcome) return undefined;
        d.show(e.feedback, e.cue);
        return undefined;
      }
      case 'return-sheet': {
        const r = await d.scanner.returnSheet(e.sheetId);
        if (!r.ok) d.log(`could not return sheet ${e.sheetId}: ${describeDriverError(r.error)}`);
        return undefined;
      }
      case 'record-pending':
        return this.recordPending(e);
      case 'ask-drop': {
        const a = await d.scanner.accept(e.sheetId);
        return { type: 'drop-answer', error: a.ok ? null : a.error };
      }
      case 'confirm-cast': {
        const c = d.ledgerFor(e.mode).confirmCast(e.pendingSeq);
        d.forgetSettledSheets();
        if (c.ok) d.castRecorded(e.mode, e.pendingSeq);
        return c.ok ? { type: 'cast-confirmed' } : { type: 'cast-refused', detail: c.error.detail };
      }
      case 'mark-returned':
        d.ledgerFor(e.mode).markReturned(e.pendingSeq, e.reason);
        d.forgetSettledSheets();
        return undefined;
      case 'attention':
        d.attention(e.text);
        return undefined;
      case 'raise-alarm':
        d.raiseAlarm(e.alarm);
        return undefined;
      case 'update-feeding':
        await d.updateFeeding();
        return undefined;
      case 'log':
        d.log(e.message);
        return undefined;
      default:
        return assertNever(e, 'sheet effect');
    }
  }

  /**
   * The scan first (kept where the retention setting says, flushed), then the journal line (after a crash it
   * names the sheet of every pending entry), then the pending entry.
   */
  private recordPending(e: Extract<SheetEffect, { type: 'record-pending' }>): SheetEvent {
    const h = e.held;
    const ledger = this.d.ledgerFor(h.mode);
    let sides: SideImage[];
    try {
      sides = this.d.images.forRecording(h.mode, h.images, h.sheet);
    } catch (err) {
      this.d.log(`the image store could not keep sheet ${h.sheetId}'s scan: ${(err as Error).message}`);
      return { type: 'pending-refused', refusal: { kind: 'capture', message: `the station could not keep the scan: ${(err as Error).message}` } };
    }
    let capture;
    try {
      capture = captureOf(
        { ballotId: e.ballotId, votingId: h.votingId, mode: h.mode, castAsIs: e.castAsIs, images: h.images, calibrationVersion: this.d.calibrationVersion, contests: h.sheet.contests, sheet: { sides, marks: h.sheet.marks } },
        ledger.genesis.election.contests,
      );
    } catch (err) {
      this.d.images.recordingRefused(h.mode, h.images, sides);
      return { type: 'pending-refused', refusal: { kind: 'capture', message: (err as Error).message } };
    }
    this.d.journal.record({ sheet: h.sheetId, ballot: e.ballotId.toUpperCase(), mode: h.mode });
    const p = ledger.appendPending(capture);
    if (!p.ok) {
      this.d.images.recordingRefused(h.mode, h.images, sides);
      this.d.forgetSettledSheets();
      return { type: 'pending-refused', refusal: p.error };
    }
    return { type: 'pending-recorded', pendingSeq: p.value.seq, ballotId: p.value.ballotId };
  }
}
