/**
 * The station's view of one sheet, as a pure function: scanned → read → (held for the voter) → recorded pending
 * in the ledger → dropping → cast, or given back at any of those steps. `advance(state, event)` returns the next
 * state and the effects to carry out, in order (ledger writes, screens, the scanner); it does nothing itself. An
 * effect that has an answer (reading the sheet, writing the pending entry, asking the scanner to drop it,
 * confirming the cast) is fed back as the next event, so a move the station did not expect (a second cast of
 * the same sheet, a voter's choice for a sheet no longer held) is a refusal value with its reason, not a
 * surprise. The paper's own life in the scanner is firmware-bridge/lifecycle.ts; this is the station's.
 */
import type { SheetReading } from '../../ballots/read/sheet';
import type { DriverError } from '../../firmware-bridge/driver';
import { describeDriverError } from '../../firmware-bridge/driver';
import type { SheetOutcome } from '../../firmware-bridge/lifecycle';
import type { AppendRefusal } from '../ledger/ledger';
import type { Result } from '../../lib/result';
import { assertNever, err, ok } from '../../lib/result';
import type { FeedbackReason, PollsState, SheetFeedback } from './api';
import type { LedgerMode } from './polls';
import type { PolicyDecision } from './policy';
import { feedbackReason } from './policy';

/** A read sheet the scanner holds while the station or the voter decides. */
export interface HeldSheet {
  readonly sheetId: string;
  readonly mode: LedgerMode;
  readonly sheet: SheetReading;
  readonly votingId: string;
  readonly images: readonly Uint8Array[];
  readonly reasons: readonly FeedbackReason[];
}

/** A ballot recorded as pending whose drop the scanner has yet to confirm. */
export interface InFlight {
  readonly sheetId: string;
  readonly mode: LedgerMode;
  readonly pendingSeq: number;
  readonly ballotId: string;
  readonly castAsIs: boolean;
}

/** How the station finished with a sheet: it is not read again when the scanner reports it once more. */
export type Settled =
  /** given back unrecorded: unreadable, refused by policy or by the ledger, or no ballots taken now */
  | 'rejected'
  /** given back to the voter (their choice, the scanner's, or the polls stopped), no ballot counted */
  | 'returned'
  /** in the box and confirmed cast in the ledger */
  | 'cast'
  /** in the box, but the ledger refused the confirmation (logged; the restart's reconcile settles it) */
  | 'cast-refused'
  /** the scanner stopped with the ballot in its path: not counted, the poll worker told what to look for */
  | 'not-counted'
  /** settled by the reconcile after a restart, from the scanner's word */
  | 'reconciled';

export type SheetStep =
  /** the station knows nothing of it (yet), or no longer needs to: a jam may still name it */
  | { readonly kind: 'unseen' }
  | { readonly kind: 'reading'; readonly mode: LedgerMode; readonly images: readonly Uint8Array[] }
  | { readonly kind: 'awaiting-voter'; readonly held: HeldSheet }
  /** the journal line and the pending entry are being written */
  | { readonly kind: 'recording'; readonly held: HeldSheet; readonly castAsIs: boolean }
  /** pending in the ledger; `deferred`: the scanner put the drop off (cover open, jam, link down) */
  | { readonly kind: 'dropping'; readonly flight: InFlight; readonly deferred: boolean }
  /** in the box by the scanner's word; the cast entry is being written */
  | { readonly kind: 'confirming'; readonly flight: InFlight }
  | { readonly kind: 'settled'; readonly how: Settled };

export type SheetStepKind = SheetStep['kind'];

export interface SheetState {
  readonly sheetId: string;
  readonly step: SheetStep;
  /** a jam report named this sheet: the station feeds no sheet until the scanner says what became of it */
  readonly jammed: boolean;
}

export function unseen(sheetId: string): SheetState {
  return { sheetId, step: { kind: 'unseen' }, jammed: false };
}

/** The scanner's answer to a drop: null when it took the command. */
export type DropAnswer = DriverError | null;

/** Why the ledger did not take the pending entry (or the reading could not even be made an entry). */
export type PendingRefusal = AppendRefusal | { readonly kind: 'capture'; readonly message: string };

export type SheetEvent =
  /** a jam report named the sheet */
  | { readonly type: 'jammed' }
  /** the scanner sent the sheet's images; `refusal`: why the station takes no sheet now (null: it does) */
  | { readonly type: 'scanned'; readonly mode: LedgerMode; readonly images: readonly Uint8Array[]; readonly refusal: string | null }
  /** answer to 'read': the combined reading, the policy's decision, whether it completes a run of streaks */
  | { readonly type: 'read'; readonly sheet: SheetReading; readonly decision: PolicyDecision; readonly votingId: string; readonly streakAlarm: boolean }
  | { readonly type: 'read-failed'; readonly message: string }
  | { readonly type: 'voter-decision'; readonly decision: 'cast-as-is' | 'return' }
  /** the polls left a state that takes ballots */
  | { readonly type: 'polls-stopped'; readonly polls: PollsState }
  /** answers to 'record-pending' */
  | { readonly type: 'pending-recorded'; readonly pendingSeq: number; readonly ballotId: string }
  | { readonly type: 'pending-refused'; readonly refusal: PendingRefusal }
  /** answer to 'ask-drop' */
  | { readonly type: 'drop-answer'; readonly error: DropAnswer }
  /** the scanner is ready again (cover closed, jam cleared, reconnected): ask again for a put-off drop */
  | { readonly type: 'retry-drop' }
  /** the scanner's last word on the sheet */
  | { readonly type: 'done'; readonly outcome: SheetOutcome }
  /** answers to 'confirm-cast' */
  | { readonly type: 'cast-confirmed' }
  | { readonly type: 'cast-refused'; readonly detail: string }
  /** a restart settled this sheet's pending ballot from the scanner's word */
  | { readonly type: 'reconciled' };

export type SheetEventType = SheetEvent['type'];

export type Cue = 'counted' | 'returned' | 'rejected' | 'alarm';

export type SheetEffect =
  /** read the images (answer: 'read' or 'read-failed') */
  | { readonly type: 'read'; readonly sheetId: string; readonly mode: LedgerMode; readonly images: readonly Uint8Array[] }
  /** an audit event in the official ledger, role 'system' */
  | { readonly type: 'audit'; readonly event: 'ballot-rejected' | 'ballot-returned'; readonly detail: Readonly<Record<string, string | number>> }
  /** one more sheet rejected or returned (state.json) */
  | { readonly type: 'count'; readonly counter: 'rejected' | 'returned' }
  /** one more ballot cast in `mode` (the status counts) */
  | { readonly type: 'count-cast'; readonly mode: LedgerMode; readonly castAsIs: boolean }
  /** tell the screens; `unlessShown`: not again when they already show this sheet so */
  | { readonly type: 'show'; readonly feedback: SheetFeedback; readonly cue?: Cue; readonly unlessShown?: true }
  | { readonly type: 'return-sheet'; readonly sheetId: string }
  /** the sheet journal line, then the pending entry (answer: 'pending-recorded' or 'pending-refused') */
  | { readonly type: 'record-pending'; readonly held: HeldSheet; readonly ballotId: string; readonly castAsIs: boolean }
  /** ask the scanner to drop the sheet into the box (answer: 'drop-answer') */
  | { readonly type: 'ask-drop'; readonly sheetId: string }
  /** the pending entry becomes cast (answer: 'cast-confirmed' or 'cast-refused') */
  | { readonly type: 'confirm-cast'; readonly mode: LedgerMode; readonly pendingSeq: number }
  /** the pending entry is marked returned: never counted */
  | { readonly type: 'mark-returned'; readonly mode: LedgerMode; readonly pendingSeq: number; readonly reason: string }
  /** a message that stands on the poll worker's screen until cleared; no sheet is taken meanwhile */
  | { readonly type: 'attention'; readonly text: string }
  | { readonly type: 'raise-alarm'; readonly alarm: 'streaks' }
  /** tell the feeder what the station wants now */
  | { readonly type: 'update-feeding' }
  | { readonly type: 'log'; readonly message: string };

export interface SheetRefusal {
  readonly sheetId: string;
  readonly from: SheetStepKind;
  readonly event: SheetEventType;
  /** 'already-seen': a re-report of a sheet the station read already (after a reconnect); the rest are bugs or races */
  readonly code: 'already-seen' | 'not-waiting' | 'out-of-order';
  readonly message: string;
}

export interface Move {
  readonly state: SheetState;
  readonly effects: readonly SheetEffect[];
}

function refuse(state: SheetState, event: SheetEvent, code: SheetRefusal['code'], why: string): Result<Move, SheetRefusal> {
  return err({ sheetId: state.sheetId, from: state.step.kind, event: event.type, code, message: `sheet ${state.sheetId} is ${describeStep(state.step)}: ${why}` });
}

export function describeStep(step: SheetStep): string {
  switch (step.kind) {
    case 'unseen':
      return 'not known to the station';
    case 'reading':
      return 'being read';
    case 'awaiting-voter':
      return "waiting for the voter's decision";
    case 'recording':
      return 'being recorded pending in the ledger';
    case 'dropping':
      return step.deferred ? 'pending in the ledger, its drop put off by the scanner' : 'pending in the ledger, dropping into the box';
    case 'confirming':
      return 'in the box, its cast being recorded';
    case 'settled':
      return `settled (${step.how})`;
    default:
      return assertNever(step, 'sheet step');
  }
}

const to = (state: SheetState, step: SheetStep, effects: readonly SheetEffect[] = []): Result<Move, SheetRefusal> => ok({ state: { ...state, step }, effects });

/**
 * A sheet that never got a ledger record goes back to the voter. A counted rejection is logged as a
 * 'ballot-rejected' event (unless the caller logged it already, with more detail), so the results tape counts
 * from the ledger what the station's counter counts.
 */
function giveBack(sheetId: string, outcome: 'rejected' | 'returned', reasons: readonly FeedbackReason[], counts: boolean, logged = false): SheetEffect[] {
  const effects: SheetEffect[] = [];
  if (counts && outcome === 'rejected' && !logged) effects.push({ type: 'audit', event: 'ballot-rejected', detail: { reason: reasons.map((r) => r.code).join(',').slice(0, 200) || 'unknown' } });
  if (counts) effects.push({ type: 'count', counter: outcome });
  effects.push({ type: 'show', feedback: { sheetId, outcome, reasons, canCastAsIs: false }, cue: outcome === 'rejected' ? 'rejected' : 'returned' });
  effects.push({ type: 'return-sheet', sheetId });
  return effects;
}

function rejected(state: SheetState, reasons: readonly FeedbackReason[], counts: boolean, logged = false): Result<Move, SheetRefusal> {
  return to(state, { kind: 'settled', how: 'rejected' }, giveBack(state.sheetId, 'rejected', reasons, counts, logged));
}

/** A sheet the voter or the policy wants counted: its pending entry first, the drop once that is written. */
function cast(state: SheetState, held: HeldSheet, castAsIs: boolean): Result<Move, SheetRefusal> {
  const ballotId = held.sheet.ballotId;
  if (ballotId === undefined) return rejected(state, [feedbackReason('record-refused', [], 'the reading has no ballot ID')], true);
  return to(state, { kind: 'recording', held, castAsIs }, [{ type: 'record-pending', held, ballotId, castAsIs }]);
}

function onRead(state: SheetState, event: Extract<SheetEvent, { type: 'read' }>, mode: LedgerMode, images: readonly Uint8Array[]): Result<Move, SheetRefusal> {
  const { sheet, decision } = event;
  switch (decision.kind) {
    case 'reject': {
      // stop the feeder before the sheet goes back, or it pulls in the next voter's sheet only to bounce it
      const alarm: SheetEffect[] = event.streakAlarm ? [{ type: 'raise-alarm', alarm: 'streaks' }, { type: 'update-feeding' }] : [];
      const logged: SheetEffect = { type: 'audit', event: 'ballot-rejected', detail: { reason: sheet.reasons.join(',').slice(0, 200) } };
      return to(state, { kind: 'settled', how: 'rejected' }, [...alarm, logged, ...giveBack(state.sheetId, 'rejected', decision.reasons, true, true)]);
    }
    case 'hold': {
      const held: HeldSheet = { sheetId: state.sheetId, mode, sheet, votingId: event.votingId, images, reasons: decision.reasons };
      return to(state, { kind: 'awaiting-voter', held }, [{ type: 'show', feedback: { sheetId: state.sheetId, outcome: 'awaiting-voter', reasons: decision.reasons, canCastAsIs: true }, cue: 'returned' }]);
    }
    case 'accept':
      return cast(state, { sheetId: state.sheetId, mode, sheet, votingId: event.votingId, images, reasons: [] }, false);
    default:
      return assertNever(decision, 'policy decision');
  }
}

function onPendingRefused(state: SheetState, refusal: PendingRefusal): Result<Move, SheetRefusal> {
  switch (refusal.kind) {
    case 'capture':
      return rejected(state, [feedbackReason('record-refused', [], refusal.message)], true);
    case 'duplicate': {
      const logged: SheetEffect = { type: 'audit', event: 'ballot-rejected', detail: { reason: 'duplicate', firstSeq: refusal.firstSeq } };
      const back = giveBack(state.sheetId, 'rejected', [feedbackReason('duplicate', [], `Ballot ${refusal.ballotId} was counted at ledger entry ${refusal.firstSeq}.`)], true, true);
      return to(state, { kind: 'settled', how: 'rejected' }, [logged, ...back]);
    }
    case 'already-pending':
      return rejected(state, [feedbackReason('duplicate', [], `Ballot ${refusal.ballotId} is already pending at ledger entry ${refusal.pendingSeq}.`)], true);
    case 'wrong-mode':
      return rejected(state, [feedbackReason('record-refused', [], `a ${refusal.ballotMode} ballot for the ${refusal.ledgerMode} ledger`)], true);
    case 'invalid':
      return rejected(state, [feedbackReason('record-refused', [], refusal.detail)], true);
    case 'unreconciled':
      return rejected(state, [feedbackReason('not-accepting', [], `entries ${refusal.pendingSeqs.join(', ')} are not reconciled`)], false);
    case 'polls-not-open':
      return rejected(state, [feedbackReason('not-accepting', [], `The polls are ${refusal.polls}.`)], false);
    default:
      return assertNever(refusal, 'append refusal');
  }
}

/** The drop is only put off by what the scanner recovers from by itself (or a poll worker's hand on the cover). */
function dropPutOff(e: DriverError): boolean {
  return e.kind === 'disconnected' || e.kind === 'timeout' || e.kind === 'io' || e.kind === 'busy' || (e.kind === 'refused' && (e.reason === 'cover-open' || e.reason === 'jammed'));
}

/**
 * The scanner's answer to a drop. Put off: the paper's fate is the scanner's to tell (the drop is asked again,
 * or its sheet-done settles the entry); the voter's choice is made, so a cast-as-is button must not stay on
 * screen. Refused for good (a full box): the entry is marked returned and the ballot given back.
 */
function onDropAnswer(state: SheetState, flight: InFlight, e: DropAnswer): Result<Move, SheetRefusal> {
  if (e === null) return to(state, { kind: 'dropping', flight, deferred: false });
  if (dropPutOff(e)) {
    return to(state, { kind: 'dropping', flight, deferred: true }, [
      { type: 'log', message: `accept ${flight.sheetId}: ${describeDriverError(e)}; asking again when the scanner is ready` },
      { type: 'show', feedback: { sheetId: flight.sheetId, outcome: 'dropping', reasons: [], canCastAsIs: false }, unlessShown: true },
    ]);
  }
  const reason = e.kind === 'refused' ? `scanner-refused:${e.reason}` : `scanner-refused:${e.kind}`;
  return to(state, { kind: 'settled', how: 'returned' }, [
    { type: 'mark-returned', mode: flight.mode, pendingSeq: flight.pendingSeq, reason },
    ...giveBack(flight.sheetId, 'returned', [feedbackReason('scanner-refused', [], describeDriverError(e))], true),
  ]);
}

/** The scanner's last word on a ballot recorded pending: only a drop into the box counts it (invariant 1). */
function onFlightDone(state: SheetState, flight: InFlight, outcome: SheetOutcome): Result<Move, SheetRefusal> {
  const { sheetId } = flight;
  switch (outcome.kind) {
    case 'box':
      return to(state, { kind: 'confirming', flight }, [{ type: 'confirm-cast', mode: flight.mode, pendingSeq: flight.pendingSeq }]);
    case 'returned':
      return to(state, { kind: 'settled', how: 'returned' }, [
        { type: 'mark-returned', mode: flight.mode, pendingSeq: flight.pendingSeq, reason: `scanner-returned:${outcome.reason}` },
        { type: 'count', counter: 'returned' },
        { type: 'show', feedback: { sheetId, outcome: 'returned', reasons: [feedbackReason('scanner-returned', [], `(${outcome.reason})`)], canCastAsIs: false }, cue: 'returned' },
      ]);
    case 'flagged':
      // the paper may or may not have reached the box: it counts only on a confirmed drop
      return to(state, { kind: 'settled', how: 'not-counted' }, [
        { type: 'mark-returned', mode: flight.mode, pendingSeq: flight.pendingSeq, reason: `scanner-stopped:${outcome.reason}` },
        // not counted, recorded as returned: the staff screen's count agrees with the ledger and the tape
        { type: 'count', counter: 'returned' },
        {
          type: 'attention',
          text: `Ballot ${flight.ballotId} was not counted: the scanner stopped (${outcome.reason}) while the ballot was ${outcome.stage}. Clear the paper path: if the ballot is there, have the voter feed it again; if it is not, call the captain to note ballot ${flight.ballotId} on the results tape as possibly in the box uncounted.`,
        },
        { type: 'show', feedback: { sheetId, outcome: 'returned', reasons: [feedbackReason('scanner-stopped', [], `(${outcome.reason} while ${outcome.stage})`)], canCastAsIs: false }, cue: 'alarm' },
        { type: 'update-feeding' },
      ]);
    default:
      return assertNever(outcome, 'sheet outcome');
  }
}

function onDone(state: SheetState, event: Extract<SheetEvent, { type: 'done' }>): Result<Move, SheetRefusal> {
  const { outcome } = event;
  const step = state.step;
  switch (step.kind) {
    case 'dropping':
      return onFlightDone(state, step.flight, outcome);
    case 'awaiting-voter':
      // the scanner gave a held sheet back on its own (a reconnect lost its images); the voter never chose
      return to(state, { kind: 'unseen' }, [{ type: 'show', feedback: { sheetId: state.sheetId, outcome: 'returned', reasons: [feedbackReason('scanner-returned')], canCastAsIs: false }, cue: 'returned' }]);
    case 'unseen': {
      // paper the station never read (two sheets at once, images lost) came back: the voter has it in hand and
      // must be told to feed it again. Anything else of such a sheet is the scanner's business alone.
      if (outcome.kind !== 'returned') return to(state, step);
      const double = outcome.reason === 'double-sheet';
      const reason = double ? feedbackReason('double-sheet') : feedbackReason('scanner-returned', [], `(${outcome.reason})`);
      return to(state, { kind: 'settled', how: 'returned' }, [
        { type: 'audit', event: 'ballot-returned', detail: { reason: double ? 'double-sheet' : 'unread' } },
        { type: 'count', counter: 'returned' },
        { type: 'show', feedback: { sheetId: state.sheetId, outcome: 'returned', reasons: [reason], canCastAsIs: false }, cue: 'returned' },
      ]);
    }
    case 'settled':
      return to(state, step);
    case 'reading':
    case 'recording':
    case 'confirming':
      return refuse(state, event, 'out-of-order', 'the scanner cannot have finished with it before the station answered');
    default:
      return assertNever(step, 'sheet step');
  }
}

/** One move of one sheet. Pure: the effects are carried out by the caller (station/sheet-runner.ts), in order. */
export function advance(state: SheetState, event: SheetEvent): Result<Move, SheetRefusal> {
  const step = state.step;
  switch (event.type) {
    case 'jammed':
      return ok({ state: { ...state, jammed: true }, effects: [] });
    case 'scanned':
      if (step.kind !== 'unseen') return refuse(state, event, 'already-seen', 'a scanner report of a sheet the station read already is not read again');
      if (event.refusal !== null) return rejected(state, [feedbackReason('not-accepting', [], event.refusal)], false);
      return to(state, { kind: 'reading', mode: event.mode, images: event.images }, [{ type: 'read', sheetId: state.sheetId, mode: event.mode, images: event.images }]);
    case 'read':
    case 'read-failed': {
      if (step.kind !== 'reading') return refuse(state, event, 'out-of-order', 'only a sheet being read gets a reading');
      if (event.type === 'read-failed') return rejected(state, [feedbackReason('read-failed', [], event.message)], true);
      return onRead(state, event, step.mode, step.images);
    }
    case 'voter-decision': {
      if (step.kind !== 'awaiting-voter') return refuse(state, event, 'not-waiting', 'only a sheet waiting for the voter takes their decision');
      const h = step.held;
      if (event.decision === 'cast-as-is') return cast(state, h, true);
      // no ballot record by design (the ballot may come back marked anew), but the sheet's return is logged
      const logged: SheetEffect = { type: 'audit', event: 'ballot-returned', detail: { reason: 'voter-returned', warning: h.reasons.map((r) => r.code).join(',').slice(0, 200) } };
      return to(state, { kind: 'settled', how: 'returned' }, [logged, ...giveBack(h.sheetId, 'returned', h.reasons, true)]);
    }
    case 'polls-stopped':
      if (step.kind !== 'awaiting-voter') return refuse(state, event, 'not-waiting', 'only a sheet waiting for the voter is given back when the polls stop');
      // not counted as returned: the voter never chose
      return to(state, { kind: 'settled', how: 'returned' }, giveBack(state.sheetId, 'returned', [feedbackReason('not-accepting', [], `The polls are ${event.polls}.`)], false));
    case 'pending-recorded':
    case 'pending-refused': {
      if (step.kind !== 'recording') return refuse(state, event, 'out-of-order', 'no pending entry is being written for it');
      if (event.type === 'pending-refused') return onPendingRefused(state, event.refusal);
      const flight: InFlight = { sheetId: state.sheetId, mode: step.held.mode, pendingSeq: event.pendingSeq, ballotId: event.ballotId, castAsIs: step.castAsIs };
      return to(state, { kind: 'dropping', flight, deferred: false }, [{ type: 'ask-drop', sheetId: state.sheetId }]);
    }
    case 'drop-answer':
      if (step.kind !== 'dropping') return refuse(state, event, 'out-of-order', 'no drop was asked for it');
      return onDropAnswer(state, step.flight, event.error);
    case 'retry-drop':
      if (step.kind !== 'dropping' || !step.deferred) return refuse(state, event, 'out-of-order', 'only a drop the scanner put off is asked again');
      return to(state, step, [{ type: 'ask-drop', sheetId: state.sheetId }]);
    case 'done': {
      const moved = onDone({ ...state, jammed: false }, event);
      // a jammed sheet's fate is known: the feeder may start again (after the sheet's own effects)
      if (!moved.ok || !state.jammed) return moved;
      return ok({ state: moved.value.state, effects: [...moved.value.effects, { type: 'update-feeding' }] });
    }
    case 'cast-confirmed':
    case 'cast-refused': {
      if (step.kind !== 'confirming') return refuse(state, event, 'out-of-order', 'no cast entry is being written for it');
      const f = step.flight;
      if (event.type === 'cast-refused') return to(state, { kind: 'settled', how: 'cast-refused' }, [{ type: 'log', message: `sheet ${f.sheetId}: ${event.detail}` }]);
      return to(state, { kind: 'settled', how: 'cast' }, [
        { type: 'count-cast', mode: f.mode, castAsIs: f.castAsIs },
        { type: 'show', feedback: { sheetId: f.sheetId, outcome: 'counted', reasons: [], canCastAsIs: false }, cue: 'counted' },
      ]);
    }
    case 'reconciled':
      if (step.kind === 'settled') return to(state, step);
      if (step.kind !== 'unseen') return refuse(state, event, 'out-of-order', 'a restart reconciles only sheets this run of the station has not taken up');
      return to(state, { kind: 'settled', how: 'reconciled' });
    default:
      return assertNever(event, 'sheet event');
  }
}
