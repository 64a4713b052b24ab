import type { Command } from 'commander';
import type { CliContext } from '../context';
import { notYetBuilt } from './pending';

/** `tallyproof election keys`: the election's issuing key pair and extended public key. */
export function registerElectionKeys(election: Command, _ctx: CliContext): void {
  election
    .command('keys')
    .description("make an election's issuing key and extended public key (private part encrypted with a passphrase)")
    .requiredOption('--out <dir>', 'directory to write the key files to')
    .action(notYetBuilt('election keys', 2));
}
