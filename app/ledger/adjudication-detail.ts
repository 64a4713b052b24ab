import type { MarginalDetail } from './adjudication';
import type { PendingPayload } from './entries';

/**
 * Which options of each contest the reader found marginal, from a ballot's pending entry (its sheet detail,
 * sheet-detail.ts). Pending entries written before sheet detail existed (format 1) give undefined: such a
 * ballot is adjudicated at contest level (adjudication.ts).
 */
export function marginalDetailOf(pending: PendingPayload): MarginalDetail | undefined {
  const d = pending.detail;
  if (d === undefined) return undefined;
  return new Map(d.contests.map((c) => [c.contest, c.marginal]));
}
