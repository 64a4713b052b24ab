import { CommandFailure } from '../context';

/**
 * The action of a contract command whose capability has not landed yet: it says so and which issue
 * tracks it, and fails (exit 1) rather than pretending to work.
 */
export function notYetBuilt(command: string, issue: number): () => never {
  return () => {
    throw new CommandFailure(`\`tallyproof ${command}\` is not built yet (tracked in issue ${issue})`);
  };
}
