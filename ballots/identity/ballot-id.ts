import { schnorr } from '@noble/curves/secp256k1';
import { sha256 } from '@noble/hashes/sha256';
import { base32crockford } from '@scure/base';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { IdentityError } from './errors';
import { identityError } from './errors';
import { verifyBip340 } from './libsecp';
import { isSerial } from './serial';

/**
 * Encoding (QR 2): `TPB1:<serial>:<signature>`, 121 characters, all in QR alphanumeric mode:
 * - serial: 12 Crockford base32 characters (see serial.ts);
 * - signature: the 64-byte BIP340 Schnorr signature in Crockford base32, 103 characters, the 3 spare bits
 *   zero (anything else is refused, so a signature has one spelling).
 *
 * The signature is by the election's issuing key over
 *   SHA-256( "tallyproof/ballot-id/1" || 0x00 || voting ID string (QR 3) || 0x00 || serial ),
 * which binds the serial to its voting event: a serial copied onto another precinct's, style's or mode's
 * sheet no longer verifies. Signing uses BIP340's deterministic nonce with all-zero auxiliary randomness
 * (which BIP340 allows), so issuing the same ballot twice yields the same bytes: a reprint or a seeded test
 * deck is reproducible.
 */
export const BALLOT_ID_PREFIX = 'TPB1';
export const BALLOT_ID_LENGTH = 121;
const BALLOT_ID_PATTERN = /^TPB1:([0-9A-HJKMNP-TV-Z]{12}):([0-9A-HJKMNP-TV-Z]{103})$/;
const DOMAIN = new TextEncoder().encode('tallyproof/ballot-id/1');
const ZERO_AUX = new Uint8Array(32);

export interface ParsedBallotId {
  serial: string;
  signature: Uint8Array;
}

export function ballotIdMessage(votingId: string, serial: string): Uint8Array {
  const enc = new TextEncoder();
  const v = enc.encode(votingId);
  const s = enc.encode(serial);
  const msg = new Uint8Array(DOMAIN.length + 1 + v.length + 1 + s.length);
  msg.set(DOMAIN, 0);
  msg.set(v, DOMAIN.length + 1);
  msg.set(s, DOMAIN.length + 2 + v.length);
  return sha256(msg);
}

export function signBallotId(issuingPrivateKey: Uint8Array, votingId: string, serial: string): string {
  if (!isSerial(serial)) throw new Error(`not a ballot serial: ${JSON.stringify(serial)}`);
  const signature = schnorr.sign(ballotIdMessage(votingId, serial), issuingPrivateKey, ZERO_AUX);
  return `${BALLOT_ID_PREFIX}:${serial}:${base32crockford.encode(signature)}`;
}

export function parseBallotId(s: string): Result<ParsedBallotId, IdentityError> {
  const malformed = (why: string): Result<ParsedBallotId, IdentityError> =>
    err(
      identityError('malformed-ballot-id', `The ballot ID code (second QR code) ${why}.`, {
        where: 'ballotId',
        found: s.length > 140 ? `${s.slice(0, 140)}…` : s,
        expected: 'TPB1:<12-character serial>:<103-character signature>',
      }),
    );
  const m = BALLOT_ID_PATTERN.exec(s);
  if (!m) return malformed('is not a Tallyproof ballot ID or is damaged');
  const serial = m[1] as string;
  let signature: Uint8Array;
  try {
    signature = base32crockford.decode(m[2] as string);
  } catch {
    return malformed('has a damaged signature field');
  }
  if (signature.length !== 64) return malformed('has a signature of the wrong length');
  return ok({ serial, signature });
}

/** Whether the signature is the issuing key's over this voting ID and serial. Never throws. */
export function ballotIdSignatureValid(issuingPublicKey: Uint8Array, votingId: string, parsed: ParsedBallotId): boolean {
  return verifyBip340(ballotIdMessage(votingId, parsed.serial), issuingPublicKey, parsed.signature);
}
