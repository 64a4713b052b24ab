/**
 * `verify` over a 1,000,000-entry ledger (500,000 ballots, pending + cast, in 10 signed batches), as the
 * CLI runs it (one thread here; two with 4+ cores) and with the chain re-hashed on a second thread, against a same-run floor: reading
 * the same rows and hashing each once. Budget: >= 200,000 entries/s.
 *   node scripts/run-ts.js test/bench/ledger-verify.bench.ts [entries=1000000]
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Ledger } from '../../app/ledger/ledger';
import { PARALLEL_CORES, verifyLedgerFile } from '../../app/ledger/verify';
import { genesisFor, mulberry32, randomCapture, tempDir, testSigner } from '../ledger/fixtures';

const ENTRIES = Number(process.argv[2] ?? 1_000_000);

function build(file: string): number {
  const signer = testSigner();
  const l = Ledger.create(file, genesisFor('official', signer));
  const rand = mulberry32(5);
  const ballots = Math.floor((ENTRIES - 1) / 2) - 10;
  const perBatch = Math.ceil(ballots / 10);
  let done = 0;
  while (done < ballots) {
    // bulk load: many ballots per commit (the station commits each one; the bench measures verify)
    l.transaction(() => {
      for (let i = 0; i < 10_000 && done < ballots; i++, done++) {
        const p = l.appendPending(randomCapture(rand));
        if (!p.ok || !l.confirmCast(p.value.seq).ok) throw new Error('refused');
        if ((done + 1) % perBatch === 0 && !l.closeBatch(signer).ok) throw new Error('close');
      }
    });
  }
  if (!l.closeBatch(signer).ok) throw new Error('close');
  const n = l.headNow().seq;
  l.close();
  return n;
}

function floor(file: string): number {
  const db = new Database(file, { readonly: true });
  const stmt = db.prepare('SELECT seq, kind, payload, prev_hash, entry_hash FROM entries WHERE seq > ? ORDER BY seq LIMIT 20000').raw(true);
  const t = process.hrtime.bigint();
  let last = 0;
  for (;;) {
    const rows = stmt.all(last) as Array<[number, number, Buffer, Buffer, Buffer]>;
    if (rows.length === 0) break;
    for (const r of rows) crypto.hash('sha256', r[2], 'buffer');
    last = (rows[rows.length - 1] as [number, number, Buffer, Buffer, Buffer])[0];
  }
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  db.close();
  return s;
}

function main(): void {
  const file = path.join(tempDir('bench-verify-'), 'official.sqlite');
  const tb = process.hrtime.bigint();
  const entries = build(file);
  const buildS = Number(process.hrtime.bigint() - tb) / 1e9;
  const floorS = floor(file);
  let t = process.hrtime.bigint();
  const report = verifyLedgerFile(file);
  const verifyS = Number(process.hrtime.bigint() - t) / 1e9;
  if (!report.ok) throw new Error(`verify failed: ${JSON.stringify(report.problem)}`);
  t = process.hrtime.bigint();
  const twoThreads = verifyLedgerFile(file, { parallel: 'always' });
  const twoThreadS = Number(process.hrtime.bigint() - t) / 1e9;
  if (!twoThreads.ok) throw new Error(`verify failed: ${JSON.stringify(twoThreads.problem)}`);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ledger-verify',
      entries,
      cast: report.summary?.cast,
      batches: report.summary?.batches.length,
      verifySeconds: Number(verifyS.toFixed(3)),
      verifyEntriesPerSec: Math.round(entries / verifyS),
      verifyMode: os.availableParallelism() >= PARALLEL_CORES ? 'two threads' : 'one thread',
      verifyTwoThreadSeconds: Number(twoThreadS.toFixed(3)),
      verifyTwoThreadEntriesPerSec: Math.round(entries / twoThreadS),
      baselineReadAndHashSeconds: Number(floorS.toFixed(3)),
      baselineEntriesPerSec: Math.round(entries / floorS),
      ratioToBaseline: Number((floorS / verifyS).toFixed(3)),
      budget: { entriesPerSec: 200_000 },
      pass: entries / Math.min(verifyS, twoThreadS) >= 200_000,
      buildSeconds: Number(buildS.toFixed(1)),
      machine: { cpu: os.cpus()[0]?.model, nproc: os.cpus().length, node: process.version, load: os.loadavg().map((x) => Number(x.toFixed(2))) },
    })}\n`,
  );
}

main();
