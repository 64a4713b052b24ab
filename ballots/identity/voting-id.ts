import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { IdentityError } from './errors';
import { identityError } from './errors';

export type Mode = 'test' | 'official';
export type Side = 'front' | 'back';

/** The voting event a sheet side belongs to (QR 3). Ids are the election definition's lower-case ids. */
export interface VotingId {
  /** The first 16 hex characters of the election hash (lower case). */
  electionHashPrefix: string;
  precinctId: string;
  styleId: string;
  side: Side;
  mode: Mode;
}

/**
 * Encoding (QR 3): `TPV1:<16 HEX>:<PRECINCT>:<STYLE>:<F|B>:<T|O>`, all upper case, e.g.
 * `TPV1:9F86D081884C7D65:NORTH-1:STYLE-A:F:O`.
 *
 * Election, precinct and style ids are `[a-z0-9-]{1,32}`; the code carries them upper-cased so that the
 * whole string stays in QR alphanumeric mode (0-9 A-Z space $%*+-./:), and parsing lower-cases them back.
 * That is lossless because ids have no upper-case letters, and unambiguous because ids cannot contain ':'.
 * Only the canonical form parses (upper case, no spaces), so one voting event has exactly one string.
 * At most 91 characters.
 */
export const VOTING_ID_PREFIX = 'TPV1';
export const ID_PATTERN = /^[a-z0-9-]{1,32}$/;
const HASH_PREFIX_PATTERN = /^[0-9a-f]{16}$/;
const VOTING_ID_PATTERN = /^TPV1:([0-9A-F]{16}):([A-Z0-9-]{1,32}):([A-Z0-9-]{1,32}):([FB]):([TO])$/;

export function encodeVotingId(v: VotingId): string {
  const prefix = v.electionHashPrefix.toLowerCase();
  if (!HASH_PREFIX_PATTERN.test(prefix)) {
    throw new Error(`electionHashPrefix must be 16 hex characters, got ${JSON.stringify(v.electionHashPrefix)}`);
  }
  if (!ID_PATTERN.test(v.precinctId)) throw new Error(`precinct id must match [a-z0-9-]{1,32}, got ${JSON.stringify(v.precinctId)}`);
  if (!ID_PATTERN.test(v.styleId)) throw new Error(`style id must match [a-z0-9-]{1,32}, got ${JSON.stringify(v.styleId)}`);
  if (v.side !== 'front' && v.side !== 'back') throw new Error(`side must be front or back, got ${JSON.stringify(v.side)}`);
  if (v.mode !== 'test' && v.mode !== 'official') throw new Error(`mode must be test or official, got ${JSON.stringify(v.mode)}`);
  return [
    VOTING_ID_PREFIX,
    prefix.toUpperCase(),
    v.precinctId.toUpperCase(),
    v.styleId.toUpperCase(),
    v.side === 'front' ? 'F' : 'B',
    v.mode === 'test' ? 'T' : 'O',
  ].join(':');
}

export function parseVotingId(s: string): Result<VotingId, IdentityError> {
  const m = VOTING_ID_PATTERN.exec(s);
  if (!m) {
    return err(
      identityError('malformed-voting-id', 'The voting ID code (third QR code) is not a Tallyproof voting ID or is damaged.', {
        where: 'votingId',
        found: s.length > 120 ? `${s.slice(0, 120)}…` : s,
        expected: 'TPV1:<16 hex>:<precinct>:<style>:<F|B>:<T|O>',
      }),
    );
  }
  const [, hash, precinct, style, side, mode] = m as unknown as [string, string, string, string, string, string];
  return ok({
    electionHashPrefix: hash.toLowerCase(),
    precinctId: precinct.toLowerCase(),
    styleId: style.toLowerCase(),
    side: side === 'F' ? 'front' : 'back',
    mode: mode === 'T' ? 'test' : 'official',
  });
}
