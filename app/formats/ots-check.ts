import { bytesEqual } from '../../lib/bytes';
import { err, ok } from '../../lib/result';
import type { Result } from '../../lib/result';
import type { DetachedTimestamp, ReachedAttestation } from './ots';
import { OtsError, parseDetached, reachedAttestations } from './ots';

/**
 * The first steps of checking a Tallyproof .ots as an independent OpenTimestamps verifier would: it reads,
 * it timestamps the file whose SHA-256 is `leaf` (RFC 6962's leaf input, so the digest is the leaf hash),
 * and where its operations lead. The ballot check (`ots-ballot.ts`) and the county check (`county-anchor.ts`)
 * both start here so an auditor reads the same words for the same fault; `whose` names the leaf in them
 * ("this ballot record's"). The error is the problem as the audit report prints it.
 */
export function reachedFromLeaf(ots: Uint8Array, leaf: Uint8Array, whose: string): Result<ReachedAttestation[], string> {
  let parsed: DetachedTimestamp;
  try {
    parsed = parseDetached(ots);
  } catch (e) {
    if (e instanceof OtsError) return err(`not a readable .ots: ${e.message}`);
    throw e;
  }
  if (parsed.fileHashOp !== 'sha256' || !bytesEqual(parsed.digest, leaf)) return err(`its file digest is not ${whose} leaf hash`);
  try {
    return ok(reachedAttestations(parsed));
  } catch (e) {
    if (e instanceof OtsError) return err(`its operations fail: ${e.message}`);
    throw e;
  }
}
