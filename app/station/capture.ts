import crypto from 'node:crypto';
import type { ContestResult } from '../../ballots/election';
import type { Genesis } from '../ledger/entries';
import type { BallotCapture, LedgerMode } from '../ledger/record';

/** Bumped when the reader's interpretation of the same image may change (ballot records carry it). */
export const READER_VERSION = 1;

export interface CaptureInput {
  readonly ballotId: string;
  readonly votingId: string;
  readonly mode: LedgerMode;
  readonly castAsIs: boolean;
  readonly images: readonly Uint8Array[];
  readonly calibrationVersion: number;
  readonly contests: Readonly<Record<string, ContestResult>>;
}

/** What the ledger records of one read sheet: option indexes into the genesis contest map. */
export function captureOf(input: CaptureInput, contests: Genesis['election']['contests']): BallotCapture {
  const index = new Map(contests.map((c, i) => [c.id, i]));
  const h = crypto.createHash('sha256');
  for (const img of input.images) h.update(img);
  const out = Object.entries(input.contests).map(([id, r]) => {
    const ci = index.get(id);
    const def = ci === undefined ? undefined : contests[ci];
    if (ci === undefined || def === undefined) throw new Error(`the reader reported contest "${id}", which the election does not have`);
    const options = r.selections.map((o) => {
      const oi = def.options.indexOf(o);
      if (oi < 0) throw new Error(`the reader reported option "${o}" in contest "${id}", which it does not have`);
      return oi;
    });
    options.sort((a, b) => a - b);
    return { contest: ci, options, overvote: options.length > def.seats, undervote: options.length < def.seats, marginal: r.marginal.length > 0, writeIn: r.writeIn };
  });
  out.sort((a, b) => a.contest - b.contest);
  return {
    ballotId: input.ballotId,
    votingId: input.votingId,
    mode: input.mode,
    castAsIs: input.castAsIs,
    imageSha256: new Uint8Array(h.digest()),
    readerVersion: READER_VERSION,
    calibrationVersion: input.calibrationVersion,
    contests: out,
  };
}
