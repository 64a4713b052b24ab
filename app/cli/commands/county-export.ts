import path from 'node:path';
import type { Command } from 'commander';
import { Argument, Option } from 'commander';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_OK, UsageError, action } from '../context';
import { CountyExportError } from '../../county-export/errors';
import type { CountyExportKind } from '../../county-export/export';
import { COUNTY_EXPORT_KINDS, exportForCounty } from '../../county-export/export';
import { LedgerError } from '../../ledger/errors';
import type { LedgerMode } from '../../ledger/record';
import { ledgerFileFor, resolveData, resolveHeadsDir, verifyOptionsFor } from './ledger';

interface ExportOpts {
  data: string;
  out: string;
  mode: LedgerMode;
  election?: string;
  heads?: string;
}

/** `tallyproof export cvr|events|results|arlo`: the county's formats, from a ledger that verifies (app/county-export/README.md). */
export function registerCountyExport(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description('county formats from the ledger: NIST cast vote records, NIST event log, NIST results + CSV, Arlo audit inputs')
    .addArgument(new Argument('<kind>', 'cvr | events | results | arlo').choices(COUNTY_EXPORT_KINDS))
    .requiredOption('--data <dir>', 'station data directory')
    .requiredOption('--out <dir>', 'directory to write into (made if missing); files are named <kind>-<station>-<mode>.*')
    .addOption(new Option('--mode <mode>', 'which ledger').choices(['official', 'test']).default('official'))
    .option('--election <file>', 'the election definition (needed by cvr, results, arlo; must be the ledger\'s)')
    .option('--heads <dir>', "the second location of the station's signed heads: a ledger cut short before one is not exported")
    .action(
      action(ctx, (kind: CountyExportKind, opts: ExportOpts) => {
        if (kind !== 'events' && opts.election === undefined) throw new UsageError(`export ${kind} needs --election <file>: the names of contests, choices and precincts come from the election definition`);
        try {
          const dir = resolveData(ctx, opts.data);
          const file = ledgerFileFor(dir, opts.mode);
          const result = exportForCounty({
            kind,
            ledgerFile: file,
            verify: verifyOptionsFor(dir, opts.mode, [], resolveHeadsDir(ctx, opts.heads)),
            outDir: path.resolve(ctx.cwd, opts.out),
            ...(opts.election === undefined ? {} : { electionFile: path.resolve(ctx.cwd, opts.election) }),
          });
          ctx.io.stdout(`${JSON.stringify(result)}\n`);
          return EXIT_OK;
        } catch (e) {
          if (e instanceof LedgerError || e instanceof CountyExportError) throw new CommandFailure(e.message);
          throw e;
        }
      }),
    );
}
