/**
 * Failures of the ledger's storage and files, each naming the file so an operator knows what to look at.
 * Refusals that are part of normal work (a duplicate ballot, say) are Result values instead.
 */
export type LedgerErrorKind =
  | 'disk-full'
  | 'read-only'
  | 'corrupt'
  | 'missing-wal'
  | 'not-found'
  | 'exists'
  | 'locked'
  | 'schema'
  | 'wrong-ledger'
  | 'unreconciled'
  | 'state'
  | 'key-file'
  /** the polls are closed and the ledger sealed: it takes no more ballots */
  | 'sealed'
  | 'io';

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  constructor(
    readonly kind: LedgerErrorKind,
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}
