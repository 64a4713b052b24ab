/**
 * Every way a ballot's codes or the election's key files can be refused. The station maps `code` to its
 * accept/return policy and shows `message` to the poll worker as is, so messages are whole, plain sentences
 * that say what is wrong with this ballot (or file), not how the check works.
 */
export const BALLOT_ERROR_CODES = [
  'malformed-ballot-id',
  'malformed-voting-id',
  'malformed-address',
  'wrong-election',
  'bad-signature',
  'wrong-network',
  'address-mismatch',
  'test-ballot-in-official-mode',
  'official-ballot-in-test-mode',
  'wrong-precinct',
  'unknown-precinct',
  'unknown-style',
] as const;

export const KEY_FILE_ERROR_CODES = [
  'key-file-unreadable',
  'key-file-malformed',
  'key-file-fingerprint-mismatch',
  'wrong-passphrase',
] as const;

export type BallotErrorCode = (typeof BALLOT_ERROR_CODES)[number];
export type KeyFileErrorCode = (typeof KEY_FILE_ERROR_CODES)[number];
export type IdentityErrorCode = BallotErrorCode | KeyFileErrorCode;

export interface IdentityError {
  readonly code: IdentityErrorCode;
  /** A plain sentence for a poll worker (ballot errors) or an election administrator (key files). */
  readonly message: string;
  /** Which of the three codes (or which file) the problem is in, when it is in one. */
  readonly where?: string; // 'address' | 'ballotId' | 'votingId', or a file path
  /** What this station expected and what the ballot says, for the log and the screen's detail line. */
  readonly expected?: string;
  readonly found?: string;
}

export function identityError(
  code: IdentityErrorCode,
  message: string,
  extra: Omit<IdentityError, 'code' | 'message'> = {},
): IdentityError {
  return { code, message, ...extra };
}
