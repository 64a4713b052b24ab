import { toHex } from '../../lib/bytes';
import type { AuditEventType } from '../ledger/events';
import type { DataLayout } from '../ledger/layout';
import type { Ledger } from '../ledger/ledger';
import type { StationKey } from '../ledger/station-key';
import type { ApiResult, CommandOutcome, PollsState, Role } from './api';
import { closeAndSeal } from './ledger-seal';
import { eventFor, takesBallots } from './polls';
import type { SheetRunner } from './sheet-runner';
import type { StationState } from './state-file';
import type { TapeDesk } from './tape-desk';

/**
 * What carrying out a polls move needs from the station. polls.ts decides whether a move is allowed (pure);
 * this module does what an allowed move means: state.json, the audit event, the feeder, the held sheet,
 * the test ledger, the seal, the pause and resumption reports.
 */
export interface StationPollsDeps {
  readonly official: Ledger;
  readonly key: StationKey;
  readonly layout: DataLayout;
  readonly desk: Pick<TapeDesk, 'printPollsReport'>;
  readonly sheets: Pick<SheetRunner, 'awaitingVoter' | 'run'>;
  polls(): PollsState;
  /** the station state with `patch` applied, written to state.json */
  updateState(patch: Partial<StationState>): void;
  /** ballots cast in the official ledger */
  officialCast(): number;
  event(type: AuditEventType, role: Role, detail?: Record<string, string | number | boolean>): void;
  /** entering test mode starts from an empty test ledger (the official ledger is never touched) */
  resetTestLedger(): void;
  testLedgerOpen(): boolean;
  /** the test ledger and its reader shut (test mode is over) */
  closeTestLedger(): Promise<void>;
  updateFeeding(): Promise<void>;
  emitStatus(): void;
}

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
const refused = <T>(code: string, message: string): ApiResult<T> => ({ ok: false, error: { code, message } });

/** The polls moves polls.ts allowed, carried out. Each takes the state polls.ts named as `next`. */
export class StationPolls {
  constructor(private readonly d: StationPollsDeps) {}

  enterTestMode(next: PollsState, role: Role): Promise<ApiResult<CommandOutcome>> {
    this.d.resetTestLedger();
    return this.moveTo(next, role, 'Test mode: the test ledger is empty; feed the test deck.');
  }

  async leaveTestMode(next: PollsState, role: Role): Promise<ApiResult<CommandOutcome>> {
    const moved = await this.moveTo(next, role, 'Test mode is over: print the zero tape of the official ledger, then open the polls.');
    await this.d.closeTestLedger();
    return moved;
  }

  async open(next: PollsState, role: Role): Promise<ApiResult<CommandOutcome>> {
    if (this.d.testLedgerOpen()) await this.d.closeTestLedger();
    return this.moveTo(next, role, 'Polls are open.');
  }

  async pause(next: PollsState, role: Role): Promise<ApiResult<CommandOutcome>> {
    const moved = await this.moveTo(next, role, 'Polls are paused: the scanner takes no ballots.');
    // a pause may be the last thing before the station is switched off: the head is signed now
    const signed = this.d.official.signHead('pause');
    const reported = await this.withPollsReport('polls-paused', role, moved);
    if (signed.secondLocationError !== undefined && reported.ok) return ok({ ...reported.value, message: `${reported.value.message} The signed head could not be written to the second location: ${signed.secondLocationError}` });
    return reported;
  }

  async resume(next: PollsState, role: Role): Promise<ApiResult<CommandOutcome>> {
    return this.withPollsReport('polls-resumed', role, await this.moveTo(next, role, 'Polls are open again.'));
  }

  async close(next: PollsState, role: Role): Promise<ApiResult<CommandOutcome>> {
    const d = this.d;
    d.event('polls-closed', role);
    // the final checkpoint, then the seal: a signed head over every entry, after which no ballot goes in
    const sealed = closeAndSeal(d.official, d.key, false);
    if (!sealed.ok) return refused('ballots-pending', sealed.error);
    const closed = sealed.value.batch as NonNullable<typeof sealed.value.batch>;
    const head = d.official.noteExternalHead(d.layout.heads('official'), `polls closed, batch ${closed.batch}, sealed`);
    d.updateState({ polls: next, closedBatch: { batch: closed.batch, root: toHex(closed.root), treeSize: closed.treeSize, headSeq: head.seq } });
    await d.updateFeeding();
    await this.releaseHeld();
    d.emitStatus();
    const warning = sealed.value.secondLocationError === undefined ? '' : ` The seal could not be written to the second location: ${sealed.value.secondLocationError}`;
    return ok({ message: `Polls are closed: ${d.officialCast()} ballot(s) in batch ${closed.batch}, root ${toHex(closed.root)}, ledger sealed at entry ${sealed.value.seal.seq}, head ${head.seq} ${toHex(head.hash)}.${warning}` });
  }

  /** The polls go to `next`: audit event, state.json, the feeder told, a held sheet given back if need be. */
  async moveTo(next: PollsState, role: Role, message: string): Promise<ApiResult<CommandOutcome>> {
    const d = this.d;
    const from = d.polls();
    const ev = eventFor(from, next);
    if (ev !== undefined) d.event(ev, role, { from, to: next });
    d.updateState({ polls: next });
    await d.updateFeeding();
    await this.releaseHeld();
    d.emitStatus();
    return ok({ message });
  }

  /** Leaving a state that takes ballots: a sheet waiting for the voter goes back unrecorded. */
  private async releaseHeld(): Promise<void> {
    const h = this.d.sheets.awaitingVoter();
    const polls = this.d.polls();
    if (h === undefined || takesBallots(polls)) return;
    await this.d.sheets.run(h.sheetId, { type: 'polls-stopped', polls });
  }

  /** The polls moved: the pause or resumption report follows; the move stands even when the printer fails. */
  private async withPollsReport(kind: 'polls-paused' | 'polls-resumed', role: Role, moved: ApiResult<CommandOutcome>): Promise<ApiResult<CommandOutcome>> {
    if (!moved.ok) return moved;
    const r = await this.d.desk.printPollsReport(kind, role);
    if (!r.ok) return ok({ message: `${moved.value.message} The ${kind} report was not printed: ${r.error.message}. Reprint it from this screen.` });
    return ok({ message: `${moved.value.message} ${r.value.message}`, ...(r.value.file === undefined ? {} : { file: r.value.file }) });
  }
}
