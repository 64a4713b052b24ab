import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, action } from '../context';
import { LedgerError } from '../../ledger/errors';
import { exportCastImages } from '../../ledger/image-export';
import { IMAGE_KEY_INFO, ImageStore } from '../../ledger/image-store';
import { dataLayout } from '../../ledger/layout';
import { readStationPassphrase } from '../../ledger/passphrase';
import type { LedgerMode } from '../../ledger/record';
import { unlockStationKey } from '../../ledger/station-key';
import { ledgerFileFor, resolveData, verifyOptionsFor } from './ledger';

interface ImagesExportOpts {
  data: string;
  out: string;
  mode: LedgerMode;
  ballot?: string;
  passphraseFile?: string;
}

export function registerImages(program: Command, ctx: CliContext): void {
  const images = program.command('images').description("the station's kept scans, encrypted at rest (app/ledger/README.md, Image files)");
  images
    .command('export')
    .description('decrypt cast ballots\' kept scans for an auditor holding the station key, each checked against the ledger\'s SHA-256')
    .requiredOption('--data <dir>', 'station data directory')
    .requiredOption('--out <dir>', 'new (or empty) directory for the scans and images.json')
    .addOption(new Option('--mode <mode>', 'which ledger').choices(['official', 'test']).default('official'))
    .option('--ballot <serial>', "only this ballot (the 12-character serial in the ballot ID, QR 2)")
    .option('--passphrase-file <file>', 'station key passphrase (default: $TALLYPROOF_STATION_PASSPHRASE)')
    .action(
      action(ctx, (opts: ImagesExportOpts) => {
        try {
          const dir = resolveData(ctx, opts.data);
          const layout = dataLayout(dir);
          const file = ledgerFileFor(dir, opts.mode);
          const key = unlockStationKey(layout.stationKey, readStationPassphrase(opts.passphraseFile === undefined ? undefined : path.resolve(ctx.cwd, opts.passphraseFile)));
          const store = ImageStore.open(layout.images, key.deriveKey(IMAGE_KEY_INFO));
          const out = path.resolve(ctx.cwd, opts.out);
          const r = exportCastImages(file, store, out, { verify: verifyOptionsFor(dir, opts.mode, []), ...(opts.ballot !== undefined ? { ballot: opts.ballot } : {}) });
          for (const f of r.failed) ctx.io.stderr(`tallyproof: ballot ${f.ballotId} side ${f.side}: ${f.kind}: ${f.message}\n`);
          ctx.io.stdout(`${JSON.stringify({ out, exported: r.exported.length, notKept: r.notKept.length, noDetail: r.noDetail.length, failed: r.failed.length })}\n`);
          return r.failed.length === 0 ? EXIT_OK : EXIT_FAILURE;
        } catch (e) {
          if (e instanceof LedgerError) throw new CommandFailure(e.message);
          throw e;
        }
      }),
    );
}
