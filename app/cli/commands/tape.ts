import type { Command } from 'commander';
import type { CliContext } from '../context';
import { notYetBuilt } from './pending';

export function registerTape(program: Command, _ctx: CliContext): void {
  const tape = program.command('tape').description('print the zero tape or the results tape');
  for (const kind of ['zero', 'results'] as const) {
    tape
      .command(kind)
      .description(`print the ${kind} tape as a PDF`)
      .requiredOption('--data <dir>', 'station data directory')
      .requiredOption('--out <file>', 'PDF to write')
      .action(notYetBuilt(`tape ${kind}`, 7));
  }
}
