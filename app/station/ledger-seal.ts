import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { ClosedBatch, Ledger, SignedHeadWritten, StartupFinding } from '../ledger/ledger';
import type { StationKey } from '../ledger/station-key';

/**
 * The ledger's side of closing the polls (issue 14): the final batch checkpoint, then the seal, a signed
 * head over every entry after which the ledger takes no ballot. Also used at start-up to finish a close a
 * crash interrupted: the ledger's own `polls-closed` event is what says the polls closed.
 */
export interface Sealed {
  /** the final batch; absent when a resumed close found every cast ballot already in a checkpoint */
  readonly batch?: ClosedBatch;
  readonly seal: SignedHeadWritten;
  /** the seal is in the ledger but the second location could not be written */
  readonly secondLocationError?: string;
}

export function closeAndSeal(ledger: Ledger, key: StationKey, resuming: boolean): Result<Sealed, string> {
  let batch: ClosedBatch | undefined;
  // a resumed close closes a batch only if the crash came before the final checkpoint
  if (!resuming || ledger.castInOpenBatch > 0 || ledger.currentBatch === 1) {
    const closed = ledger.closeBatch(key);
    if (!closed.ok) return err(`entries ${closed.error.pendingSeqs.join(', ')} are still pending`);
    batch = closed.value;
  }
  const sealed = ledger.seal(key);
  if (!sealed.ok) return err(`the ledger cannot be sealed: ${sealed.error.kind}`);
  const warning = sealed.value.secondLocationError;
  return ok({ ...(batch === undefined ? {} : { batch }), seal: sealed.value, ...(warning === undefined ? {} : { secondLocationError: warning }) });
}

/** The words of the alarm a damaged ledger file raises at start-up. */
export function ledgerAlarmText(file: string, findings: readonly StartupFinding[]): string {
  const what = findings.map((f) => `${f.message}${f.evidence.length > 0 ? ` (copies kept: ${f.evidence.join(', ')})` : ''}`).join('; ');
  return `LEDGER ALARM: ${file}: ${what}. Entries the station had recorded may be lost. Take no ballots: call the election office and keep these files; a captain notes this on the results tape.`;
}
