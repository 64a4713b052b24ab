import { assertNever } from '../../lib/result';
import type { AuditEventType } from '../ledger/events';
import { isoSeconds } from '../ledger/events';
import type { PollsState } from './api';

/**
 * The time an audit event is written with. The ledger's ballot entries carry no time, but its hash chain keeps
 * them in casting order between the audit events; an event timed to the second while ballots are being cast
 * pins the ballots beside it to that second. So from the polls' opening to their closing an event's time is
 * written to the hour (and says so: detail `atPrecision: "hour"`). The polls' own moves (opening, pausing,
 * resuming, closing) keep whole seconds: each is printed to the minute on a public report the same moment
 * (zero tape, pause and resumption reports, results tape), so the ledger adds only the seconds to what the
 * paper says. So does everything before and after voting (start-up, election and calibration loads, test
 * mode, tapes, export, publication). See PRIVACY.md.
 */
const POLLS_MOVES: ReadonlySet<AuditEventType> = new Set(['polls-opened', 'polls-paused', 'polls-resumed', 'polls-closed']);

export function eventTime(now: Date, polls: PollsState, type: AuditEventType): { at: string; coarse: boolean } {
  const coarse = duringVoting(polls) && !POLLS_MOVES.has(type);
  return { at: isoSeconds(coarse ? toHour(now) : now), coarse };
}

/** A Date for ledger calls that take one (reconcile): to the hour during voting, else as it is. */
export function eventDate(now: Date, polls: PollsState): Date {
  return duringVoting(polls) ? toHour(now) : now;
}

/** Official ballots may be on both sides of an event in the ledger: the polls are open or paused. */
function duringVoting(polls: PollsState): boolean {
  switch (polls) {
    case 'open':
    case 'paused':
      return true;
    case 'unconfigured':
    case 'configured':
    case 'testing':
    case 'closed':
    case 'published':
      return false;
    default:
      return assertNever(polls, 'polls state');
  }
}

function toHour(d: Date): Date {
  const h = new Date(d.getTime());
  h.setUTCMinutes(0, 0, 0);
  return h;
}
