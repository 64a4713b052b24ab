import type { ContestResult } from '../../ballots/election';
import type { MarkReading } from '../../ballots/read/mark-reading';
import type { Genesis } from '../ledger/entries';
import type { BallotCapture, LedgerMode } from '../ledger/record';
import type { ContestMarks, SideImage } from '../ledger/sheet-detail';
import { scoreUnits, sheetImageSha256 } from '../ledger/sheet-detail';

/** Bumped when the reader's interpretation of the same image may change (ballot records carry it). */
export const READER_VERSION = 1;

export interface CaptureInput {
  readonly ballotId: string;
  readonly votingId: string;
  readonly mode: LedgerMode;
  readonly castAsIs: boolean;
  /** the scanned sides in scan order: the record's image digest is SHA-256 over them concatenated */
  readonly images: readonly Uint8Array[];
  readonly calibrationVersion: number;
  readonly contests: Readonly<Record<string, ContestResult>>;
  /**
   * the sheet detail's sources (the station always gives them; without them the pending entry is format 1):
   * per side, in scan order, its image ID, SHA-256 and whether the image store kept it; every target the reader scored
   */
  readonly sheet?: { readonly sides: readonly SideImage[]; readonly marks: readonly MarkReading[] };
}

/**
 * What the ledger records of one read sheet: option indexes into the genesis contest map for the public record,
 * and the sheet detail for the pending entry's local part (every target's score in contest-map order, the
 * marginal options, the sides' image IDs and digests).
 */
export function captureOf(input: CaptureInput, contests: Genesis['election']['contests']): BallotCapture {
  const sheet = input.sheet;
  if (sheet !== undefined && sheet.sides.length !== input.images.length) throw new Error(`the sheet has ${input.images.length} scanned side(s) but ${sheet.sides.length} image record(s)`);
  const index = new Map(contests.map((c, i) => [c.id, i]));
  const scores = new Map<string, number>();
  for (const m of sheet?.marks ?? []) scores.set(`${m.contestId}\u0000${m.optionId}`, m.score);
  const marks: ContestMarks[] = [];
  const out = Object.entries(input.contests).map(([id, r]) => {
    const ci = index.get(id);
    const def = ci === undefined ? undefined : contests[ci];
    if (ci === undefined || def === undefined) throw new Error(`the reader reported contest "${id}", which the election does not have`);
    const optionIndex = (o: string): number => {
      const oi = def.options.indexOf(o);
      if (oi < 0) throw new Error(`the reader reported option "${o}" in contest "${id}", which it does not have`);
      return oi;
    };
    const options = r.selections.map(optionIndex).sort((a, b) => a - b);
    const marginal = r.marginal.map(optionIndex).sort((a, b) => a - b);
    if (sheet !== undefined) {
      const contestScores = def.options.map((o) => {
        const s = scores.get(`${id}\u0000${o}`);
        if (s === undefined) throw new Error(`the reader gave no score for option "${o}" of contest "${id}"`);
        return scoreUnits(s);
      });
      marks.push({ contest: ci, scores: contestScores, marginal });
    }
    return { contest: ci, options, overvote: options.length > def.seats, undervote: options.length < def.seats, marginal: marginal.length > 0, writeIn: r.writeIn };
  });
  out.sort((a, b) => a.contest - b.contest);
  marks.sort((a, b) => a.contest - b.contest);
  return {
    ballotId: input.ballotId,
    votingId: input.votingId,
    mode: input.mode,
    castAsIs: input.castAsIs,
    imageSha256: sheetImageSha256(input.images),
    readerVersion: READER_VERSION,
    calibrationVersion: input.calibrationVersion,
    contests: out,
    ...(sheet !== undefined ? { detail: { sides: sheet.sides, contests: marks } } : {}),
  };
}
