import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, UsageError, action } from '../context';
import { dataLayout } from '../../ledger/layout';
import { verifyLedgerFile } from '../../ledger/verify';
import { STATION_CONFIG_ENV } from '../../station/station-config';
import { loadStationCountySetting } from '../../county/report/report-settings';
import { checkProofFile, proofFilesIn, recordProof, stationFolderOn, PROOF_SUFFIX, type ProofOutcome } from '../../county/report/carried-proofs';
import { receiptsFile, updateReceipts } from '../../county/report/receipts-file';
import { assertNever } from '../../../lib/result';
import { resolveData, verifyOptionsFor } from './ledger';

/**
 * `tallyproof county receipts`: the proofs `county submit --trust` wrote on the export device, brought back
 * to the station, become its receipts (app/county/README.md, "Stations report"), so its staff screen and
 * whatever reads its receipts count those checkpoints as proven.
 */

export function registerCountyReceipts(county: Command, ctx: CliContext): void {
  county
    .command('receipts')
    .description("take the proofs `county submit --trust` wrote on the export device into the station's receipts, each checked against the station's ledger and county setting")
    .requiredOption('--data <dir>', 'station data directory')
    .requiredOption('--from <dir>', 'the export device (or its county/<station>/ folder)')
    .option('--county <file>', `the station's county setting: the file \`tallyproof station --county\` takes, or the station.json holding it (default: $${STATION_CONFIG_ENV})`)
    .action(
      action(ctx, (opts: { data: string; from: string; county?: string }) => {
        const dir = resolveData(ctx, opts.data);
        const settingFile = opts.county ?? process.env[STATION_CONFIG_ENV];
        if (settingFile === undefined || settingFile.length === 0) throw new UsageError(`--county <file> is required (or $${STATION_CONFIG_ENV} naming the station.json): the proofs are checked against the keys the station trusts`);
        const setting = loadStationCountySetting(path.resolve(ctx.cwd, settingFile));
        if (!setting.ok) throw new CommandFailure(`--county: ${setting.error}`);
        const trust = setting.value.trust;

        const ledgerFile = dataLayout(dir).ledger('official');
        if (!fs.existsSync(ledgerFile)) throw new CommandFailure(`${ledgerFile}: this station has no official ledger`);
        // a proof is taken for a checkpoint the ledger proves, so a damaged or cut ledger takes none
        const report = verifyLedgerFile(ledgerFile, verifyOptionsFor(dir, 'official', []));
        if (!report.ok || report.summary === undefined) throw new CommandFailure(`${ledgerFile}: the ledger does not verify, so no proof was taken: entry ${report.problem?.seq}: ${report.problem?.message}`);
        const station = report.summary.genesis.station.id;
        const checkpoints = report.summary.batches.map((b) => ({ batch: b.checkpoint.batch, body: b.body, signature: b.signature }));

        const from = path.resolve(ctx.cwd, opts.from);
        const folder = stationFolderOn(from, station);
        if (folder === null) throw new CommandFailure(`${from}: no folder county/${station}/ (what \`county carry\` writes for this station)`);
        let files: string[];
        try {
          files = proofFilesIn(folder);
        } catch (e) {
          throw new CommandFailure(`${folder}: cannot read the folder: ${(e as Error).message}`);
        }
        if (files.length === 0) throw new CommandFailure(`${folder}: no ${PROOF_SUFFIX} files: at the county, \`county submit --from <device> --log <url> --trust trust.json\` writes them beside the entry files`);

        // every file checked before the receipts file is touched; each proof stands on its own
        const checked = files.map((file) => checkProofFile(file, station, checkpoints, trust));
        const file = receiptsFile(dir, trust.log.name);
        const now = new Date();
        let updated: ReturnType<typeof updateReceipts<ProofOutcome[]>>;
        try {
          updated = updateReceipts(file, trust.log.name, 'refuse', (receipts) => {
            const outcomes: ProofOutcome[] = checked.map((c, i) => ('refused' in c ? { kind: 'refused', file: files[i] as string, reason: c.refused } : recordProof(receipts, c, now)));
            return { write: outcomes.some((o) => o.kind === 'recorded'), value: outcomes };
          });
        } catch (e) {
          // the lock held too long by a live process, or the data disk failing: nothing was recorded
          throw new CommandFailure(`${file}: no proof was taken: ${(e as Error).message}`);
        }
        if (!updated.ok) throw new CommandFailure(`${updated.error}: no proof was taken. Move it aside and run this again (the station sends what it has no receipt for again, and the log answers with the same index)`);

        const name = (f: string) => path.relative(ctx.cwd, f) || f;
        const count = { recorded: 0, already: 0, refused: 0 };
        for (const o of updated.value.value) {
          count[o.kind]++;
          switch (o.kind) {
            case 'recorded':
              ctx.io.stdout(`${name(o.file)}: batch ${o.batch} proven: entry ${o.index} of checkpoint ${o.treeSize} (cosigned by ${o.cosignedBy.join(', ') || 'no witness'})\n`);
              break;
            case 'already':
              ctx.io.stdout(`${name(o.file)}: batch ${o.batch} already proven (entry ${o.index})\n`);
              break;
            case 'refused':
              ctx.io.stderr(`${o.reason}\n`);
              break;
            default:
              assertNever(o, 'proof outcome');
          }
        }
        const proven = checkpoints.filter((c) => (updated.value.receipts.get(c.batch)?.tlogProof ?? null) !== null).length;
        ctx.io.stdout(
          `station ${station}: ${count.recorded} proof(s) taken, ${count.already} already there${count.refused > 0 ? `, ${count.refused} refused` : ''}; ${proven} of ${checkpoints.length} checkpoint(s) proven in ${trust.log.name} (${name(file)})\n`,
        );
        return count.refused === 0 ? EXIT_OK : EXIT_FAILURE;
      }),
    );
}
