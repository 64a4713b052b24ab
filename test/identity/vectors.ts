import { bytesToHex } from '@noble/hashes/utils';
import type { BallotCodes, ElectionPublicKeys, NetworkName, VotingId } from '../../ballots/identity';
import {
  NETWORK_NAMES,
  ballotAddressPath,
  ballotIdMessage,
  deterministicRng,
  encodeVotingId,
  generateElectionKeys,
  issueBallotCodes,
  randomSerials,
} from '../../ballots/identity';

/**
 * Test vectors for the identity encodings: a fixed seed -> keys -> serials -> the three codes, per network.
 * vectors.json holds the output of `computeVectors()`; vectors.test.ts recomputes it, so any change to an
 * encoding, a network prefix, the derivation path or the signed message shows up as a diff. After an
 * intended change, regenerate with `node scripts/run-ts.js test/identity/make-vectors.ts` and say why in the
 * commit.
 */
export const VECTOR_SEED = 'tallyproof identity vectors 1';

export interface BallotVector {
  votingId: VotingId;
  serial: string;
  addressPath: string;
  messageSha256: string;
  codes: BallotCodes;
}

export interface NetworkVector {
  network: NetworkName;
  rngSeed: string;
  issuingPrivateKey: string;
  xprv: string;
  public: ElectionPublicKeys;
  serials: string[];
  ballots: BallotVector[];
}

export interface Vectors {
  about: string;
  seed: string;
  networks: NetworkVector[];
}

const ELECTION_HASH_PREFIX = '9f86d081884c7d65';

export function computeVectors(): Vectors {
  return {
    about:
      'Tallyproof ballot identity vectors. Keys: generateElectionKeys(network, deterministicRng(rngSeed)); serials: randomSerials(3, the same rng, continued); ' +
      'plus the extreme serials 000000000000 and ZZZZZZZZZZZZ. Codes: issueBallotCodes. See ballots/identity/FORMAT.md.',
    seed: VECTOR_SEED,
    networks: NETWORK_NAMES.map((network) => {
      const rngSeed = `${VECTOR_SEED}/${network}`;
      const rng = deterministicRng(rngSeed);
      const keys = generateElectionKeys(network, rng);
      const serials = randomSerials(3, rng);
      const events: VotingId[] = [
        { electionHashPrefix: ELECTION_HASH_PREFIX, precinctId: 'north-1', styleId: 'style-a', side: 'front', mode: 'official' },
        { electionHashPrefix: ELECTION_HASH_PREFIX, precinctId: 'north-1', styleId: 'style-a', side: 'back', mode: 'official' },
        // the longest voting ID: two 32-character ids
        { electionHashPrefix: ELECTION_HASH_PREFIX, precinctId: 'precinct-32-characters-long-0001', styleId: 'style-32-characters-long-0000002', side: 'front', mode: 'test' },
      ];
      const plan: [VotingId, string][] = [
        [events[0] as VotingId, serials[0] as string],
        [events[1] as VotingId, serials[0] as string],
        [events[2] as VotingId, serials[1] as string],
        [events[0] as VotingId, serials[2] as string],
        [events[0] as VotingId, '000000000000'],
        [events[0] as VotingId, 'ZZZZZZZZZZZZ'],
      ];
      return {
        network,
        rngSeed,
        issuingPrivateKey: bytesToHex(keys.private.issuingPrivateKey),
        xprv: keys.private.xprv,
        public: keys.public,
        serials,
        ballots: plan.map(([votingId, serial]) => ({
          votingId,
          serial,
          addressPath: ballotAddressPath(serial),
          messageSha256: bytesToHex(ballotIdMessage(encodeVotingId(votingId), serial)),
          codes: issueBallotCodes(keys.private, keys.public, votingId, serial),
        })),
      };
    }),
  };
}
