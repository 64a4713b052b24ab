/**
 * Ballot identity: the election's keys and the three QR codes at the bottom of each sheet side.
 *
 *   QR 1 address   P2PKH address of the serial under the election xpub      address.ts
 *   QR 2 ballot ID TPB1:<serial>:<BIP340 signature over voting ID + serial>  ballot-id.ts, serial.ts
 *   QR 3 voting ID TPV1:<hash prefix>:<precinct>:<style>:<F|B>:<T|O>        voting-id.ts
 *
 * FORMAT.md in this folder describes the encodings for anyone who checks ballots without this code.
 */
export type { Result } from '../../lib/result';
export type { Mode, Side, VotingId } from './voting-id';
export { encodeVotingId, parseVotingId, ID_PATTERN, VOTING_ID_PREFIX } from './voting-id';
export type { NetworkName, NetworkParams } from './networks';
export { NETWORK_NAMES, NETWORKS, isNetworkName, networksWithPubKeyHash } from './networks';
export type { BallotErrorCode, IdentityError, IdentityErrorCode, KeyFileErrorCode } from './errors';
export { BALLOT_ERROR_CODES, KEY_FILE_ERROR_CODES } from './errors';
export type { RandomSource } from './serial';
export {
  CROCKFORD_ALPHABET,
  SERIAL_LENGTH,
  deterministicRng,
  isSerial,
  normalizeSerial,
  randomSerials,
  secureRandom,
  serialHalves,
} from './serial';
export type { ParsedBallotId } from './ballot-id';
export { BALLOT_ID_LENGTH, BALLOT_ID_PREFIX, ballotIdMessage, parseBallotId } from './ballot-id';
export { BALLOT_BRANCH, ballotAddressPath, deriveBallotAddress, deriveBallotPrivateKey, parseAddress } from './address';
export type { ElectionKeys, ElectionPrivateKeys, ElectionPublicKeys, ScryptCost } from './keys';
export {
  ElectionKeysExistError,
  ElectionPublicKeysSchema,
  PRIVATE_FILE_NAME,
  PRIVATE_FORMAT,
  PUBLIC_FILE_NAME,
  PUBLIC_FORMAT,
  computeFingerprint,
  generateElectionKeys,
  keysMatch,
  loadElectionPrivateKeys,
  loadElectionPublicKeys,
  publicKeysFromJson,
  publicKeysOf,
  writeElectionKeys,
} from './keys';
export type { BallotCodes, ExpectedBallot, VerifiedBallot } from './verify';
export { issueBallotCodes, verifyBallotCodes } from './verify';
