import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { openScanner, type OpenedScanner, type ScannerConfig } from '../../../firmware-bridge/config';
import { parseFaultPlan } from '../../../firmware-bridge/simulator/faults';
import { readStationPassphrase } from '../../ledger/passphrase';
import { checkScannerDevice, electionPublicKeyFile, readPins } from '../../station/station-config';
import { serveStation } from '../../station/http-server';
import { missingAllocatorSettings } from '../../station/allocator-env';
import { DEFAULT_READER_WORKERS, startStation, type Station } from '../../station/station';
import { IMAGE_RETENTIONS, type ImageRetention } from '../../station/sheet-images';
import { intOption } from '../args';
import type { PrinterConfig } from '../../print/config';
import { parsePrinterArg } from '../../print/config';
import { whenLauncherGone } from '../launcher-watch';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_OK, UsageError, action } from '../context';

export const DEFAULT_HEADLESS_PORT = 8470;

interface StationCliOptions {
  simulate?: string;
  serial?: string;
  sane?: string;
  simulateTimings: 'zero' | 'realistic';
  simulateFaults?: string;
  streakAlarmAfter?: number;
  staffIdleSignOut?: number;
  signedHeadsDir?: string;
  exportDir?: string;
  /** default 'stop' (commander fills it in) */
  exportWhenDeviceFails?: 'stop' | 'warn';
  exportAnyDir?: boolean;
  readerWorkers: number;
  headless?: boolean;
  port: number;
  data: string;
  election?: string;
  keys?: string;
  precinct?: string;
  calibration?: string;
  pinsFile?: string;
  passphraseFile?: string;
  printer?: string;
  imageRetention?: ImageRetention;
}

export function registerStation(program: Command, ctx: CliContext): void {
  program
    .command('station')
    .description('run the polling-station service (kiosk UI, or headless on 127.0.0.1)')
    .option('--simulate <dir>', 'simulated serial scanner fed from a folder of ballot images')
    .option('--serial <path>', 'scanner controller on a serial port')
    .option('--sane <device>', 'SANE document scanner')
    .option('--headless', 'serve the UI over HTTP on 127.0.0.1 instead of the kiosk window')
    .option('--port <n>', 'HTTP port for --headless (0: any free port)', intOption('--port', 0, 65535), DEFAULT_HEADLESS_PORT)
    .option('--data <dir>', 'station data directory', 'tallyproof-station')
    .option('--election <file>', 'election definition (JSON)')
    .option('--keys <dir|file>', "the election's public keys: the directory `election keys` wrote, or its election-public.json (default: beside the election file)")
    .option('--precinct <id>', 'the precinct this station serves')
    .option('--calibration <file>', 'scanner calibration profile (default: the built-in profile)')
    .option('--pins-file <file>', 'PINs: poll-worker=…,captain=…,auditor=… or JSON (default: $TALLYPROOF_PINS)')
    .option('--passphrase-file <file>', 'station key passphrase (default: $TALLYPROOF_STATION_PASSPHRASE)')
    .addOption(new Option('--simulate-timings <t>', 'motor timings of the simulated scanner').choices(['zero', 'realistic']).default('realistic'))
    .option('--simulate-faults <plan>', 'faults the simulated scanner plays, for poll-worker drills: 3=jam@accepting,7=double-sheet (sheets counted from 1) or random:SEED:RATE')
    .option('--reader-workers <n>', "threads that read sheets beside the station's own work (0: in the station's thread)", intOption('--reader-workers', 0, 8), DEFAULT_READER_WORKERS)
    .option('--printer <spec>', 'where tapes are printed: escpos:<device>, cups[:queue], cups-roll:<queue>, simulated:<dir>, simulated-letter:<dir> (default: PDF files in <data>/tapes only)')
    .option('--streak-alarm-after <n>', 'sheets in a row returned for scanner streaks before the alarm stops the feeder', intOption('--streak-alarm-after', 1, 100))
    .option('--staff-idle-sign-out <seconds>', 'a staff sign-in unused this long ends by itself (default 120)', intOption('--staff-idle-sign-out', 15, 3600))
    .option('--signed-heads-dir <dir>', "second location of the ledgers' signed heads: the export device or a directory on another disk")
    .option('--export-dir <dir>', "continuous export: every cast ballot's CVR to this directory, the export device's mount point (station.json continuousExport)")
    .addOption(new Option('--export-when-device-fails <what>', 'when the export device is missing or full: stop taking ballots, or warn and keep scanning').choices(['stop', 'warn']).default('stop'))
    .option('--export-any-dir', 'let --export-dir be a directory that is not a mount point (demos, tests)')
    .addOption(new Option('--image-retention <which>', 'scans kept, encrypted, in <data>/images: all, adjudication (marginal marks and write-ins only) or none (default all)').choices([...IMAGE_RETENTIONS]))
    .action(action(ctx, (opts: StationCliOptions) => runStation(ctx, opts, untilSignal)));
}

/**
 * Resolves on the first Ctrl-C or SIGTERM, or when the bin/tallyproof launcher that started this station is
 * gone; a second signal ends the process the default way.
 */
function untilSignal(): Promise<string> {
  const launcher = whenLauncherGone();
  return new Promise((resolve) => {
    const done = (why: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      launcher.stop();
      resolve(why);
    };
    const on = (sig: NodeJS.Signals) => done(sig);
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    void launcher.gone.then(() => done('its launcher is gone'));
  });
}

function scannerConfig(opts: StationCliOptions, cwd: string): ScannerConfig {
  const given = [opts.simulate !== undefined && '--simulate', opts.serial !== undefined && '--serial', opts.sane !== undefined && '--sane'].filter((x): x is string => x !== false);
  if (given.length !== 1) {
    throw new UsageError(given.length === 0 ? 'choose the scanner: --simulate <dir>, --serial <path> or --sane <device>' : `choose one scanner, not ${given.join(' and ')}`);
  }
  if (opts.simulateFaults !== undefined && opts.simulate === undefined) throw new UsageError('--simulate-faults needs --simulate <dir>: a real scanner has its own faults');
  if (opts.simulate !== undefined) {
    const faults = opts.simulateFaults === undefined ? undefined : parseFaultPlan(opts.simulateFaults);
    if (faults !== undefined && !faults.ok) throw new UsageError(`--simulate-faults: ${faults.error}`);
    return { kind: 'simulated', deckDir: path.resolve(cwd, opts.simulate), timings: opts.simulateTimings, ...(opts.simulateFaults !== undefined ? { faults: opts.simulateFaults } : {}) };
  }
  if (opts.serial !== undefined) return { kind: 'serial', path: path.resolve(cwd, opts.serial) };
  return { kind: 'sane', device: opts.sane ?? '' };
}

/** The command's body; `until` resolves when the station should stop (a signal, or a test). */
export async function runStation(ctx: CliContext, opts: StationCliOptions, until: () => Promise<string>): Promise<number> {
  if (opts.headless !== true) {
    throw new CommandFailure(
      'the kiosk window is the Electron app, not this command: start it with `npm start` where Electron is installed (or run the installed Tallyproof package). ' +
        'Without Electron, serve the same screens to a browser on this machine: tallyproof station --headless --port N …',
    );
  }
  if (opts.election === undefined) throw new UsageError('--election <file> is required');
  if (opts.precinct === undefined) throw new UsageError('--precinct <id> is required');
  const scanner = scannerConfig(opts, ctx.cwd);
  let printer: PrinterConfig | undefined;
  try {
    printer = opts.printer === undefined ? undefined : parsePrinterArg(opts.printer);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (printer?.kind === 'simulated') printer = { ...printer, dir: path.resolve(ctx.cwd, printer.dir) };
  const pins = readPins(opts.pinsFile === undefined ? undefined : path.resolve(ctx.cwd, opts.pinsFile));
  if (!pins.ok) throw new CommandFailure(pins.error);
  let passphrase: string;
  try {
    passphrase = readStationPassphrase(opts.passphraseFile === undefined ? undefined : path.resolve(ctx.cwd, opts.passphraseFile));
  } catch (e) {
    throw new CommandFailure((e as Error).message);
  }
  const device = checkScannerDevice(scanner, '--serial');
  if (!device.ok) throw new CommandFailure(device.error);
  const election = path.resolve(ctx.cwd, opts.election);
  const keys = electionPublicKeyFile(opts.keys === undefined ? path.dirname(election) : path.resolve(ctx.cwd, opts.keys));
  const log = (m: string) => ctx.io.stderr(`${m}\n`);
  const missing = missingAllocatorSettings();
  if (missing.length > 0) log(`tallyproof station: started without ${missing.join(', ')} (bin/tallyproof and npm start set it): its memory will climb over the day`);

  let opened: OpenedScanner | undefined;
  let station: Station | undefined;
  try {
    try {
      opened = await openScanner(scanner, log);
    } catch (e) {
      throw new CommandFailure(`cannot open the scanner: ${(e as Error).message}`);
    }
    try {
      station = await startStation({
        dataDir: path.resolve(ctx.cwd, opts.data),
        election,
        electionKeys: keys,
        precinct: opts.precinct,
        ...(opts.calibration !== undefined ? { calibration: path.resolve(ctx.cwd, opts.calibration) } : {}),
        scanner: opened.driver,
        stationPassphrase: passphrase,
        pins: pins.value,
        ...(opts.streakAlarmAfter !== undefined ? { streakAlarmAfter: opts.streakAlarmAfter } : {}),
        ...(opts.staffIdleSignOut !== undefined ? { staffIdleSignOutSeconds: opts.staffIdleSignOut } : {}),
        ...(opts.signedHeadsDir !== undefined ? { signedHeadsDir: path.resolve(ctx.cwd, opts.signedHeadsDir) } : {}),
        ...(opts.exportDir !== undefined ? { continuousExport: { dir: path.resolve(ctx.cwd, opts.exportDir), whenDeviceFails: opts.exportWhenDeviceFails ?? 'stop', mustBeMountPoint: opts.exportAnyDir !== true } } : {}),
        readerWorkers: opts.readerWorkers,
        ...(printer !== undefined ? { printer } : {}),
        ...(opts.imageRetention !== undefined ? { imageRetention: opts.imageRetention } : {}),
        log,
      });
    } catch (e) {
      throw new CommandFailure(`the station did not start: ${(e as Error).message}`);
    }
    let server;
    try {
      server = await serveStation(station, { port: opts.port });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CommandFailure(code === 'EADDRINUSE' ? `port ${opts.port} on 127.0.0.1 is in use: choose another with --port` : `cannot serve the kiosk page: ${(e as Error).message}`);
    }
    ctx.io.stdout(`tallyproof station: headless, open ${server.url} in a browser on this machine (Ctrl-C stops)\n`);
    const why = await until();
    ctx.io.stdout(`tallyproof station: ${why}, stopping\n`);
    await server.close();
    return EXIT_OK;
  } finally {
    await station?.close();
    await opened?.close();
    if (station !== undefined) ctx.io.stdout('tallyproof station: stopped\n');
  }
}
