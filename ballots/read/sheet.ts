import type { ContestReading, PageReading, Status } from './interpret';
import type { Reason } from './reasons';

export interface SheetReading {
  readonly status: Status;
  readonly reasons: readonly Reason[];
  readonly ballotId?: string;
  readonly contests: Readonly<Record<string, ContestReading>>;
}

/**
 * One sheet from its page readings (one or two sides). Any rejected page rejects the sheet; the two sides
 * must carry the same serial; a blank ballot is one with no mark on any side.
 */
export function combineSheet(pages: readonly PageReading[]): SheetReading {
  const rejected = pages.find((p) => p.status === 'rejected');
  if (rejected) return { status: 'rejected', reasons: rejected.reasons, ...(rejected.ballotId ? { ballotId: rejected.ballotId } : {}), contests: {} };
  const serials = new Set(pages.map((p) => p.ballotId));
  if (serials.size > 1) return { status: 'rejected', reasons: ['codes-disagree'], contests: {} };
  const expectedSides = pages[0]?.sides ?? 1;
  if (pages.length !== expectedSides || new Set(pages.map((p) => p.side)).size !== pages.length) {
    return { status: 'rejected', reasons: ['codes-disagree'], contests: {} };
  }
  const contests: Record<string, ContestReading> = Object.assign({}, ...pages.map((p) => p.contests));
  const reasons = new Set<Reason>(pages.flatMap((p) => p.reasons));
  const marks = pages.flatMap((p) => p.marks);
  if (marks.length > 0 && marks.every((m) => m.class === 'empty')) reasons.add('blank-ballot');
  const ordered = (['overvote', 'blank-ballot', 'marginal-marks', 'undervote'] as const).filter((r) => reasons.has(r));
  const ballotId = pages[0]?.ballotId;
  return { status: ordered.length > 0 ? 'returned' : 'accepted', reasons: ordered, ...(ballotId ? { ballotId } : {}), contests };
}
