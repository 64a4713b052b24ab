import type { MarginalDetail } from './adjudication';
import type { PendingPayload } from './entries';

/**
 * Which options of each contest the reader found marginal, from a ballot's pending entry. Pending entries
 * written without per-sheet detail give undefined: such a ballot is adjudicated at contest level
 * (adjudication.ts).
 */
export function marginalDetailOf(pending: PendingPayload): MarginalDetail | undefined {
  void pending;
  return undefined;
}
