import type { Contest } from './schema';
import { contestOptions, voteFor } from './contest-options';

/** What one contest on one ballot says: the reader's result and the test deck's truth share this shape. */
export interface ContestResult {
  /** Option ids read as votes, in ballot order (an overvote keeps them all). */
  readonly selections: readonly string[];
  readonly overvote: boolean;
  /** Votes left unused (0 when overvoted). */
  readonly undervote: number;
  /** Options with a mark too light or small to count or to ignore. */
  readonly marginal: readonly string[];
  /** No vote and no marginal mark. */
  readonly blank: boolean;
  /** A write-in line is among the votes. */
  readonly writeIn: boolean;
}

export function contestResult(contest: Contest, filled: ReadonlySet<string>, marginal: ReadonlySet<string>): ContestResult {
  const options = contestOptions(contest);
  const selections = options.filter((o) => filled.has(o.id)).map((o) => o.id);
  const marginalIds = options.filter((o) => marginal.has(o.id)).map((o) => o.id);
  const n = voteFor(contest);
  const overvote = selections.length > n;
  return {
    selections,
    overvote,
    undervote: overvote ? 0 : n - selections.length,
    marginal: marginalIds,
    blank: selections.length === 0 && marginalIds.length === 0,
    writeIn: options.some((o) => o.writeIn && filled.has(o.id)),
  };
}
