import type { Command } from 'commander';
import type { CliContext } from '../context';
import { notYetBuilt } from './pending';

export function registerLedger(program: Command, _ctx: CliContext): void {
  const ledger = program.command('ledger').description('verify, tally or export the ballot ledger');
  for (const [name, what] of [
    ['verify', 're-hash the whole ledger and every batch; name the first bad entry'],
    ['tally', 'per-contest totals from the ledger'],
    ['export', "write the auditor's bundle"],
  ] as const) {
    ledger
      .command(name)
      .description(what)
      .requiredOption('--data <dir>', 'station data directory')
      .action(notYetBuilt(`ledger ${name}`, 4));
  }
}
