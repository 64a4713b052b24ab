import type { Command } from 'commander';
import type { CliContext } from '../context';
import { notYetBuilt } from './pending';

export function registerAudit(program: Command, _ctx: CliContext): void {
  const audit = program.command('audit').description("check an auditor's bundle without trusting the station");
  audit
    .command('verify')
    .description('verify every proof, signature, anchor and the tally in a bundle')
    .requiredOption('--bundle <dir>', 'bundle directory written by `ledger export`')
    .option('--rpc <url>', 'also check against a chain node')
    .option('--ballot-id <id>', 'look up one paper ballot')
    .action(notYetBuilt('audit verify', 5));
}
