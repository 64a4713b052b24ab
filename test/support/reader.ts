import { DEFAULT_PROFILE } from '../../calibration/profile';
import type { ReaderSetup } from '../../ballots/read/interpret';
import { BallotReader } from '../../ballots/read/interpret';
import type { DeckOptions , TestDeck } from '../../ballots/testdeck';
import { DEFAULT_KIND_WEIGHTS, MARK_KINDS } from '../../ballots/testdeck';
import { example, testKeys } from './ballots';

export function deckOptions(over: Partial<DeckOptions> = {}): DeckOptions {
  const keys = testKeys();
  return {
    election: example('municipal'),
    publicKeys: keys.public,
    privateKeys: keys.private,
    seed: 'reader-tests',
    dpi: 150,
    mode: 'official',
    precinctId: 'p-101',
    kinds: DEFAULT_KIND_WEIGHTS,
    markKinds: MARK_KINDS,
    distortion: 'none',
    streakRate: 0,
    strayMarks: false,
    marginalRate: 0,
    erasureRate: 0,
    format: 'png',
    ...over,
  };
}

/** A reader for the deck's election and station, with the test keys and the default profile. */
export function readerFor(deck: TestDeck, over: Partial<ReaderSetup> = {}): BallotReader {
  const o = deck.options;
  return new BallotReader({
    election: o.election,
    publicKeys: o.publicKeys,
    profile: DEFAULT_PROFILE,
    station: o.precinctId === undefined ? { mode: o.mode } : { mode: o.mode, precinctId: o.precinctId },
    ...over,
  });
}
