/**
 * County exports of a 10,000-ballot ledger of the general election example (24 contests, 102 targets a
 * sheet, in 10 closed batches): time and peak RSS of `export cvr` (NIST CVRs) and `export arlo`, each in its
 * own process, against a same-run baseline: a process that only reads the same ledger's entries. The same
 * at 1,000 ballots shows whether memory grows with the ballots (it should not grow with the JSON written).
 * Budget (issue 15): 10,000 ballots' CVRs <= 30 s.
 *   node scripts/run-ts.js test/bench/county-export.bench.ts [ballots=10000]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { CountyExportKind } from '../../app/county-export/export';
import { exportForCounty } from '../../app/county-export/export';
import { tempDir } from '../ledger/fixtures';
import { makeElectionLedger } from '../county-export/election-ledger';

const HEAP_CAP_MB = 48;
const GENERAL = path.join(__dirname, '..', '..', 'ballots', 'examples', 'general.json');

interface Measure {
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly bytesWritten?: number;
}

function child(): void {
  const [, , , what, ledgerFile, outDir] = process.argv;
  const t = process.hrtime.bigint();
  let bytesWritten: number | undefined;
  if (what === 'baseline') {
    const db = new Database(ledgerFile as string, { readonly: true });
    let n = 0;
    for (const row of db.prepare('SELECT seq, kind, payload, entry_hash FROM entries ORDER BY seq').iterate() as IterableIterator<{ payload: Buffer }>) n += row.payload.length;
    db.close();
    if (n === 0) throw new Error('empty ledger');
  } else {
    const r = exportForCounty({ kind: what as CountyExportKind, ledgerFile: ledgerFile as string, verify: {}, electionFile: GENERAL, outDir: outDir as string });
    bytesWritten = r.files.reduce((s, f) => s + f.bytes, 0);
  }
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const m: Measure = { seconds: Math.round(seconds * 1000) / 1000, peakRssMb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10, ...(bytesWritten === undefined ? {} : { bytesWritten }) };
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

function run(what: string, ledgerFile: string, outDir: string, nodeFlags: readonly string[] = []): Measure {
  const r = spawnSync(process.execPath, [...nodeFlags, path.join(__dirname, '..', '..', 'scripts', 'run-ts.js'), __filename, 'child', what, ledgerFile, outDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Measure;
}

function sizeRun(ballots: number): Record<string, unknown> {
  const dir = tempDir('bench-county-export-');
  const perBatch = Math.ceil(ballots / 10);
  const batches = Array.from({ length: 10 }, (_, i) => Math.max(0, Math.min(perBatch, ballots - i * perBatch)));
  const tb = process.hrtime.bigint();
  const { ledgerFile } = makeElectionLedger({ electionFile: GENERAL, dataDir: dir, batches, seed: 7 });
  const buildS = Number(process.hrtime.bigint() - tb) / 1e9;
  const out = path.join(dir, 'county');
  const baseline = run('baseline', ledgerFile, out);
  const cvr = run('cvr', ledgerFile, out);
  const arlo = run('arlo', ledgerFile, out);
  // the same export with V8's old generation capped: what the export keeps is bounded, whatever V8 lets
  // the heap grow to by default while it writes a hundred MB of JSON
  const cvrHeapCapped = run('cvr', ledgerFile, out, [`--max-old-space-size=${HEAP_CAP_MB}`]);
  const result = { ballots, buildSeconds: Math.round(buildS * 10) / 10, ledgerBytes: fs.statSync(ledgerFile).size, baseline, cvr, arlo, cvrHeapCapped: { ...cvrHeapCapped, maxOldSpaceMb: HEAP_CAP_MB } };
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

function main(): void {
  const ballots = Number(process.argv[2] ?? 10_000);
  const small = sizeRun(Math.max(1, Math.floor(ballots / 10)));
  const large = sizeRun(ballots);
  const cvr = large['cvr'] as Measure;
  const smallCvr = small['cvr'] as Measure;
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'county-export',
        election: 'ballots/examples/general.json (24 contests)',
        runs: [small, large],
        budget: { cvrSecondsMax: 30, cvrSeconds: cvr.seconds, ok: cvr.seconds <= 30 },
        // peak RSS above the baseline process's, at 10x the ballots: the JSON written is not held in memory
        rssOverBaselineMb: { small: Math.round((smallCvr.peakRssMb - (small['baseline'] as Measure).peakRssMb) * 10) / 10, large: Math.round((cvr.peakRssMb - (large['baseline'] as Measure).peakRssMb) * 10) / 10 },
      },
      null,
      1,
    )}\n`,
  );
}

if (process.argv[2] === 'child') child();
else main();
