import type { Command } from 'commander';
import { formatProblems, loadElection } from '../../../ballots/election';
import type { CliContext } from '../context';
import { EXIT_FAILURE, EXIT_OK, action } from '../context';
import { registerElectionKeys } from './election-keys';

export function registerElection(program: Command, ctx: CliContext): void {
  const election = program.command('election').description('election definitions and keys');
  election
    .command('validate')
    .description('check an election definition; every problem with its JSON path')
    .argument('<election.json>', 'election definition')
    .action(
      action(ctx, (file: string) => {
        const result = loadElection(file);
        if (!result.ok) {
          ctx.io.stderr(`${file}: ${result.error.length} problem${result.error.length === 1 ? '' : 's'}\n${formatProblems(result.error)}\n`);
          return EXIT_FAILURE;
        }
        const { definition, hash, warnings } = result.value;
        if (warnings.length > 0) ctx.io.stderr(`warnings:\n${formatProblems(warnings)}\n`);
        ctx.io.stdout(
          `${file}: valid\n` +
            `  election   ${definition.election.id}: ${definition.election.title} (${definition.election.date})\n` +
            `  contests   ${definition.contests.length}, precincts ${definition.precincts.length}, ballot styles ${definition.ballotStyles.length}\n` +
            `  hash       ${hash}\n`,
        );
        return EXIT_OK;
      }),
    );
  registerElectionKeys(election, ctx);
}
