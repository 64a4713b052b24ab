import type { ElectionDefinition } from '../../ballots/election';
import type { CalibrationProfile } from '../../calibration/profile';
import { describeThresholds } from '../../calibration/profile';
import { isoSeconds } from '../ledger/events';
import type { LedgerTapeData } from './ledger-tape';
import type { TapeInput } from './tapes';

/** What a tape takes from outside the ledger: the election package the station loaded and its precinct. */
export interface TapeSetup {
  readonly election: ElectionDefinition;
  readonly precinct: string;
  readonly profile: CalibrationProfile;
}

export interface BuiltTape {
  readonly input: TapeInput;
  /** the time the tape prints: the ledger's close of polls (official results), else the clock given */
  readonly printedAt: string;
  /** the line the printed head gets in the heads file (`ledger verify` holds the ledger to it) */
  readonly headNote: string;
}

/**
 * The zero or results tape of a verified ledger read (ledger-tape.ts): the one builder the station's tape
 * desk and `tallyproof tape` share, so a tape printed at the station and one printed later from its data
 * directory say the same thing. Everything but the election, precinct and thresholds comes from the ledger;
 * `now` is used only where no ledger event gives the time (a zero tape, a test-mode results tape).
 */
export function buildTapeInput(kind: 'zero' | 'results', data: LedgerTapeData, setup: TapeSetup, now: Date): BuiltTape {
  const mode = data.genesis.mode;
  const clock = isoSeconds(now);
  // an official results tape prints the ledger's close of polls, and renderTape refuses any other time
  const officialResults = kind === 'results' && mode === 'official';
  const input: TapeInput = {
    election: setup.election,
    // the hash the ledger's genesis names (the ballots and the records carry it)
    electionHash: data.genesis.election.hash,
    precinct: setup.precinct,
    stationId: data.genesis.station.id,
    mode,
    // a zero tape gets the tally too, so that one printed over counted ballots is refused
    tally: data.tally,
    thresholds: [describeThresholds(setup.profile)],
    ledgerHead: data.head,
    facts: data.facts,
    ...(kind === 'results' && data.checkpoint !== undefined ? { checkpoint: data.checkpoint } : {}),
    ...(officialResults ? {} : { printedAt: clock }),
  };
  const printedAt = officialResults ? (data.facts.closed?.at ?? clock) : clock;
  return { input, printedAt, headNote: `the ${kind} tape printed ${printedAt}` };
}
