/**
 * The driver-side book of sheets: every sheet a driver has heard of, its lifecycle, and the guarantee that
 * sheet-done is reported once per sheet, whatever retransmissions, reconnects or late device reports say.
 */
import { err, type Result } from '../lib/result';
import { SheetLifecycle, type SheetInput, type SheetOutcome, type SheetStage, type SheetState, type LifecycleError } from './lifecycle';

export interface TrackerLog {
  (message: string): void;
}

export class SheetTracker {
  private readonly open = new Map<string, SheetLifecycle>();
  /** Finished sheet IDs; bounded, oldest forgotten first (the device never reuses an ID). */
  private readonly done = new Map<string, SheetOutcome>();

  constructor(
    private readonly onDone: (sheetId: string, outcome: SheetOutcome) => void,
    private readonly log: TrackerLog = () => undefined,
    private readonly rememberDone = 10_000,
  ) {}

  has(sheetId: string): boolean {
    return this.open.has(sheetId);
  }

  isDone(sheetId: string): boolean {
    return this.done.has(sheetId);
  }

  outcomeOf(sheetId: string): SheetOutcome | undefined {
    return this.done.get(sheetId);
  }

  stageOf(sheetId: string): SheetState['stage'] | undefined {
    return this.open.get(sheetId)?.state.stage ?? (this.done.has(sheetId) ? 'done' : undefined);
  }

  /** Starts tracking a sheet at a stage (a sheet first heard of after a reconnect starts where the device says). */
  begin(sheetId: string, stage: SheetStage = 'feeding'): boolean {
    if (this.open.has(sheetId) || this.done.has(sheetId)) return false;
    this.open.set(sheetId, new SheetLifecycle(sheetId, { stage }));
    return true;
  }

  apply(sheetId: string, input: SheetInput): Result<SheetState, LifecycleError | { readonly unknown: string }> {
    const sheet = this.open.get(sheetId);
    if (!sheet) return err({ unknown: sheetId });
    const next = sheet.apply(input);
    if (!next.ok) {
      this.log(`sheet ${sheetId}: ${next.error.message}`);
      return next;
    }
    if (next.value.stage === 'done') this.finish(sheetId, next.value.outcome);
    return next;
  }

  /** Records a final outcome that the device reported directly (e.g. from its recent-sheets log). */
  settle(sheetId: string, outcome: SheetOutcome): boolean {
    if (this.done.has(sheetId)) {
      this.log(`sheet ${sheetId}: second report of an outcome ignored`);
      return false;
    }
    this.finish(sheetId, outcome);
    return true;
  }

  private finish(sheetId: string, outcome: SheetOutcome): void {
    this.open.delete(sheetId);
    this.done.set(sheetId, outcome);
    if (this.done.size > this.rememberDone) {
      const oldest = this.done.keys().next();
      if (!oldest.done) this.done.delete(oldest.value);
    }
    this.onDone(sheetId, outcome);
  }

  openSheets(): { sheetId: string; stage: SheetStage }[] {
    const out: { sheetId: string; stage: SheetStage }[] = [];
    for (const [sheetId, s] of this.open) if (s.state.stage !== 'done') out.push({ sheetId, stage: s.state.stage });
    return out;
  }
}


