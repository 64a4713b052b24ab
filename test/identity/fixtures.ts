import type { ElectionKeys, ExpectedBallot, NetworkName, VotingId } from '../../ballots/identity';
import { deterministicRng, generateElectionKeys } from '../../ballots/identity';

/** A fixed election for the identity tests: hash, keys from a seed, a precinct/style map. */
export const ELECTION_HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
export const OTHER_ELECTION_HASH = '60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752';

const keyCache = new Map<string, ElectionKeys>();
export function fixedKeys(network: NetworkName = 'florincoin-regtest', seed = 'identity-tests'): ElectionKeys {
  const k = `${network}/${seed}`;
  let keys = keyCache.get(k);
  if (!keys) {
    keys = generateElectionKeys(network, deterministicRng(`${seed}/${network}`));
    keyCache.set(k, keys);
  }
  return keys;
}

export function votingId(over: Partial<VotingId> = {}): VotingId {
  return {
    electionHashPrefix: ELECTION_HASH.slice(0, 16),
    precinctId: 'north-1',
    styleId: 'style-a',
    side: 'front',
    mode: 'official',
    ...over,
  };
}

export const VALID_STYLES: ReadonlyMap<string, readonly string[]> = new Map([
  ['north-1', ['style-a', 'style-b']],
  ['south-2', ['style-b']],
]);

export function expected(over: Partial<ExpectedBallot> = {}): ExpectedBallot {
  return { electionHash: ELECTION_HASH, mode: 'official', precinctId: 'north-1', validStyles: VALID_STYLES, ...over };
}

export const SERIAL = '7K2M9QX4VB0C';
export const OTHER_SERIAL = 'ZZ00WR8T5NJH';
