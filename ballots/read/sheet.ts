import type { ContestReading, MarkReading, PageReading, Status } from './interpret';
import type { Reason } from './reasons';

export interface SheetReading {
  readonly status: Status;
  readonly reasons: readonly Reason[];
  readonly ballotId?: string;
  readonly contests: Readonly<Record<string, ContestReading>>;
  /** every target's reading on the sheet's ballot sides (none for a rejected sheet): the ledger keeps the scores */
  readonly marks: readonly MarkReading[];
}

/** A page with no printing at all: the blank back of a one-sided ballot, or a blank sheet. */
const isBlankPage = (p: PageReading): boolean => p.status === 'rejected' && p.reasons[0] === 'blank-page';

/**
 * One sheet from its page readings (one or two sides, in any order: a sheet may go in face down or upside
 * down). A blank page beside a ballot side is the back of a one-sided ballot and is set aside; any other
 * rejected page rejects the sheet; the sides must carry the same serial and be all the ballot's sides (a
 * two-sided ballot with one side blank or unread is 'side-missing', not counted on the side that was read);
 * a blank ballot is one with no mark on any side.
 */
export function combineSheet(all: readonly PageReading[]): SheetReading {
  const pages = all.filter((p) => !isBlankPage(p));
  if (pages.length === 0) return { status: 'rejected', reasons: ['blank-page'], contests: {}, marks: [] };
  const rejected = pages.find((p) => p.status === 'rejected');
  if (rejected) return { status: 'rejected', reasons: rejected.reasons, ...(rejected.ballotId ? { ballotId: rejected.ballotId } : {}), contests: {}, marks: [] };
  const serials = new Set(pages.map((p) => p.ballotId));
  if (serials.size > 1) return { status: 'rejected', reasons: ['codes-disagree'], contests: {}, marks: [] };
  const expectedSides = pages[0]?.sides ?? 1;
  const sidesRead = new Set(pages.map((p) => p.side)).size;
  if (sidesRead !== pages.length || pages.length > expectedSides) return { status: 'rejected', reasons: ['codes-disagree'], contests: {}, marks: [] };
  if (pages.length < expectedSides) return { status: 'rejected', reasons: ['side-missing'], ...(pages[0]?.ballotId ? { ballotId: pages[0].ballotId } : {}), contests: {}, marks: [] };
  const contests: Record<string, ContestReading> = Object.assign({}, ...pages.map((p) => p.contests));
  const reasons = new Set<Reason>(pages.flatMap((p) => p.reasons));
  // front first whichever way the sheet went in: the same sheet gives the same reading
  const marks = [...pages].sort((a, b) => (a.side === b.side ? 0 : a.side === 'front' ? -1 : 1)).flatMap((p) => p.marks);
  if (marks.length > 0 && marks.every((m) => m.class === 'empty')) reasons.add('blank-ballot');
  const ordered = (['overvote', 'blank-ballot', 'marginal-marks', 'undervote'] as const).filter((r) => reasons.has(r));
  const ballotId = pages[0]?.ballotId;
  return { status: ordered.length > 0 ? 'returned' : 'accepted', reasons: ordered, ...(ballotId ? { ballotId } : {}), contests, marks };
}
