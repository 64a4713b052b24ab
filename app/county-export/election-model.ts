import type { Contest, ElectionDefinition } from '../../ballots/election';
import { contestOptions, loadElection, voteFor } from '../../ballots/election';
import type { ContestOption } from '../../ballots/election';
import { parseVotingId } from '../../ballots/identity/voting-id';
import type { Genesis } from '../ledger/entries';
import { LedgerError } from '../ledger/errors';

/**
 * The election definition as every county export names it: contests with their options in the ledger's
 * order (definition order: candidates, then write-in lines; or yes, no), checked against the ledger's
 * genesis so that an option index in a record names the same choice here. Identifiers of the NIST
 * documents are made from the definition's own ids with a prefix per kind, so they are unique within a
 * document and stable from one export to the next.
 */
export interface ModelContest {
  readonly contest: Contest;
  readonly index: number;
  readonly seats: number;
  readonly options: readonly ContestOption[];
}

export interface ElectionModel {
  readonly definition: ElectionDefinition;
  readonly hash: string;
  readonly contests: readonly ModelContest[];
}

export const nistId = {
  election: (e: ElectionDefinition): string => `election-${e.election.id}`,
  jurisdiction: 'gp-jurisdiction',
  precinct: (id: string): string => `gp-precinct-${id}`,
  station: (stationId: string): string => `device-${stationId}`,
  pollingPlace: (stationId: string): string => `gp-polling-place-${stationId}`,
  party: (id: string): string => `party-${id}`,
  contest: (id: string): string => `contest-${id}`,
  candidate: (contestId: string, candidateId: string): string => `candidate-${contestId}-${candidateId}`,
  selection: (contestId: string, optionId: string): string => `selection-${contestId}-${optionId}`,
};

/** Loads the definition and holds it to the ledger: same election hash, same contests, options and seats. */
export function electionModelFor(file: string, genesis: Genesis): ElectionModel {
  const loaded = loadElection(file);
  if (!loaded.ok) {
    const first = loaded.error[0];
    throw new LedgerError('wrong-ledger', file, `not a valid election definition${first ? ` (${first.path}: ${first.message})` : ''}`);
  }
  return electionModelOf(loaded.value, genesis, file);
}

/** A loaded definition held to the ledger (the station's own, already validated; `source` names it in errors). */
export function electionModelOf(valid: { readonly definition: ElectionDefinition; readonly hash: string }, genesis: Genesis, file: string): ElectionModel {
  const { definition, hash } = valid;
  if (hash !== genesis.election.hash) throw new LedgerError('wrong-ledger', file, `this election definition has election hash ${hash}, the ledger is for ${genesis.election.hash}`);
  const contests = definition.contests.map((contest, index): ModelContest => {
    const g = genesis.election.contests[index];
    const options = contestOptions(contest, definition);
    if (g === undefined || g.id !== contest.id || g.seats !== voteFor(contest) || g.options.join('\n') !== options.map((o) => o.id).join('\n')) {
      throw new LedgerError('wrong-ledger', file, `contest ${index + 1} ("${contest.id}") differs from the ledger's contest map`);
    }
    return { contest, index, seats: voteFor(contest), options };
  });
  if (genesis.election.contests.length !== contests.length) throw new LedgerError('wrong-ledger', file, `the ledger has ${genesis.election.contests.length} contests, the definition ${contests.length}`);
  return { definition, hash, contests };
}

export interface BallotPlace {
  readonly precinctId: string;
  readonly styleId: string;
}

/** Precinct and ballot style from the voting ID the station read off the paper (QR 3). */
export function placeOf(votingId: string, file: string): BallotPlace {
  const v = parseVotingId(votingId);
  if (!v.ok) throw new LedgerError('corrupt', file, `a cast ballot's voting ID "${votingId}" does not parse: ${v.error.message}`);
  return { precinctId: v.value.precinctId, styleId: v.value.styleId };
}

/** A party's name by id ('' when none). */
export function partyName(def: ElectionDefinition, id: string | undefined): string {
  if (id === undefined) return '';
  return def.parties.find((p) => p.id === id)?.name ?? id;
}

/** The candidate's party id (the option's `party` is the party's name, for printing). */
export function candidatePartyId(contest: Contest, optionId: string): string | undefined {
  return contest.type === 'candidate' ? contest.candidates.find((c) => c.id === optionId)?.party : undefined;
}
