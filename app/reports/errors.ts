/** Why a tape or report was not printed; the message is worded for the captain or auditor. */
export type ReportErrorKind = 'unknown-precinct' | 'wrong-election' | 'bad-input' | 'not-zero' | 'unprintable' | 'unwritable' | 'not-closed';

export class ReportError extends Error {
  override readonly name = 'ReportError';
  constructor(
    readonly kind: ReportErrorKind,
    message: string,
  ) {
    super(message);
  }
}
