/** What replay finds wrong with an entry: the first problem stops it, naming the entry. */
export type ProblemKind = 'deleted' | 'out-of-order' | 'changed' | 'invalid' | 'duplicate' | 'batch-mismatch' | 'bad-signature' | 'rewritten' | 'truncated';

export interface Problem {
  readonly seq: number;
  readonly kind: ProblemKind;
  readonly message: string;
}

export class ReplayProblem extends Error {
  override readonly name = 'ReplayProblem';
  constructor(readonly problem: Problem) {
    super(`entry ${problem.seq}: ${problem.message}`);
  }
}

export function fail(seq: number, kind: ProblemKind, message: string): never {
  throw new ReplayProblem({ seq, kind, message });
}
