/**
 * Which refused commands go into the ledger as `command-refused`, and with what. An auditor must see every
 * attempt a signed-in person made that the polls procedure refused (opening before the zero tape, opening
 * closed polls again, a poll worker trying a captain's command, a zero tape after the first ballot), each once,
 * with the station's own sentence saying why. Two refusals are not attempts and stay out of the ledger: a
 * request with nobody signed in (no person to name, and an unauthenticated client must not be able to write
 * the ledger at will) and `confirmation-required`, the station's question before an irreversible command.
 */
import type { PollsState, Refusal, Role, StationCommand } from './api';

/** The ledger's detail values are capped (app/ledger/events.ts); the station's reasons are far shorter. */
const REASON_MAX = 300;

const NOT_ATTEMPTS: ReadonlySet<string> = new Set(['login-required', 'confirmation-required']);

export interface RefusalEvent {
  readonly role: Role;
  readonly detail: { readonly command: StationCommand; readonly code: string; readonly polls: PollsState; readonly reason: string };
}

/** The `command-refused` event for a refusal of the polls guard, or null when it is not one to record. */
export function refusalEvent(command: StationCommand, role: Role | null, polls: PollsState, refusal: Refusal): RefusalEvent | null {
  if (role === null || NOT_ATTEMPTS.has(refusal.code)) return null;
  return { role, detail: { command, code: refusal.code, polls, reason: refusal.message.slice(0, REASON_MAX) } };
}
