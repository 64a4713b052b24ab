import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { broadcastSignedFile, broadcastTxs } from '../../chain/broadcast';
import type { BroadcastGroup } from '../../chain/broadcast';
import { SignedQrError, reassembleSignedTxs } from '../../chain/signed-qr';
import { loadChainsConfig } from '../../chain/chains-config';
import { ChainConfigError, PublishError, RpcError } from '../../chain/errors';
import { publishBatches } from '../../chain/publish';
import { publishStatusReport } from '../../chain/status-now';
import type { PublishReport } from '../../chain/publish';
import { unlockStationWallet } from '../../chain/station-wallet';
import { LedgerError } from '../../ledger/errors';
import { dataLayout } from '../../ledger/layout';
import { readStationPassphrase } from '../../ledger/passphrase';
import type { LedgerMode } from '../../ledger/record';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, UsageError, action } from '../context';

interface PublishOpts {
  data: string;
  chains?: string;
  mode: LedgerMode;
  offline?: boolean;
  funding?: string;
  status?: boolean;
  broadcast?: string;
  broadcastQr?: string;
  wait?: boolean;
  timeout: string;
  passphraseFile?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `tallyproof publish --data <dir> --chains chains.json`: one pass of the publisher (sign new batches into
 * the outbox, broadcast, track, bump, write publications), printing the state per batch as JSON.
 * `--offline` signs only and writes the signed transactions; `--status` only reads the outbox; `--wait`
 * repeats passes until every batch is published or `--timeout` seconds pass. Exit 1 if a pass reported
 * an error (dead node, missing funds, rejected transaction).
 */
export function registerPublish(program: Command, ctx: CliContext): void {
  program
    .command('publish')
    .description('publish closed batches: records to the high-capacity chain, one anchor to Bitcoin')
    .requiredOption('--data <dir>', 'station data directory')
    .option('--chains <file>', 'chains.json: chain profiles and node RPC endpoints')
    .addOption(new Option('--mode <mode>', 'which ledger').choices(['official', 'test']).default('official'))
    .option('--offline', 'sign only; write signed transactions to <data>/publish/signed/ (no node is contacted)')
    .option('--funding <file>', 'coins to fund from (tallyproof-funding/1), for offline signing')
    .option('--status', 'print the outbox state per batch and when the chains were last looked at, and exit; with --chains, also what the chains show now')
    .option('--broadcast <signed-file>', 'send the transactions of a signed file (publish/signed/batch-<N>.json) and exit; needs no station key')
    .option('--broadcast-qr <scanned-file>', 'send the transactions scanned from a signed-transactions tape (one code a line, any order) and exit; needs no station key')
    .option('--wait', 'repeat until every batch is published')
    .option('--timeout <seconds>', 'with --wait, give up after this long', '3600')
    .option('--passphrase-file <file>', 'station key passphrase (else TALLYPROOF_STATION_PASSPHRASE)')
    .action(
      action(ctx, async (opts: PublishOpts) => {
        const dataDir = path.resolve(ctx.cwd, opts.data);
        if (opts.status === true) {
          // with --chains, the chains are looked at now (read only); without, the status says when they last were
          try {
            const chains = opts.chains === undefined ? undefined : loadChainsConfig(path.resolve(ctx.cwd, opts.chains));
            ctx.io.stdout(`${JSON.stringify(await publishStatusReport(dataDir, opts.mode, chains), null, 1)}\n`);
          } catch (e) {
            if (e instanceof ChainConfigError || e instanceof PublishError) throw new CommandFailure(e.message);
            throw e;
          }
          return EXIT_OK;
        }
        if (opts.chains === undefined) throw new UsageError('--chains <file> is required (except with --status)');
        if (opts.broadcast !== undefined && opts.broadcastQr !== undefined) throw new UsageError('give --broadcast or --broadcast-qr, not both');
        if (opts.broadcastQr !== undefined) {
          const scanned = path.resolve(ctx.cwd, opts.broadcastQr);
          try {
            const chains = loadChainsConfig(path.resolve(ctx.cwd, opts.chains));
            let text: string;
            try {
              text = fs.readFileSync(scanned, 'utf8');
            } catch (e) {
              throw new PublishError('input', `${scanned}: cannot read the scanned codes: ${(e as Error).message}`);
            }
            const txs = reassembleSignedTxs(text);
            // records chains spend their own change: chunk order; the anchor after the records it commits to
            const groups: (BroadcastGroup & { txs: { txid: string; hex: string }[] })[] = [];
            for (const t of txs) {
              const last = groups[groups.length - 1];
              if (last !== undefined && last.role === t.role && last.network === t.network) last.txs.push({ txid: t.txid, hex: t.hex });
              else groups.push({ role: t.role, network: t.network, txs: [{ txid: t.txid, hex: t.hex }] });
            }
            const sent = await broadcastTxs(groups, chains, scanned);
            ctx.io.stdout(`${JSON.stringify({ broadcast: sent.map((b) => ({ ...b, chunk: txs.find((t) => t.txid === b.txid)?.chunk ?? null })) }, null, 1)}\n`);
            return EXIT_OK;
          } catch (e) {
            if (e instanceof SignedQrError) throw new CommandFailure(`${scanned}: ${e.issues.map((i) => i.message).join('\n  ')}`);
            if (e instanceof ChainConfigError || e instanceof PublishError || e instanceof RpcError) throw new CommandFailure(e.message);
            throw e;
          }
        }
        if (opts.broadcast !== undefined) {
          try {
            const sent = await broadcastSignedFile(path.resolve(ctx.cwd, opts.broadcast), loadChainsConfig(path.resolve(ctx.cwd, opts.chains)));
            ctx.io.stdout(`${JSON.stringify({ broadcast: sent }, null, 1)}\n`);
            return EXIT_OK;
          } catch (e) {
            if (e instanceof ChainConfigError || e instanceof PublishError || e instanceof RpcError) throw new CommandFailure(e.message);
            throw e;
          }
        }
        const timeout = Number(opts.timeout);
        if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got "${opts.timeout}"`);
        try {
          const chains = loadChainsConfig(path.resolve(ctx.cwd, opts.chains));
          const wallet = unlockStationWallet(dataLayout(dataDir).stationKey, readStationPassphrase(opts.passphraseFile === undefined ? undefined : path.resolve(ctx.cwd, opts.passphraseFile)));
          const deadline = Date.now() + timeout * 1000;
          let report: PublishReport;
          for (;;) {
            report = await publishBatches({
              dataDir,
              mode: opts.mode,
              chains,
              wallet,
              offline: opts.offline === true,
              ...(opts.funding === undefined ? {} : { fundingFile: path.resolve(ctx.cwd, opts.funding) }),
            });
            if (opts.wait !== true || opts.offline === true || report.done || report.errors.length > 0 || Date.now() > deadline) break;
            await sleep(5000);
          }
          ctx.io.stdout(`${JSON.stringify(report, null, 1)}\n`);
          for (const e of report.errors) ctx.io.stderr(`tallyproof publish: ${e.role}${e.batch === null ? '' : ` batch ${e.batch}`}: ${e.message}\n`);
          return report.errors.length > 0 ? EXIT_FAILURE : EXIT_OK;
        } catch (e) {
          if (e instanceof ChainConfigError || e instanceof PublishError || e instanceof RpcError || e instanceof LedgerError) throw new CommandFailure(e.message);
          throw e;
        }
      }),
    );
}
