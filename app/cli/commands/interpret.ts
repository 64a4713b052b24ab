import type { Command } from 'commander';
import type { CliContext } from '../context';
import { notYetBuilt } from './pending';

export function registerInterpret(program: Command, _ctx: CliContext): void {
  program
    .command('interpret')
    .description('read scanned ballot images: codes, alignment, marks; one JSON object per line')
    .requiredOption('--election <file>', 'election definition JSON')
    .option('--calibration <file>', 'scanner calibration profile JSON')
    .option('--json', 'print one JSON object per image')
    .argument('<image...>', 'scanned ballot images')
    .action(notYetBuilt('interpret', 3));
  program
    .command('calibrate')
    .description('derive mark thresholds from scans of blank and marked calibration sheets')
    .requiredOption('--election <file>', 'election definition JSON')
    .requiredOption('--out <file>', 'calibration profile to write')
    .argument('<image...>', 'calibration sheet scans')
    .action(notYetBuilt('calibrate', 3));
}
