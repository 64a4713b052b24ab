import { toHex } from '../../lib/bytes';
import type { DataLayout } from '../ledger/layout';
import type { Ledger } from '../ledger/ledger';
import { proveBallot } from '../ledger/proofs';
import type { BallotRecord } from '../ledger/record';
import { encodeRecord } from '../ledger/record';
import type { VerifyOptions } from '../ledger/verify';
import { verifyLedgerFile } from '../ledger/verify';
import type { ApiResult, BallotLookup } from './api';
import type { LedgerMode } from './polls';

/** What a ballot lookup reads: the official ledger, open and as a verified file. */
export interface LookupDeps {
  readonly layout: DataLayout;
  readonly official: Ledger;
  verifyOptions(mode: LedgerMode): VerifyOptions;
}

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
const refused = <T>(code: string, message: string): ApiResult<T> => ({ ok: false, error: { code, message } });

/**
 * The auditor's lookup of one ballot ID (already trimmed and upper-cased) in the official ledger: pending, cast
 * with its inclusion proof once its batch is closed, cast in the open batch, or not found.
 */
export function lookupBallot(d: LookupDeps, id: string): ApiResult<BallotLookup> {
  const file = d.layout.ledger('official');
  const pending = d.official.pendingBallots().find((b) => b.ballotId === id);
  if (pending !== undefined) return ok({ ballotId: id, state: 'pending' as const, batch: null, record: describeRecord(pending.record) });
  try {
    const proof = proveBallot(file, id, d.verifyOptions('official'));
    if (proof !== undefined) {
      return ok({
        ballotId: id,
        state: 'cast' as const,
        batch: proof.batch,
        record: { hex: toHex(proof.record), leafIndex: proof.leafIndex, treeSize: proof.treeSize, root: toHex(proof.root), inclusionProof: proof.inclusionProof.map(toHex), checkpoint: proof.checkpoint },
      });
    }
    let found: BallotRecord | undefined;
    verifyLedgerFile(file, d.verifyOptions('official'), {
      onCast: (r) => {
        if (r.ballotId === id) found = r;
      },
    });
    if (found !== undefined) return ok({ ballotId: id, state: 'cast' as const, batch: null, record: describeRecord(found) });
  } catch (e) {
    return refused<BallotLookup>('ledger-bad', (e as Error).message);
  }
  return ok({ ballotId: id, state: 'not-found' as const, batch: null, record: null });
}

function describeRecord(r: BallotRecord): Record<string, unknown> {
  return { hex: toHex(encodeRecord(r)), mode: r.mode, castAsIs: r.castAsIs, batch: r.batch, contests: r.contests.map((c) => ({ contest: c.contest, options: [...c.options], overvote: c.overvote, undervote: c.undervote, marginal: c.marginal })) };
}
