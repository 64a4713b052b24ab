/**
 * The life of one sheet of paper in the scanner: idle → feeding → scanning → held → accepting / returning → done.
 * Both the firmware simulator (the paper) and the drivers (their picture of the paper) move sheets only through
 * advance(), so an impossible move (accepting a sheet that was never scanned) is an error value, not a surprise.
 */
import { assertNever, err, ok, type Result } from '../lib/result';

export type SheetStage = 'feeding' | 'scanning' | 'held' | 'accepting' | 'returning';
export const SHEET_STAGES: readonly SheetStage[] = ['feeding', 'scanning', 'held', 'accepting', 'returning'];

/** Why a sheet went back to the voter. */
export type ReturnReason = 'station' | 'double-sheet' | 'scan-lost';
/** Why a sheet left the automatic path and now needs the poll worker's hands. */
export type FlagReason = 'jam' | 'cover-open' | 'power-loss' | 'lost-track';

export type SheetOutcome =
  | { readonly kind: 'box' }
  | { readonly kind: 'returned'; readonly reason: ReturnReason }
  | { readonly kind: 'flagged'; readonly reason: FlagReason; readonly stage: SheetStage };

export type SheetState = { readonly stage: SheetStage } | { readonly stage: 'done'; readonly outcome: SheetOutcome };

export type SheetInput =
  | { readonly type: 'scan-started' }
  | { readonly type: 'scanned' }
  | { readonly type: 'accept' }
  | { readonly type: 'return'; readonly reason: ReturnReason }
  | { readonly type: 'dropped-in-box' }
  | { readonly type: 'taken-by-voter' }
  | { readonly type: 'stopped'; readonly reason: FlagReason };

export interface LifecycleError {
  readonly from: SheetState['stage'];
  readonly input: SheetInput['type'];
  readonly message: string;
}

function refuse(state: SheetState, input: SheetInput): Result<SheetState, LifecycleError> {
  return err({ from: state.stage, input: input.type, message: `a sheet that is ${state.stage} cannot take "${input.type}"` });
}

export function advance(state: SheetState, input: SheetInput): Result<SheetState, LifecycleError> {
  if (state.stage === 'done') return refuse(state, input);
  switch (input.type) {
    case 'scan-started':
      return state.stage === 'feeding' ? ok({ stage: 'scanning' }) : refuse(state, input);
    case 'scanned':
      return state.stage === 'scanning' ? ok({ stage: 'held' }) : refuse(state, input);
    case 'accept':
      return state.stage === 'held' ? ok({ stage: 'accepting' }) : refuse(state, input);
    case 'return':
      // A double sheet is caught by the feeder and reversed before it reaches the scan head.
      if (state.stage === 'held' || (state.stage === 'feeding' && input.reason === 'double-sheet')) return ok({ stage: 'returning' });
      return refuse(state, input);
    case 'dropped-in-box':
      return state.stage === 'accepting' ? ok({ stage: 'done', outcome: { kind: 'box' } }) : refuse(state, input);
    case 'taken-by-voter':
      return state.stage === 'returning' ? ok({ stage: 'done', outcome: { kind: 'returned', reason: 'station' } }) : refuse(state, input);
    case 'stopped':
      return ok({ stage: 'done', outcome: { kind: 'flagged', reason: input.reason, stage: state.stage } });
    default:
      return assertNever(input, 'sheet input');
  }
}

/** Like advance(), but finishing a return keeps the reason the return was started for. */
export class SheetLifecycle {
  private current: SheetState = { stage: 'feeding' };
  private returnReason: ReturnReason = 'station';

  constructor(readonly sheetId: string, initial: SheetState = { stage: 'feeding' }) {
    this.current = initial;
  }

  get state(): SheetState {
    return this.current;
  }

  apply(input: SheetInput): Result<SheetState, LifecycleError> {
    const next = advance(this.current, input);
    if (!next.ok) return next;
    if (input.type === 'return') this.returnReason = input.reason;
    let state = next.value;
    if (input.type === 'taken-by-voter' && state.stage === 'done') state = { stage: 'done', outcome: { kind: 'returned', reason: this.returnReason } };
    this.current = state;
    return ok(state);
  }
}

export function describeOutcome(o: SheetOutcome): string {
  switch (o.kind) {
    case 'box':
      return 'in the ballot box';
    case 'returned':
      return `returned to the voter (${o.reason})`;
    case 'flagged':
      return `needs the poll worker (${o.reason} while ${o.stage})`;
    default:
      return assertNever(o, 'sheet outcome');
  }
}
