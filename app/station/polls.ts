import type { Result } from '../../lib/result';
import { assertNever, err, ok } from '../../lib/result';
import type { PollsState, Refusal, Role, StationCommand } from './api';

/**
 * The polls lifecycle as a pure function: the service asks `decide` before it acts and persists the state it
 * returns. unconfigured → configured → testing (logic-and-accuracy, test ledger) → open ⇄ paused → closed →
 * published. Every command of the API is decided here, so one table says who may do what, and when.
 */

export type LedgerMode = 'official' | 'test';

export function modeOf(state: PollsState): LedgerMode {
  switch (state) {
    case 'testing':
      return 'test';
    case 'unconfigured':
    case 'configured':
    case 'open':
    case 'paused':
    case 'closed':
    case 'published':
      return 'official';
    default:
      return assertNever(state, 'polls state');
  }
}

/** What the guard needs to know about the ledgers; the service reads it from them. */
export interface PollsFacts {
  /** official ballots cast (or pending) in the official ledger */
  readonly officialBallots: number;
  /** ballots left pending in the active ledger */
  readonly pendingBallots: number;
  /**
   * the official ledger records a zero tape of the official ledger ('tape-printed', kind zero, mode official).
   * With `officialBallots` 0 (which opening also needs) that tape's zeros still hold: the ledger holds no
   * ballot since. VVSG 1.1 1.1.3-B: polls open only after the zero report.
   */
  readonly officialZeroTape: boolean;
}

/** The person's explicit yes for a command that cannot be undone (CommandInput's `confirm`). */
export interface Confirmation {
  readonly confirmed: boolean;
}

/**
 * Commands that cannot be undone, and what the person confirms: the station refuses them without
 * `confirm: true` (code `confirmation-required`, this sentence), so no client can skip the question.
 */
export const IRREVERSIBLE: Readonly<Partial<Record<StationCommand, string>>> = {
  'enter-test-mode': 'Entering test mode clears the test ledger and its count (the logic-and-accuracy test starts over).',
  'open-polls': 'Once opened, the polls can be closed but never opened again, and test mode is over for this election.',
  'close-polls': 'Closing the polls cannot be undone: the scanner takes no more ballots and the batch is sealed and signed.',
  publish: 'Publishing sends the closed batch to the chains: it cannot be taken back.',
};

/** What the service must do besides moving to `next`. */
export type PollsEffect = 'none' | 'reset-test-ledger' | 'close-batch';

export interface Decision {
  readonly next: PollsState;
  readonly effect: PollsEffect;
}

/** Who may give each command (captains do everything a poll worker does). */
export const COMMAND_ROLES: Readonly<Record<StationCommand, readonly Role[]>> = {
  'enter-test-mode': ['captain'],
  'leave-test-mode': ['captain'],
  'open-polls': ['captain'],
  'pause-polls': ['poll-worker', 'captain'],
  'resume-polls': ['poll-worker', 'captain'],
  'close-polls': ['captain'],
  'print-zero-tape': ['captain'],
  'print-results-tape': ['captain'],
  'reprint-tape': ['poll-worker', 'captain'],
  publish: ['captain'],
  'verify-ledger': ['auditor', 'captain'],
  'export-bundle': ['auditor', 'captain'],
  'clear-alarm': ['poll-worker', 'captain'],
};

const refuse = (code: string, message: string): Result<Decision, Refusal> => err({ code, message });
const stay = (state: PollsState): Result<Decision, Refusal> => ok({ next: state, effect: 'none' });
const move = (next: PollsState, effect: PollsEffect = 'none'): Result<Decision, Refusal> => ok({ next, effect });

function wrongState(command: StationCommand, state: PollsState, allowed: readonly PollsState[]): Result<Decision, Refusal> {
  return refuse('wrong-state', `"${command}" is not possible while the station is ${state} (only when ${allowed.join(' or ')})`);
}

/**
 * Decides one command. `role` is who is logged in (null: nobody). Role is checked first: a refusal must not
 * tell an unauthenticated person more than that they need to log in.
 */
export function decide(state: PollsState, command: StationCommand, role: Role | null, facts: PollsFacts, confirmation: Confirmation = { confirmed: false }): Result<Decision, Refusal> {
  if (role === null) return refuse('login-required', `"${command}" needs a ${COMMAND_ROLES[command].join(' or ')} login`);
  if (!COMMAND_ROLES[command].includes(role)) return refuse('forbidden', `a ${role} may not "${command}" (needs ${COMMAND_ROLES[command].join(' or ')})`);
  const d = decideAllowed(state, command, facts);
  // asked last: a person confirms only what the station would do
  const question = IRREVERSIBLE[command];
  if (d.ok && question !== undefined && !confirmation.confirmed) return refuse('confirmation-required', `${question} Confirm to go on.`);
  return d;
}

/** Whether the command may be given now, for a role allowed to give it. */
function decideAllowed(state: PollsState, command: StationCommand, facts: PollsFacts): Result<Decision, Refusal> {
  const when = (allowed: readonly PollsState[], then: () => Result<Decision, Refusal>): Result<Decision, Refusal> =>
    allowed.includes(state) ? then() : wrongState(command, state, allowed);
  switch (command) {
    case 'enter-test-mode':
      // Re-entering test mode starts the logic-and-accuracy test over with an empty test ledger.
      return when(['configured', 'testing'], () => {
        if (facts.officialBallots > 0) return refuse('official-ballots-exist', `${facts.officialBallots} official ballot(s) are already counted: test mode is closed for this election`);
        if (facts.pendingBallots > 0) return refuse('ballots-pending', `${facts.pendingBallots} ballot(s) are still pending in the scanner: wait for them before clearing the test ledger`);
        return move('testing', 'reset-test-ledger');
      });
    case 'leave-test-mode':
      // back to the official ledger, whose zero tape is printed before the polls open; the test ledger stays
      // as the logic-and-accuracy record until test mode is entered again
      return when(['testing'], () =>
        facts.pendingBallots > 0 ? refuse('ballots-pending', `${facts.pendingBallots} ballot(s) are still pending in the scanner: wait for them before leaving test mode`) : move('configured'),
      );
    case 'open-polls':
      // one polling day per station: a closed batch is sealed, signed and printed, and a second opening would
      // let ballots in after the results tape
      if (state === 'closed' || state === 'published') return refuse('polls-closed', `the polls of this station are ${state === 'closed' ? 'closed' : 'closed and published'}: they cannot be opened again (the closed batch and its results tape are final)`);
      return when(['configured', 'testing'], () => {
        if (facts.officialBallots > 0) return refuse('official-ballots-exist', `the official ledger already holds ${facts.officialBallots} ballot(s): polls can only open on an empty official ledger`);
        if (facts.pendingBallots > 0) return refuse('ballots-pending', `${facts.pendingBallots} ballot(s) are still pending in the scanner`);
        if (!facts.officialZeroTape) {
          return refuse(
            'zero-tape-required',
            state === 'testing'
              ? 'the polls open only after the official zero tape is printed: leave test mode, print the zero tape, then open the polls'
              : 'the polls open only after the zero tape is printed: print the zero tape, check that every count on it is zero, then open the polls',
          );
        }
        return move('open');
      });
    case 'pause-polls':
      return when(['open'], () => move('paused'));
    case 'resume-polls':
      return when(['paused'], () => move('open'));
    case 'close-polls':
      return when(['open', 'paused'], () =>
        facts.pendingBallots > 0 ? refuse('ballots-pending', `${facts.pendingBallots} ballot(s) are still pending in the scanner: settle them before closing`) : move('closed', 'close-batch'),
      );
    case 'publish':
      return when(['closed', 'published'], () => move('published'));
    case 'print-zero-tape':
      return when(['configured', 'testing', 'open'], () =>
        facts.officialBallots > 0 && state === 'open' ? refuse('not-zero', `${facts.officialBallots} ballot(s) are already counted: a zero tape is printed before the first ballot`) : stay(state),
      );
    case 'print-results-tape':
      return when(['testing', 'closed', 'published'], () => stay(state));
    case 'reprint-tape':
      // the station refuses when nothing was printed; a copy never changes the polls
      return when(['configured', 'testing', 'open', 'paused', 'closed', 'published'], () => stay(state));
    case 'verify-ledger':
    case 'export-bundle':
      return when(['configured', 'testing', 'open', 'paused', 'closed', 'published'], () => stay(state));
    case 'clear-alarm':
      return stay(state);
    default:
      return assertNever(command, 'station command');
  }
}

/** Whether the scanner may take ballots now. */
export function takesBallots(state: PollsState): boolean {
  switch (state) {
    case 'testing':
    case 'open':
      return true;
    case 'unconfigured':
    case 'configured':
    case 'paused':
    case 'closed':
    case 'published':
      return false;
    default:
      return assertNever(state, 'polls state');
  }
}

/** The audit event a transition leaves in the ledger. */
export function eventFor(from: PollsState, to: PollsState): 'mode-changed' | 'polls-opened' | 'polls-paused' | 'polls-resumed' | 'polls-closed' | 'publish' | undefined {
  if (from === to && to !== 'testing') return undefined;
  if (from === 'testing' && to === 'configured') return 'mode-changed';
  switch (to) {
    case 'testing':
      return 'mode-changed';
    case 'open':
      return from === 'paused' ? 'polls-resumed' : 'polls-opened';
    case 'paused':
      return 'polls-paused';
    case 'closed':
      return 'polls-closed';
    case 'published':
      return 'publish';
    case 'unconfigured':
    case 'configured':
      return undefined;
    default:
      return assertNever(to, 'polls state');
  }
}
