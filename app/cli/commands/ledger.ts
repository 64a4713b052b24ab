import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, UsageError, action } from '../context';
import { toHex } from '../../../lib/bytes';
import { LedgerError } from '../../ledger/errors';
import { exportBundle } from '../../ledger/export';
import { dataLayout } from '../../ledger/layout';
import type { LedgerMode } from '../../ledger/record';
import { readStationPublicKey } from '../../ledger/station-key';
import { adjudicationState } from '../../ledger/adjudicated-tally';
import type { ExternalHead, VerifyOptions } from '../../ledger/verify';
import { parseHeadArg, readHeadsFile, verifyLedgerFile } from '../../ledger/verify';
import { completeBundle } from '../../chain/bundle-complete';
import { BundleError } from '../../formats/bundle-files';
import { PublishError } from '../../chain/errors';
import type { ExportPublishing } from '../../chain/export-publishing';
import { exportPublishing } from '../../chain/export-publishing';

const MODES = ['official', 'test'] as const;

interface CommonOpts {
  data: string;
  mode?: LedgerMode;
}

function collectHead(raw: string, prev: ExternalHead[]): ExternalHead[] {
  try {
    return [...prev, parseHeadArg(raw)];
  } catch (e) {
    throw new UsageError(`--expect-head: ${(e as Error).message}`);
  }
}

/** Ledger files, key and printed heads of a data directory; failures name the path. */
export function verifyOptionsFor(dataDir: string, mode: LedgerMode, extraHeads: readonly ExternalHead[], signedHeadsDir?: string): VerifyOptions {
  const layout = dataLayout(dataDir);
  const heads = [...readHeadsFile(layout.heads(mode)), ...extraHeads];
  const stationPublicKey = fs.existsSync(layout.stationKey) ? readStationPublicKey(layout.stationKey).publicKey : undefined;
  return {
    expectedHeads: heads,
    ...(stationPublicKey === undefined ? {} : { stationPublicKey }),
    ...(signedHeadsDir === undefined ? {} : { signedHeadsDir }),
  };
}

/** `--heads <dir>`: must be a directory (a mistyped path would otherwise read as "no signed heads there"). */
export function resolveHeadsDir(ctx: CliContext, dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  const abs = path.resolve(ctx.cwd, dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new CommandFailure(`${abs}: --heads names no directory (the second location of the station's signed heads)`);
  return abs;
}

export function resolveData(ctx: CliContext, data: string): string {
  const dir = path.resolve(ctx.cwd, data);
  if (!fs.existsSync(dir)) throw new CommandFailure(`${dir}: no such station data directory`);
  return dir;
}

export function ledgerFileFor(dataDir: string, mode: LedgerMode): string {
  const file = dataLayout(dataDir).ledger(mode);
  if (!fs.existsSync(file)) throw new CommandFailure(`${file}: no ${mode} ledger in this data directory`);
  return file;
}

/** Storage and key errors are failures of the work (exit 1), already worded with the file. */
function failuresAsCommandFailure<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LedgerError || e instanceof BundleError) throw new CommandFailure(e.message);
    throw e;
  }
}

const modeOption = (what: string): Option => new Option('--mode <mode>', what).choices(MODES);

export function registerLedger(program: Command, ctx: CliContext): void {
  const ledger = program.command('ledger').description('verify, tally or export the ballot ledger');

  ledger
    .command('verify')
    .description('re-hash the whole ledger and every batch; name the first bad entry')
    .requiredOption('--data <dir>', 'station data directory')
    .addOption(modeOption('only this ledger (default: every ledger present)'))
    .option('--expect-head <seq:hash>', 'a head printed on a tape or anchored (repeatable)', collectHead, [] as ExternalHead[])
    .option('--heads <dir>', "the second location of the station's signed heads (station.json signedHeadsDir, or the export device)")
    .option('--json', 'print one JSON object per ledger')
    .action(
      action(ctx, (opts: CommonOpts & { expectHead: ExternalHead[]; heads?: string; json?: boolean }) =>
        failuresAsCommandFailure(() => {
          const dir = resolveData(ctx, opts.data);
          const headsDir = resolveHeadsDir(ctx, opts.heads);
          const modes = opts.mode !== undefined ? [opts.mode] : MODES.filter((m) => fs.existsSync(dataLayout(dir).ledger(m)));
          if (modes.length === 0) throw new CommandFailure(`${path.join(dir, 'ledger')}: no ledger found (expected official.sqlite or test.sqlite)`);
          let code = EXIT_OK;
          for (const mode of modes) {
            const file = ledgerFileFor(dir, mode);
            const report = verifyLedgerFile(file, verifyOptionsFor(dir, mode, opts.expectHead, headsDir));
            const s = report.summary;
            if (opts.json) {
              ctx.io.stdout(
                `${JSON.stringify({
                  file,
                  mode,
                  ok: report.ok,
                  problem: report.problem ?? null,
                  entries: s?.entries ?? null,
                  head: s ? { seq: s.head.seq, hash: toHex(s.head.hash) } : null,
                  cast: s?.cast ?? null,
                  returned: s?.returned ?? null,
                  pending: s?.pending ?? null,
                  batches: s?.batches.length ?? null,
                  sealedAt: s?.sealedAt ?? null,
                  adjudications: s?.adjudications ?? null,
                  checked: report.checked ?? [],
                  notChecked: report.unchecked ?? [],
                })}\n`,
              );
            } else if (report.ok && s) {
              ctx.io.stdout(
                `${mode}: ok: ${s.entries} entries, head ${s.head.seq} ${toHex(s.head.hash)}, ${s.cast} cast, ${s.returned} returned, ${s.pending} pending, ${s.batches.length} closed batch(es)${s.sealedAt !== undefined ? `, sealed at entry ${s.sealedAt}` : ''}${s.adjudications > 0 ? `, ${s.adjudications} adjudication(s)` : ''}\n`,
              );
            }
            if (!opts.json) {
              for (const c of report.checked ?? []) ctx.io.stdout(`  checked: ${c}\n`);
              for (const c of report.unchecked ?? []) ctx.io.stdout(`  not checked: ${c}\n`);
            }
            if (!report.ok) {
              const p = report.problem;
              ctx.io.stderr(`tallyproof: ${file}: entry ${p?.seq}: ${p?.kind}: ${p?.message}\n`);
              code = EXIT_FAILURE;
            }
          }
          return code;
        }),
      ),
    );

  ledger
    .command('tally')
    .description('per-contest totals from the ledger')
    .requiredOption('--data <dir>', 'station data directory')
    .addOption(modeOption('which ledger').default('official'))
    .option('--heads <dir>', "the second location of the station's signed heads: a ledger cut short before one is not tallied")
    .action(
      action(ctx, (opts: CommonOpts & { heads?: string }) =>
        failuresAsCommandFailure(() => {
          const dir = resolveData(ctx, opts.data);
          const mode = opts.mode ?? 'official';
          const file = ledgerFileFor(dir, mode);
          const { report, tally } = adjudicationState(file, verifyOptionsFor(dir, mode, [], resolveHeadsDir(ctx, opts.heads)));
          if (!report.ok || !report.summary || tally === undefined) {
            throw new CommandFailure(`${file}: the ledger does not verify, so it is not tallied: entry ${report.problem?.seq}: ${report.problem?.message}`);
          }
          // the top level stays the station's own count (before adjudication), as tapes and tools read it
          const { before, ...adjudication } = tally;
          ctx.io.stdout(`${JSON.stringify({ ...before, adjudication }, null, 2)}\n`);
          return EXIT_OK;
        }),
      ),
    );

  ledger
    .command('export')
    .description("write the auditor's bundle")
    .requiredOption('--data <dir>', 'station data directory')
    .addOption(modeOption('which ledger').default('official'))
    .option('--out <dir>', 'bundle directory to create (default: <data>/export/<mode>)')
    .option('--election <file>', 'election definition file to include (must match the ledger)')
    .action(
      action(ctx, (opts: CommonOpts & { out?: string; election?: string }) =>
        failuresAsCommandFailure(() => {
          const dir = resolveData(ctx, opts.data);
          const mode = opts.mode ?? 'official';
          const file = ledgerFileFor(dir, mode);
          const out = opts.out !== undefined ? path.resolve(ctx.cwd, opts.out) : dataLayout(dir).exportDir(mode);
          const base = verifyOptionsFor(dir, mode, []);
          // what the outbox holds as published (publication file and a .ots proof per ballot) or as signed and not
          // published yet; read first, so a refusal leaves no bundle behind
          const { publications, pending, withheld } = exportPublishingOrFail(dir, mode);
          const result = exportBundle(file, out, opts.election !== undefined ? { ...base, electionDefinition: path.resolve(ctx.cwd, opts.election) } : base);
          const completed = publications.length + pending.length > 0 ? completeBundle(result.dir, publications, pending) : undefined;
          ctx.io.stdout(
            `${JSON.stringify({ dir: result.dir, batches: result.batches, records: result.records, files: result.files.length, published: publications.length, pending: pending.map((p) => ({ batch: p.batch, state: p.state })), withheld, proofs: completed?.proofs ?? 0 })}\n`,
          );
          return EXIT_OK;
        }),
      ),
    );
}

/** exportPublishing, its refusals as the command's failure. */
function exportPublishingOrFail(dataDir: string, mode: LedgerMode): ExportPublishing {
  try {
    return exportPublishing(dataDir, mode);
  } catch (e) {
    if (e instanceof PublishError) throw new CommandFailure(e.message);
    throw e;
  }
}
