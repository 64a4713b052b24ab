import type { Command } from 'commander';
import type { CliContext } from '../context';
import { intOption } from '../args';
import { notYetBuilt } from './pending';

export function registerStation(program: Command, _ctx: CliContext): void {
  program
    .command('station')
    .description('run the polling-station service (kiosk UI, or headless on 127.0.0.1)')
    .option('--simulate <dir>', 'simulated serial scanner fed from a folder of ballot images')
    .option('--serial <path>', 'scanner controller on a serial port')
    .option('--sane <device>', 'SANE document scanner')
    .option('--headless', 'serve the UI over HTTP on 127.0.0.1 instead of the kiosk window')
    .option('--port <n>', 'HTTP port for --headless', intOption('--port', 1, 65535))
    .option('--data <dir>', 'station data directory')
    .action(notYetBuilt('station', 7));
}
