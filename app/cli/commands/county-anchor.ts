import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, UsageError, action } from '../context';
import { NETWORK_NAMES, NETWORKS, type NetworkName } from '../../../ballots/identity/networks';
import { PublishError, RpcError } from '../../chain/errors';
import { walletFromSecret } from '../../chain/station-wallet';
import { ConfigError, loadCountyLogConfig, type CountyLogSettings } from '../../county/config';
import { AnchorRounds, anchorRound, describeRound } from '../../county/anchor/county-anchor';
import { CountyProofError, writeCountyProof, type ProofTarget } from '../../county/anchor/county-proof';
import type { CountyAnchorSettings } from '../../county/anchor/anchor-config';
import { STAGED, TileLog } from '../../county/log/tile-log';
import { TlogError } from '../../county/tlog/stored-hashes';
import { BallotProofError } from '../../formats/ots-ballot';

/**
 * The county anchor's commands (app/county/README.md, "Anchor rounds"): `county keys --anchor`, the rounds
 * `county serve` runs, `county anchor` (one round now: the final round on command) and `county proof`.
 */

function settingsWithAnchor(ctx: CliContext, config: string): CountyLogSettings & { anchor: CountyAnchorSettings } {
  let s: CountyLogSettings;
  try {
    s = loadCountyLogConfig(path.resolve(ctx.cwd, config));
  } catch (e) {
    if (e instanceof ConfigError || e instanceof TlogError) throw new CommandFailure(e.message);
    throw e;
  }
  if (s.anchor === undefined) throw new CommandFailure(`${config}: no "anchor" section: this log is not anchored (see app/county/README.md)`);
  return s as CountyLogSettings & { anchor: CountyAnchorSettings };
}

const failure = (e: unknown): never => {
  if (e instanceof PublishError || e instanceof RpcError || e instanceof CountyProofError || e instanceof TlogError || e instanceof BallotProofError) throw new CommandFailure(e.message);
  throw e;
};

/** The rounds `county serve` runs when its settings have an anchor section; undefined otherwise. */
export function startAnchorRounds(settings: CountyLogSettings, log: TileLog, report: (line: string) => void): AnchorRounds | undefined {
  const a = settings.anchor;
  if (a === undefined) return undefined;
  const rounds = new AnchorRounds({ logDir: log.dir, logKey: settings.signer, mode: settings.registry.mode, chain: a.chain, wallet: a.wallet, published: () => log.published(), intervalMs: a.intervalMs, report });
  rounds.start();
  return rounds;
}

/** `county keys --anchor`: the key line and what it prints. */
export function writeAnchorKey(ctx: CliContext, out: string, network: string | undefined): number {
  if (network !== undefined && !(NETWORK_NAMES as readonly string[]).includes(network)) throw new UsageError(`--network: one of ${NETWORK_NAMES.join(', ')}`);
  const file = path.resolve(ctx.cwd, out);
  const secret = randomBytes(32);
  const wallet = walletFromSecret(secret);
  try {
    fs.writeFileSync(file, `TALLYPROOF-ANCHOR-KEY ${secret.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    throw new CommandFailure(`${file}: ${(e as NodeJS.ErrnoException).code === 'EEXIST' ? 'a key file is already there; refusing to overwrite it' : (e as Error).message}`);
  }
  const net = network as NetworkName | undefined;
  ctx.io.stdout(`anchor key ${Buffer.from(wallet.publicKey).toString('hex')}${net === undefined ? '' : `; fund ${wallet.address(NETWORKS[net], 'p2wpkh')} on ${net}`}\n`);
  return EXIT_OK;
}

export function registerCountyAnchor(county: Command, ctx: CliContext): void {
  county
    .command('anchor')
    .description("one anchor round now: anchor the log's published checkpoint if it grew since the last round, and track every round's anchor (the final round at the end of the day)")
    .requiredOption('--config <file>', 'county log settings with an "anchor" section')
    .requiredOption('--data <dir>', "the log's directory")
    .action(
      action(ctx, async (opts: { config: string; data: string }) => {
        const s = settingsWithAnchor(ctx, opts.config);
        const dir = path.resolve(ctx.cwd, opts.data);
        // the log's server may be running: its published checkpoint is read, the log is not opened (opening
        // it rebuilds tiles from its journal, which is the server's to do)
        if (!fs.existsSync(path.join(dir, STAGED))) return failure(new TlogError(`${dir} holds no county log (no ${STAGED})`));
        const r = await anchorRound({ logDir: dir, logKey: s.signer, mode: s.registry.mode, chain: s.anchor.chain, wallet: s.anchor.wallet, published: () => TileLog.readPublished(dir) }).catch(failure);
        ctx.io.stdout(`${describeRound(r)}\n`);
        return r.publish.errors.length === 0 ? EXIT_OK : EXIT_FAILURE;
      }),
    );

  county
    .command('proof')
    .description("one station checkpoint's proof from the county log to a block header: a C2SP tlog-proof and an OpenTimestamps .ots")
    .requiredOption('--config <file>', 'county log settings with an "anchor" section')
    .requiredOption('--data <dir>', "the log's directory")
    .option('--station <id>', 'the station whose checkpoint (with --batch)')
    .option('--batch <n>', "the station's batch number (with --station)")
    .option('--index <n>', 'or: the entry index in the log')
    .requiredOption('--out <dir>', 'where to write the proof files')
    .action(
      action(ctx, async (opts: { config: string; data: string; station?: string; batch?: string; index?: string; out: string }) => {
        const whole = (raw: string, name: string): number => {
          if (!/^(0|[1-9]\d{0,15})$/.test(raw)) throw new UsageError(`${name}: a whole number, not ${JSON.stringify(raw)}`);
          return Number(raw);
        };
        let target: ProofTarget;
        if (opts.index !== undefined) {
          if (opts.station !== undefined || opts.batch !== undefined) throw new UsageError('--index, or --station with --batch: not both');
          target = { index: whole(opts.index, '--index') };
        } else {
          if (opts.station === undefined || opts.batch === undefined) throw new UsageError('name the checkpoint: --station with --batch, or --index');
          target = { station: opts.station, batch: whole(opts.batch, '--batch') };
        }
        const s = settingsWithAnchor(ctx, opts.config);
        const written = await writeCountyProof({ logDir: path.resolve(ctx.cwd, opts.data), logKey: s.signer, mode: s.registry.mode, chain: s.anchor.chain, wallet: s.anchor.wallet, target, outDir: path.resolve(ctx.cwd, opts.out) }).catch(failure);
        const m = written.manifest;
        ctx.io.stdout(`station ${m.station} batch ${m.batch}: entry ${m.index}, anchored in round ${m.round}\n${written.files.map((f) => `  ${f}`).join('\n')}\n`);
        return EXIT_OK;
      }),
    );
}
