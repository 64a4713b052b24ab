import { hexToBytes } from '@noble/hashes/utils';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import { deriveBallotAddress, parseAddress } from './address';
import { ballotIdSignatureValid, parseBallotId, signBallotId } from './ballot-id';
import type { IdentityError } from './errors';
import { identityError } from './errors';
import type { ElectionPrivateKeys, ElectionPublicKeys } from './keys';
import { keysMatch } from './keys';
import { NETWORKS, networksWithPubKeyHash } from './networks';
import { isSerial } from './serial';
import type { Mode, VotingId } from './voting-id';
import { encodeVotingId, parseVotingId } from './voting-id';

/** The three QR payloads of one sheet side, as printed and as decoded. */
export interface BallotCodes {
  /** QR 1: the ballot's P2PKH address on the election's network. */
  address: string;
  /** QR 2: `TPB1:<serial>:<signature>`. */
  ballotId: string;
  /** QR 3: `TPV1:<hash prefix>:<precinct>:<style>:<F|B>:<T|O>`. */
  votingId: string;
}

/** What the station (or a central count) will accept. */
export interface ExpectedBallot {
  /** The full election hash (hex); the voting ID carries its first 16 characters. */
  electionHash: string;
  mode: Mode;
  /** The station's precinct; undefined for a central count, which accepts any precinct of the election. */
  precinctId?: string;
  /** Which styles each precinct may use; undefined skips the check. */
  validStyles?: ReadonlyMap<string, readonly string[]>;
}

export interface VerifiedBallot {
  /**
   * The sheet's serial: the key for "each ballot ID is cast at most once". Front and back of one sheet share
   * a serial (and address) and differ only in the voting ID's side, so count a sheet once, by serial.
   */
  serial: string;
  votingId: VotingId;
  address: string;
}

/**
 * The three codes of one sheet side, for this voting event and serial. Deterministic: the same inputs give
 * the same strings. Throws if the private keys are not those of `pub` or an input is malformed (caller bugs,
 * not ballot problems).
 */
export function issueBallotCodes(priv: ElectionPrivateKeys, pub: ElectionPublicKeys, votingId: VotingId, serial: string): BallotCodes {
  if (!keysMatch(priv, pub)) throw new Error('these private keys do not belong to these public keys (another election?)');
  if (!isSerial(serial)) throw new Error(`not a ballot serial (12 Crockford base32 characters): ${JSON.stringify(serial)}`);
  const v = encodeVotingId(votingId);
  return { address: deriveBallotAddress(pub, serial), ballotId: signBallotId(priv.issuingPrivateKey, v, serial), votingId: v };
}

const issuingKeyBytes = new Map<string, Uint8Array>();
function issuingKey(pub: ElectionPublicKeys): Uint8Array {
  let k = issuingKeyBytes.get(pub.issuingPublicKey);
  if (!k) {
    k = hexToBytes(pub.issuingPublicKey);
    if (issuingKeyBytes.size > 64) issuingKeyBytes.clear();
    issuingKeyBytes.set(pub.issuingPublicKey, k);
  }
  return k;
}

/**
 * Checks one side's three codes against the election's public keys and what this station accepts. The
 * checks run in this order, and the first failure is returned:
 *  1. each code parses (malformed-voting-id, malformed-ballot-id, malformed-address);
 *  2. the voting ID names this election (wrong-election) — before the signature, so that a genuine ballot
 *     of another election is called that, not a counterfeit;
 *  3. the issuing key signed this voting ID and serial (bad-signature): a ballot that claims this election
 *     but fails here is counterfeit, whatever else it claims;
 *  4. the address is of this network (wrong-network) and is the serial's address under the xpub
 *     (address-mismatch);
 *  5. mode (test-ballot-in-official-mode, official-ballot-in-test-mode), precinct (wrong-precinct), and
 *     style for the precinct (unknown-precinct, unknown-style).
 */
export function verifyBallotCodes(codes: BallotCodes, pub: ElectionPublicKeys, expected: ExpectedBallot): Result<VerifiedBallot, IdentityError> {
  if (!/^[0-9a-fA-F]{16,}$/.test(expected.electionHash)) {
    throw new Error(`expected.electionHash must be the election hash in hex, got ${JSON.stringify(expected.electionHash)}`);
  }
  const voting = parseVotingId(codes.votingId);
  if (!voting.ok) return voting;
  const ballotId = parseBallotId(codes.ballotId);
  if (!ballotId.ok) return ballotId;
  const address = parseAddress(codes.address);
  if (!address.ok) return address;
  const v = voting.value;

  const electionPrefix = expected.electionHash.slice(0, 16).toLowerCase();
  if (v.electionHashPrefix !== electionPrefix) {
    return err(
      identityError('wrong-election', 'This ballot belongs to a different election.', {
        where: 'votingId',
        expected: electionPrefix,
        found: v.electionHashPrefix,
      }),
    );
  }

  if (!ballotIdSignatureValid(issuingKey(pub), codes.votingId, ballotId.value)) {
    return err(
      identityError('bad-signature', 'This ballot was not issued by the election office: its signature does not match (possible counterfeit).', {
        where: 'ballotId',
      }),
    );
  }
  const serial = ballotId.value.serial;

  const net = NETWORKS[pub.network];
  if (address.value.version !== net.pubKeyHash) {
    const others = networksWithPubKeyHash(address.value.version).map((n) => NETWORKS[n].title);
    const isScript = address.value.version === net.scriptHash;
    if (isScript) {
      return err(
        identityError('address-mismatch', "This ballot's blockchain address is not the address of its serial number.", {
          where: 'address',
          found: codes.address,
        }),
      );
    }
    return err(
      identityError(
        'wrong-network',
        `This ballot's blockchain address is for ${others.length > 0 ? others.join(' / ') : 'an unknown network'}, not ${net.title}.`,
        { where: 'address', expected: net.title, found: others.join(' / ') || `version byte ${address.value.version}` },
      ),
    );
  }
  const derived = deriveBallotAddress(pub, serial);
  if (derived !== codes.address) {
    return err(
      identityError('address-mismatch', "This ballot's blockchain address is not the address of its serial number.", {
        where: 'address',
        expected: derived,
        found: codes.address,
      }),
    );
  }

  if (v.mode !== expected.mode) {
    return v.mode === 'test'
      ? err(
          identityError('test-ballot-in-official-mode', 'This is a test ballot; the station is counting official ballots.', {
            where: 'votingId',
            expected: 'official',
            found: 'test',
          }),
        )
      : err(
          identityError('official-ballot-in-test-mode', 'This is an official ballot; the station is in test mode.', {
            where: 'votingId',
            expected: 'test',
            found: 'official',
          }),
        );
  }
  if (expected.precinctId !== undefined && v.precinctId !== expected.precinctId) {
    return err(
      identityError('wrong-precinct', `This ballot is for precinct ${v.precinctId}, not this station's precinct ${expected.precinctId}.`, {
        where: 'votingId',
        expected: expected.precinctId,
        found: v.precinctId,
      }),
    );
  }
  if (expected.validStyles !== undefined) {
    const styles = expected.validStyles.get(v.precinctId);
    if (styles === undefined) {
      return err(
        identityError('unknown-precinct', `This ballot names precinct ${v.precinctId}, which is not in this election.`, {
          where: 'votingId',
          found: v.precinctId,
        }),
      );
    }
    if (!styles.includes(v.styleId)) {
      return err(
        identityError('unknown-style', `This ballot's style ${v.styleId} is not a ballot style of precinct ${v.precinctId}.`, {
          where: 'votingId',
          expected: styles.join(', '),
          found: v.styleId,
        }),
      );
    }
  }
  return ok({ serial, votingId: v, address: codes.address });
}
