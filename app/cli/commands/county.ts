import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, UsageError, action } from '../context';
import { ConfigError, loadCountyLogConfig, loadStationRegistry, loadTrustConfig, loadWitnessConfig } from '../../county/config';
import { CountyLog } from '../../county/log/county-log';
import { serveCountyLog } from '../../county/log/log-server';
import { LogClient } from '../../county/client/log-client';
import { Monitor, type MonitorAlarm } from '../../county/client/monitor';
import { serveWitness } from '../../county/witness/witness-server';
import { WitnessDb } from '../../county/witness/witness-db';
import { ALG_COSIGNATURE_V1, ALG_ED25519, formatSignerKey, formatVerifierKey, generateSigner } from '../../county/tlog/note';
import { TlogError } from '../../county/tlog/stored-hashes';
import { registerCountyCarry } from './county-carry';
import { registerCountyReceipts } from './county-receipts';
import { registerCountyAnchor, startAnchorRounds, writeAnchorKey } from './county-anchor';

/**
 * `tallyproof county keys|serve|monitor` and `tallyproof witness`: the county transparency log of station
 * checkpoints (app/county/README.md).
 */

function portOption(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port: a port number 0–65535, not ${JSON.stringify(raw)}`);
  return n;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const on = (): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve();
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

function configured<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError || e instanceof TlogError) throw new CommandFailure(e.message);
    throw e;
  }
}

function describeAlarm(a: MonitorAlarm): string {
  switch (a.kind) {
    case 'split-view':
      return `SPLIT VIEW at size ${a.size}: two different trees, both signed by ${a.signedBoth.join(', ')}`;
    case 'inconsistent':
      return `INCONSISTENT: ${a.message}`;
    case 'bad-entry':
      return `BAD ENTRY ${a.index}: ${a.message}`;
    case 'unreadable':
      return `cannot read the log: ${a.message}`;
  }
}

export function registerCounty(program: Command, ctx: CliContext, wait: () => Promise<void> = untilSignal): void {
  const county = program.command('county').description('the county transparency log of station checkpoints (C2SP tlog-tiles)');
  registerCountyCarry(county, ctx);
  registerCountyReceipts(county, ctx);

  county
    .command('keys')
    .description('make a signing key for a county log (named after its origin) or a witness; prints the verifier key to share')
    .option('--name <name>', "the key's name: the log's origin, or the witness's name (e.g. observer.example/w1)")
    .requiredOption('--out <file>', 'where to write the signing key (created readable by you only; never overwritten)')
    .option('--witness', 'a witness (cosignature) key instead of a log key')
    .option('--anchor', "the county's anchoring key (secp256k1: pays for and signs the anchor transactions) instead")
    .option('--network <name>', 'with --anchor: print the address to fund on this network')
    .action(
      action(ctx, (opts: { name?: string; out: string; witness?: boolean; anchor?: boolean; network?: string }) => {
        if (opts.anchor === true) return writeAnchorKey(ctx, opts.out, opts.network);
        if (opts.name === undefined) throw new UsageError('--name: a log or witness key is named');
        const name = opts.name;
        const file = path.resolve(ctx.cwd, opts.out);
        let signer;
        try {
          signer = generateSigner(name, opts.witness === true ? ALG_COSIGNATURE_V1 : ALG_ED25519);
        } catch (e) {
          throw new UsageError(`--name: ${(e as Error).message}`);
        }
        try {
          fs.writeFileSync(file, `${formatSignerKey(signer)}\n`, { mode: 0o600, flag: 'wx' });
        } catch (e) {
          throw new CommandFailure(`${file}: ${(e as NodeJS.ErrnoException).code === 'EEXIST' ? 'a key file is already there; refusing to overwrite it' : (e as Error).message}`);
        }
        ctx.io.stdout(`${formatVerifierKey(signer)}\n`);
        return EXIT_OK;
      }),
    );

  county
    .command('serve')
    .description('accept stations\' signed checkpoints, keep them as a tlog-tiles log in --data, have witnesses cosign, serve tiles and checkpoint')
    .requiredOption('--config <file>', 'county log settings (format tallyproof-county-log/1)')
    .requiredOption('--data <dir>', 'the log\'s directory (tiles, checkpoint): servable by any static web server too')
    .option('--port <n>', 'TCP port', portOption, 8480)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .action(
      action(ctx, async (opts: { config: string; data: string; port: number; host: string }) => {
        const settings = configured(() => loadCountyLogConfig(path.resolve(ctx.cwd, opts.config)));
        const log = configured(() => new CountyLog({ dir: path.resolve(ctx.cwd, opts.data), ...settings, log: (m) => ctx.io.stderr(`${m}\n`) }));
        const server = await serveCountyLog(log, { port: opts.port, host: opts.host, maxConnections: settings.maxConnections });
        const rounds = startAnchorRounds(settings, log.log, (line) => ctx.io.stdout(`${line}\n`));
        ctx.io.stdout(`county log ${settings.origin}: ${log.log.size} entries; serving ${server.url} (quorum ${settings.quorum} of ${settings.witnesses.length} witnesses)${rounds === undefined ? '' : `; anchoring every ${(settings.anchor?.intervalMs ?? 0) / 1000} s to ${settings.anchor?.chain.name}`}; Ctrl-C stops\n`);
        await wait();
        await server.close();
        await log.stop();
        // the final round: what the log published last is anchored before the process exits
        await rounds?.stop();
        return EXIT_OK;
      }),
    );

  registerCountyAnchor(county, ctx);

  county
    .command('monitor')
    .description('follow a county log: check every checkpoint extends the last, every entry against the station registry, and catch split views')
    .argument('<url>', "the log's URL (where /checkpoint and /tile/ are)")
    .requiredOption('--trust <file>', 'trust policy: log key, witness keys, quorum (format tallyproof-county-trust/1)')
    .requiredOption('--stations <file>', 'the election\'s station registry (format tallyproof-county-stations/1)')
    .option('--observe <note-file...>', 'checkpoints seen elsewhere (a station receipt, a proof) to hold the log to')
    .option('--once', 'check once and exit (1 on any alarm)')
    .option('--interval <seconds>', 'seconds between checks', (s) => Number(s), 10)
    .action(
      action(ctx, async (url: string, opts: { trust: string; stations: string; observe?: string[]; once?: boolean; interval: number }) => {
        const trust = configured(() => loadTrustConfig(path.resolve(ctx.cwd, opts.trust)));
        const registry = configured(() => loadStationRegistry(path.resolve(ctx.cwd, opts.stations)));
        const monitor = new Monitor(new LogClient(url.replace(/\/$/, ''), trust), registry);
        const { verifier } = monitor.report();
        // the fallback is as sound but several times slower: whoever reads the output should know which ran
        if (verifier.kind === 'native') ctx.io.stdout(`station signatures checked with ${verifier.description}\n`);
        else ctx.io.stderr(`note: station signatures checked with ${verifier.description}\n`);
        let said = 0;
        let stop = false;
        const stopped = wait().then(() => {
          stop = true;
        });
        await monitor.poll();
        for (const file of opts.observe ?? []) await monitor.observe(fs.readFileSync(path.resolve(ctx.cwd, file), 'utf8'));
        for (let first = true; ; first = false) {
          if (!first) await monitor.poll();
          const now = monitor.report();
          for (const a of now.alarms.slice(said)) ctx.io.stderr(`ALARM ${describeAlarm(a)}\n`);
          said = now.alarms.length;
          ctx.io.stdout(`${new Date().toISOString()} size ${now.size}: ${now.entriesChecked} entries checked from ${now.stations.size} station(s), ${now.alarms.length} alarm(s)\n`);
          if (opts.once === true) return now.alarms.length === 0 ? EXIT_OK : EXIT_FAILURE;
          await Promise.race([stopped, new Promise((r2) => setTimeout(r2, opts.interval * 1000))]);
          if (stop) return now.alarms.length === 0 ? EXIT_OK : EXIT_FAILURE;
        }
      }),
    );
}

export function registerWitness(program: Command, ctx: CliContext, wait: () => Promise<void> = untilSignal): void {
  program
    .command('witness')
    .description('a transparency-log witness (C2SP tlog-witness): cosigns a log\'s checkpoints only if each extends the last it cosigned')
    .requiredOption('--config <file>', 'witness settings (format tallyproof-witness/1): its key file and the logs it witnesses')
    .requiredOption('--data <dir>', 'where the witness keeps the last checkpoint of each log and what it refused')
    .option('--port <n>', 'TCP port', portOption, 8481)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .action(
      action(ctx, async (opts: { config: string; data: string; port: number; host: string }) => {
        const settings = configured(() => loadWitnessConfig(path.resolve(ctx.cwd, opts.config)));
        const db = new WitnessDb(path.join(path.resolve(ctx.cwd, opts.data), 'witness.sqlite'));
        const server = await serveWitness({ signers: [settings.signer], logs: settings.logs, now: () => BigInt(Math.floor(Date.now() / 1000)) }, db, { port: opts.port, host: opts.host });
        ctx.io.stdout(`witness ${settings.signer.name} for ${settings.logs.map((l) => l.origin).join(', ')}: POST ${server.url}/add-checkpoint; Ctrl-C stops\n`);
        await wait();
        await server.close();
        db.close();
        return EXIT_OK;
      }),
    );
}
