import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, action } from '../context';
import { replaceFileAtomically } from '../../../lib/durable-fs';
import { dataLayout } from '../../ledger/layout';
import { verifyLedgerFile } from '../../ledger/verify';
import { CarryError, carryCheckpoints, readEntryFiles } from '../../county/report/carry';
import { LogClient } from '../../county/client/log-client';
import { verifyTlogProof } from '../../county/client/tlog-proof-verify';
import { formatTlogProof } from '../../county/tlog/proof';
import { TlogError } from '../../county/tlog/stored-hashes';
import { ConfigError, loadTrustConfig } from '../../county/config';
import { resolveData, verifyOptionsFor } from './ledger';

/**
 * `tallyproof county carry` and `county submit`: a station's signed checkpoints to the county log on the
 * export device, for a station without a network (app/county/README.md, "Stations report").
 */

function carried<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CarryError || e instanceof ConfigError || e instanceof TlogError) throw new CommandFailure(e.message);
    throw e;
  }
}

export function registerCountyCarry(county: Command, ctx: CliContext): void {
  county
    .command('carry')
    .description("write the station's signed checkpoints to the export device, as the files the county log takes")
    .requiredOption('--data <dir>', 'station data directory')
    .requiredOption('--out <dir>', 'the export device (files go to <dir>/county/<station>/)')
    .action(
      action(ctx, (opts: { data: string; out: string }) => {
        const dir = resolveData(ctx, opts.data);
        const file = dataLayout(dir).ledger('official');
        if (!fs.existsSync(file)) throw new CommandFailure(`${file}: this station has no official ledger`);
        // only what the ledger proves is carried: a damaged or cut ledger is refused here, not at the county
        const report = verifyLedgerFile(file, verifyOptionsFor(dir, 'official', []));
        if (!report.ok || report.summary === undefined) throw new CommandFailure(`${file}: the ledger does not verify, so nothing was carried: entry ${report.problem?.seq}: ${report.problem?.message}`);
        const s = report.summary;
        const out = carried(() =>
          carryCheckpoints(
            s.genesis.station.id,
            s.batches.map((b) => ({ batch: b.checkpoint.batch, body: b.body, signature: b.signature })),
            path.resolve(ctx.cwd, opts.out),
          ),
        );
        ctx.io.stdout(`station ${s.genesis.station.id}: ${out.written.length} checkpoint(s) written${out.present.length > 0 ? `, ${out.present.length} already there` : ''} in ${out.dir}\n`);
        return EXIT_OK;
      }),
    );

  county
    .command('submit')
    .description('post carried checkpoint files to the county log; with --trust, wait for and keep their proofs of inclusion')
    .requiredOption('--from <dir>', 'the folder `county carry` wrote (or the device above it)')
    .requiredOption('--log <url>', "the county log's URL")
    .option('--trust <file>', 'trust policy (format tallyproof-county-trust/1): wait for a witnessed checkpoint and write <file>.tlog-proof beside each entry (`county receipts` takes them back to the station)')
    .option('--wait <seconds>', 'with --trust: how long to wait for the witnessed checkpoint', (s) => Number(s), 60)
    .action(
      action(ctx, async (opts: { from: string; log: string; trust?: string; wait: number }) => {
        const files = carried(() => readEntryFiles(path.resolve(ctx.cwd, opts.from)));
        const trust = opts.trust === undefined ? undefined : carried(() => loadTrustConfig(path.resolve(ctx.cwd, opts.trust as string)));
        const url = opts.log.replace(/\/+$/, '');
        const accepted: { file: string; bytes: Uint8Array; index: number }[] = [];
        let refused = 0;
        for (const f of files) {
          const name = path.relative(ctx.cwd, f.file) || f.file;
          let res: Response;
          try {
            res = await fetch(`${url}/add-entry`, { method: 'POST', body: f.bytes, signal: AbortSignal.timeout(30_000) });
          } catch (e) {
            throw new CommandFailure(`${url}: the county log cannot be reached (${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}); ${accepted.length} of ${files.length} file(s) were sent, send again: a file sent twice is answered with its first index`);
          }
          const text = (await res.text()).trim();
          if (res.status === 200) {
            const a = JSON.parse(text) as { index: number; duplicate: boolean };
            accepted.push({ ...f, index: a.index });
            ctx.io.stdout(`${name}: entry ${a.index}${a.duplicate ? ' (already in the log)' : ''}\n`);
          } else {
            refused++;
            ctx.io.stderr(`${name}: refused by the county log (${res.status}): ${text}\n`);
          }
        }
        if (trust !== undefined && accepted.length > 0) {
          const client = new LogClient(url, trust);
          const need = Math.max(...accepted.map((a) => a.index)) + 1;
          const until = Date.now() + opts.wait * 1000;
          let cp = await client.checkpoint().catch(() => undefined);
          while ((cp === undefined || cp.checkpoint.size < need) && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 200));
            cp = await client.checkpoint().catch(() => undefined);
          }
          if (cp === undefined || cp.checkpoint.size < need) throw new CommandFailure(`${url}: no witnessed checkpoint holding entry ${need - 1} within ${opts.wait} s; submit again later for the proofs`);
          for (const a of accepted) {
            const text = formatTlogProof({ index: a.index, proof: await client.inclusionProof(cp.checkpoint, a.index, a.bytes), note: cp.note });
            const check = verifyTlogProof(text, a.bytes, trust);
            if (check instanceof TlogError) throw new CommandFailure(`${a.file}: the county log's proof does not hold: ${check.message}`);
            // flushed and renamed into place: the device is pulled and carried back, and a half-written proof is one the station refuses
            replaceFileAtomically(`${a.file.slice(0, -'.entry'.length)}.tlog-proof`, text);
          }
          ctx.io.stdout(`proofs of inclusion in checkpoint ${cp.checkpoint.size} (cosigned by ${cp.cosignedBy.join(', ') || 'no witness'}) written beside ${accepted.length} file(s)\n`);
        }
        ctx.io.stdout(`${accepted.length} of ${files.length} checkpoint file(s) in the county log${refused > 0 ? `, ${refused} refused` : ''}\n`);
        return refused === 0 ? EXIT_OK : EXIT_FAILURE;
      }),
    );
}
