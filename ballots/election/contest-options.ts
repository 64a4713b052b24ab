import type { BallotStyle, Contest, ElectionDefinition } from './schema';

/** One votable option of a contest, in ballot order: candidates, then write-in lines; or yes, no. */
export interface ContestOption {
  readonly id: string;
  readonly label: string;
  readonly party?: string;
  readonly writeIn: boolean;
}

export function contestOptions(contest: Contest, election?: ElectionDefinition): ContestOption[] {
  switch (contest.type) {
    case 'candidate': {
      const parties = new Map((election?.parties ?? []).map((p) => [p.id, p]));
      const candidates = contest.candidates.map((c): ContestOption => {
        const party = c.party === undefined ? undefined : (parties.get(c.party)?.name ?? c.party);
        return party === undefined ? { id: c.id, label: c.name, writeIn: false } : { id: c.id, label: c.name, party, writeIn: false };
      });
      const writeIns = Array.from({ length: contest.writeIns }, (_, i): ContestOption => ({ id: `write-in-${i + 1}`, label: 'Write-in', writeIn: true }));
      return [...candidates, ...writeIns];
    }
    case 'measure':
      return [
        { id: 'yes', label: contest.yesLabel, writeIn: false },
        { id: 'no', label: contest.noLabel, writeIn: false },
      ];
  }
}

export function voteFor(contest: Contest): number {
  return contest.type === 'candidate' ? contest.voteFor : 1;
}

export function styleContests(election: ElectionDefinition, style: BallotStyle): Contest[] {
  const byId = new Map(election.contests.map((c) => [c.id, c]));
  return style.contests.map((id) => {
    const c = byId.get(id);
    if (!c) throw new Error(`ballot style "${style.id}" names unknown contest "${id}" (validate the election first)`);
    return c;
  });
}

export function findStyle(election: ElectionDefinition, styleId: string): BallotStyle | undefined {
  return election.ballotStyles.find((s) => s.id === styleId);
}
