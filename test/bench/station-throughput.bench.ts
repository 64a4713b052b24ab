/**
 * Ballots per minute through the whole station with the simulated scanner at zero mechanical delay: firmware
 * simulator on a socat pty, the real serial driver, the reader, the policy, a durable SQLite ledger (pending,
 * drop, cast), and the resident memory (RSS) over N ballots. Baseline in the same run: the reader alone on the
 * same images, one after another, as ballots/min.
 *
 * Every counted ballot needs its own ballot ID, and rendering 10,000 distinct 200 dpi pages would take longer
 * than the run itself, so the station runs in test mode over K distinct ballots and the captain clears the test
 * ledger (enter-test-mode, as a logic-and-accuracy rerun does) after each round of K. The process handles N
 * sheets; the ledger holds at most K ballots at a time.
 *   node scripts/run-ts.js test/bench/station-throughput.bench.ts [--ballots 2000] [--distinct 50] [--workers 0] [--allocator station|glibc-default]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { getZXingModule } from 'zxing-wasm';
import { BallotReader } from '../../ballots/read/interpret';
import { DEFAULT_PROFILE } from '../../calibration/profile';
import { missingAllocatorSettings, withStationAllocator } from '../../app/station/allocator-env';
import { writeTestKeys } from '../support/ballots';
import { PRECINCT } from '../station/support/constants';
import { wasmResidentMiB } from '../support/wasm-resident';
import { distinctTestSheets, startPtyStation } from './support/pty-station';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const mb = (b: number): number => Math.round(b / 1e5) / 10;
const progress = (m: string): void => {
  if (process.env.BENCH_LOG) process.stderr.write(`${new Date().toISOString()} ${m}\n`);
};

async function main(): Promise<void> {
  // The station ships with the allocator settings of app/station/allocator-env.ts, which glibc reads only at
  // process start: the bench starts itself again with them. --allocator glibc-default measures without them.
  const allocator = process.argv.includes('--allocator') ? process.argv[process.argv.indexOf('--allocator') + 1] : 'station';
  if (allocator !== 'station' && allocator !== 'glibc-default') throw new Error(`--allocator station|glibc-default, not ${allocator}`);
  if (allocator === 'station' && missingAllocatorSettings().length > 0) {
    const again = spawnSync(process.execPath, [...process.execArgv, path.join(__dirname, '..', '..', 'scripts', 'run-ts.js'), ...process.argv.slice(1)], { stdio: 'inherit', env: withStationAllocator(process.env) });
    process.exit(again.status ?? 1);
  }
  if (allocator === 'glibc-default' && missingAllocatorSettings().length === 0) throw new Error('--allocator glibc-default: unset MALLOC_MMAP_THRESHOLD_ first');
  const total = arg('ballots', 2000);
  const distinct = arg('distinct', 50);
  // the station's own default: the reader in the station's thread (0); --workers N puts it on a pool
  const workers = arg('workers', 0);
  const rounds = Math.ceil(total / distinct);
  const work = fs.mkdtempSync(path.join(tmpdir(), 'tp-station-bench-'));

  const { deck: deckMaker, sheets } = await distinctTestSheets(distinct);
  const bytesPerSheet = Math.round(sheets.reduce((n, s) => n + s.front.bytes.length, 0) / sheets.length);

  // baseline: the reader alone on the same images
  const reader = new BallotReader({ election: deckMaker.options.election, publicKeys: deckMaker.options.publicKeys, profile: DEFAULT_PROFILE, station: { mode: 'test', precinctId: PRECINCT } });
  for (const s of sheets.slice(0, 5)) await reader.readFile(s.front.bytes);
  const b0 = process.hrtime.bigint();
  for (const s of sheets) {
    const r = await reader.readFile(s.front.bytes);
    if (r.status !== 'accepted') throw new Error(`baseline: a deck ballot read as ${r.status} (${r.reasons.join(', ')})`);
  }
  const readerMs = Number(process.hrtime.bigint() - b0) / 1e6 / sheets.length;

  progress(`baseline ${readerMs.toFixed(1)} ms/sheet`);
  const keys = path.join(writeTestKeys(work), 'election-public.json');
  const rig = await startPtyStation(sheets, {
    ptyDir: work,
    dataDir: path.join(work, 'data'),
    electionKeys: keys,
    readerWorkers: workers,
    ...(process.env.BENCH_LOG ? { log: progress } : {}),
  });
  const { station } = rig;
  if (process.env.BENCH_LOG) station.subscribe((e) => e.type === 'sheet' && progress(`sheet ${e.feedback.sheetId} ${e.feedback.outcome} ${e.feedback.reasons.map((r) => r.code).join(',')}`));
  progress('station started');

  // heap is this thread's only (a reader worker has its own); external and arrayBuffers are the images and
  // native buffers the heap points at; the load average says how shared the machine was at that point
  // zxingResidentMB: the resident part of each QR decoder's WASM memory (this thread's, and a worker's)
  const zxing = (await getZXingModule()) as unknown as { HEAPU8?: Uint8Array };
  const rss: { ballots: number; rssMB: number; heapMB: number; externalMB: number; arrayBuffersMB: number; zxingResidentMB: number[] | null; load1: number }[] = [];
  const sample = (ballots: number): void => {
    const m = process.memoryUsage();
    const zxingResidentMB = wasmResidentMiB(zxing.HEAPU8?.buffer.byteLength ?? 0);
    rss.push({ ballots, rssMB: mb(m.rss), heapMB: mb(m.heapUsed), externalMB: mb(m.external), arrayBuffersMB: mb(m.arrayBuffers), zxingResidentMB, load1: Math.round((loadavg()[0] ?? 0) * 100) / 100 });
    // on stderr as it goes: a long run shows its memory before it ends
    process.stderr.write(`${new Date().toISOString()} sample ${JSON.stringify(rss[rss.length - 1])}\n`);
  };
  // warm-up round, not timed
  await rig.feedRound(distinct);
  await rig.clearTestLedger();
  sample(0);

  let counted = 0;
  let roundMs = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    const n = Math.min(distinct, total - counted);
    const r0 = process.hrtime.bigint();
    await rig.feedRound(n);
    roundMs += Number(process.hrtime.bigint() - r0) / 1e6;
    counted += n;
    if (counted % 1000 === 0 || counted === total) sample(counted);
    await rig.clearTestLedger();
  }
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  // under --expose-gc, a heap profiler's "still allocated at exit" is then only what is really kept
  (globalThis as { gc?: () => void }).gc?.();
  const lifetime = station.status().counts.lifetime;
  await rig.stop();
  fs.rmSync(work, { recursive: true, force: true });

  const perMin = Math.round((counted / elapsedMs) * 60_000);
  const feedingPerMin = Math.round((counted / roundMs) * 60_000);
  const baselinePerMin = Math.round(60_000 / readerMs);
  const after = rss.filter((x) => x.ballots >= Math.min(2000, total));
  const growth = after.length >= 2 ? Math.round(((after[after.length - 1]?.rssMB ?? 0) - (after[0]?.rssMB ?? 0)) * 10) / 10 : null;
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'station-throughput',
        ballots: counted,
        lifetimeCount: lifetime,
        distinctBallots: distinct,
        readerWorkers: workers,
        allocator: { setting: allocator, MALLOC_MMAP_THRESHOLD_: process.env['MALLOC_MMAP_THRESHOLD_'] ?? null },
        bytesPerSheet,
        ballotsPerMin: perMin,
        ballotsPerMinWhileFeeding: feedingPerMin,
        budgetBallotsPerMin: 600,
        withinBudget: perMin >= 600,
        baseline: { what: 'the reader alone on the same images, one after another, in this process', msPerSheet: Math.round(readerMs * 10) / 10, ballotsPerMin: baselinePerMin },
        ratioToBaseline: Math.round((perMin / baselinePerMin) * 100) / 100,
        rss,
        rssGrowthMBAfterWarmup: growth,
        machine: { cpu: cpus()[0]?.model ?? 'unknown', nproc: cpus().length, node: process.version, loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
      },
      null,
      2,
    )}\n`,
  );
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
