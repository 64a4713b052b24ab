import path from 'node:path';
import type { Command } from 'commander';
import { Argument, Option } from 'commander';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_OK, UsageError, action } from '../context';
import { CountyExportError } from '../../county-export/errors';
import type { CountyExportKind } from '../../county-export/export';
import { COUNTY_EXPORT_KINDS, exportForCounty } from '../../county-export/export';
import { LedgerError } from '../../ledger/errors';
import { dataLayout } from '../../ledger/layout';
import type { LedgerToMatch } from '../../county-export/export-verify';
import { verifyExport } from '../../county-export/export-verify';
import type { LedgerMode } from '../../ledger/record';
import { ledgerFileFor, resolveData, resolveHeadsDir, verifyOptionsFor } from './ledger';

interface ExportOpts {
  data?: string;
  out?: string;
  mode: LedgerMode;
  election?: string;
  heads?: string;
  stationKey?: string[];
}

/** `tallyproof export cvr|events|results|arlo` (the county's formats, from a ledger that verifies) and `export verify <dir>` (app/county-export/README.md, EXPORT.md). */
export function registerCountyExport(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description('county formats from the ledger: NIST cast vote records, NIST event log, NIST results + CSV, Arlo audit inputs; `export verify <dir>` checks a continuous export')
    .addArgument(new Argument('<kind>', 'cvr | events | results | arlo | verify').choices([...COUNTY_EXPORT_KINDS, 'verify']))
    .addArgument(new Argument('[dir]', 'verify: the export device (or one tallyproof-<station>-<mode> folder on it)'))
    .option('--data <dir>', 'station data directory (verify: hold the export to this ledger)')
    .option('--out <dir>', 'directory to write into (made if missing); files are named <kind>-<station>-<mode>.*')
    .addOption(new Option('--mode <mode>', 'which ledger').choices(['official', 'test']).default('official'))
    .option('--election <file>', "the election definition (needed by cvr, results, arlo; must be the ledger's; verify: default <data>/election/election.json)")
    .option('--heads <dir>', "the second location of the station's signed heads: a ledger cut short before one is not exported")
    .option('--station-key <hex>', "verify: a station key (64 hex digits, as the election office registered it) the manifest must be signed with; repeat for several stations", (v: string, prev: string[] = []) => [...prev, v])
    .action(
      action(ctx, (kind: CountyExportKind | 'verify', dir: string | undefined, opts: ExportOpts) => {
        if (kind === 'verify') return verifyCommand(ctx, dir, opts);
        if (dir !== undefined) throw new UsageError(`export ${kind} takes no directory argument (--out <dir> says where to write)`);
        if (opts.data === undefined) throw new UsageError(`export ${kind} needs --data <dir>`);
        if (opts.out === undefined) throw new UsageError(`export ${kind} needs --out <dir>`);
        if (kind !== 'events' && opts.election === undefined) throw new UsageError(`export ${kind} needs --election <file>: the names of contests, choices and precincts come from the election definition`);
        try {
          const data = resolveData(ctx, opts.data);
          const file = ledgerFileFor(data, opts.mode);
          const result = exportForCounty({
            kind,
            ledgerFile: file,
            verify: verifyOptionsFor(data, opts.mode, [], resolveHeadsDir(ctx, opts.heads)),
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

/**
 * Prints the report as JSON; exit 1 naming every problem (file and what is wrong), 0 when the export verifies
 * (and, with --data, matches the ledger exactly).
 */
/** The first value that is not 64 hex digits, if any. */
function kindOfKeys(keys: readonly string[]): string | undefined {
  return keys.find((k) => !/^[0-9a-fA-F]{64}$/.test(k));
}

function verifyCommand(ctx: CliContext, dir: string | undefined, opts: ExportOpts): number {
  if (dir === undefined) throw new UsageError('export verify needs the export directory: tallyproof export verify <dir> [--data <station data>]');
  if (opts.out !== undefined) throw new UsageError('export verify writes nothing: no --out');
  let ledger: LedgerToMatch | undefined;
  if (opts.data !== undefined) {
    const data = resolveData(ctx, opts.data);
    const heads = resolveHeadsDir(ctx, opts.heads);
    ledger = {
      ledgerFile: (mode) => ledgerFileFor(data, mode),
      verify: (mode) => verifyOptionsFor(data, mode, [], heads),
      electionFile: opts.election === undefined ? path.join(data, 'election', 'election.json') : path.resolve(ctx.cwd, opts.election),
      imagesDir: dataLayout(data).images,
    };
  } else if (opts.election !== undefined) throw new UsageError('export verify uses --election only with --data (to hold the export to the ledger)');
  if (opts.stationKey !== undefined && kindOfKeys(opts.stationKey) !== undefined) throw new UsageError(`--station-key ${kindOfKeys(opts.stationKey) as string} is not a station key: 64 hex digits`);
  const trusted = opts.stationKey === undefined ? undefined : new Set(opts.stationKey.map((k) => k.toLowerCase()));
  let report;
  try {
    report = verifyExport(path.resolve(ctx.cwd, dir), ledger, trusted);
  } catch (e) {
    if (e instanceof LedgerError || e instanceof CountyExportError || e instanceof Error) throw new CommandFailure(`export verify: ${e.message}`);
    throw e;
  }
  ctx.io.stdout(`${JSON.stringify(report)}\n`);
  for (const f of report.folders) {
    if (!f.keyChecked && f.signedBy !== null) ctx.io.stderr(`export verify: not checked: whose key signed ${path.basename(f.folder)} (${f.signedBy}): compare it with the station's registered key, or give --station-key or --data\n`);
    for (const p of f.privacy) ctx.io.stderr(`export verify: privacy: ${path.join(path.basename(f.folder), p.file)}: ${p.problem}\n`);
  }
  if (report.ok) return EXIT_OK;
  const lines = report.folders.flatMap((f) => f.problems.map((p) => `${path.join(path.basename(f.folder), p.file)}: ${p.problem}`));
  throw new CommandFailure(`export verify: ${lines.length} problem(s):\n${lines.slice(0, 50).join('\n')}${lines.length > 50 ? `\n… and ${lines.length - 50} more (all in the JSON report)` : ''}`);
}
