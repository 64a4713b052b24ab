import type { Command } from 'commander';
import type { CliContext } from '../context';
import { registerElectionKeys } from './election-keys';
import { notYetBuilt } from './pending';

export function registerElection(program: Command, ctx: CliContext): void {
  const election = program.command('election').description('election definitions and keys');
  election
    .command('validate')
    .description('check an election definition; every problem with its JSON path')
    .argument('<election.json>', 'election definition')
    .action(notYetBuilt('election validate', 2));
  registerElectionKeys(election, ctx);
}
