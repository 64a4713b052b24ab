import type { Reason } from '../../ballots/read/reasons';
import { REASON_TEXT, RETURN_REASONS } from '../../ballots/read/reasons';
import type { SheetReading } from '../../ballots/read/sheet';
import type { FeedbackReason } from './api';

/**
 * The accept/return policy: what the station does with a read sheet. Overvoted, blank and marginal ballots
 * (and undervoted ones when the election asks) are held for the voter, who may take the ballot back or cast
 * it as is; anything the reader rejects goes back and cannot be cast as fed.
 */

/** Reasons the station itself gives (the reader cannot know them). */
export const STATION_REASONS = ['duplicate', 'not-accepting', 'scanner-refused', 'scanner-returned', 'double-sheet', 'scanner-stopped', 'record-refused', 'read-failed'] as const;
export type StationReason = (typeof STATION_REASONS)[number];

export const STATION_REASON_TEXT: Readonly<Record<StationReason, { readonly voter: string; readonly pollWorker: string }>> = {
  duplicate: {
    voter: 'This ballot has already been counted. Please ask a poll worker.',
    pollWorker: 'A ballot with this ballot ID is already counted: this sheet is a copy. Keep it apart.',
  },
  'not-accepting': { voter: 'The scanner is not taking ballots right now. Please ask a poll worker.', pollWorker: 'The polls are not open, or the station waits for a poll worker.' },
  'scanner-refused': { voter: 'The scanner could not take this ballot. Please ask a poll worker.', pollWorker: 'The scanner refused to drop the ballot (box full, cover open or jam); it was not counted.' },
  'scanner-returned': { voter: 'Your ballot was given back and not counted. Please feed it again.', pollWorker: 'The scanner returned the ballot before it reached the box; it was not counted.' },
  'double-sheet': {
    voter: 'Two sheets went in together and were given back, not counted. Please feed one sheet at a time.',
    pollWorker: 'The scanner felt two sheets at once and returned both; nothing was recorded. Clear the alarm once the voter has them back.',
  },
  'scanner-stopped': {
    voter: 'The scanner stopped. Please ask a poll worker.',
    pollWorker: 'The scanner stopped with the ballot in the paper path; it was not counted. Clear the path and feed it again.',
  },
  'record-refused': { voter: 'This ballot could not be recorded. Please ask a poll worker.', pollWorker: 'The ledger refused the ballot record; see the station log.' },
  'read-failed': { voter: 'The scanner could not read this sheet. Please ask a poll worker.', pollWorker: 'The reader failed on this sheet; rescan it.' },
};

export function feedbackReason(code: Reason | StationReason, contests: readonly string[] = [], pollWorkerDetail?: string): FeedbackReason {
  const text = (STATION_REASON_TEXT as Record<string, { voter: string; pollWorker: string }>)[code] ?? REASON_TEXT[code as Reason];
  return { code, contests, voter: text.voter, pollWorker: pollWorkerDetail === undefined ? text.pollWorker : `${text.pollWorker} ${pollWorkerDetail}` };
}

export type PolicyDecision =
  | { readonly kind: 'accept' }
  | { readonly kind: 'hold'; readonly reasons: readonly FeedbackReason[] }
  | { readonly kind: 'reject'; readonly reasons: readonly FeedbackReason[] };

const isReturnReason = (r: string): boolean => (RETURN_REASONS as readonly string[]).includes(r);

/** Contests a return reason is about. */
function contestsFor(reason: Reason, sheet: SheetReading): string[] {
  const entries = Object.entries(sheet.contests);
  switch (reason) {
    case 'overvote':
      return entries.filter(([, c]) => c.overvote).map(([id]) => id);
    case 'marginal-marks':
      return entries.filter(([, c]) => c.marginal.length > 0).map(([id]) => id);
    case 'undervote':
      return entries.filter(([, c]) => !c.overvote && c.undervote > 0).map(([id]) => id);
    default:
      return [];
  }
}

export function decideSheet(sheet: SheetReading): PolicyDecision {
  switch (sheet.status) {
    case 'accepted':
      return { kind: 'accept' };
    case 'returned':
      return { kind: 'hold', reasons: sheet.reasons.filter(isReturnReason).map((r) => feedbackReason(r, contestsFor(r, sheet))) };
    case 'rejected':
      return { kind: 'reject', reasons: sheet.reasons.map((r) => feedbackReason(r)) };
  }
}
