import type { Command } from 'commander';
import type { CliContext } from '../context';
import { notYetBuilt } from './pending';

export function registerPublish(program: Command, _ctx: CliContext): void {
  program
    .command('publish')
    .description('publish closed batches: records to the high-capacity chain, one anchor to Bitcoin')
    .requiredOption('--data <dir>', 'station data directory')
    .requiredOption('--chains <file>', 'chains.json: chain profiles and node RPC endpoints')
    .action(notYetBuilt('publish', 5));
}
