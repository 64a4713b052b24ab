import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { DEFAULT_PROFILE } from '../../calibration/profile';
import type { ValidElection } from '../../ballots/election';
import { loadElection } from '../../ballots/election';
import { deterministicRng, generateElectionKeys } from '../../ballots/identity';
import { BallotReader } from '../../ballots/read/interpret';
import type { PageReading } from '../../ballots/read/interpret';
import { combineSheet } from '../../ballots/read/sheet';
import type { DeckOptions, TruthSheet } from '../../ballots/testdeck';
import { DEFAULT_KIND_WEIGHTS, MARK_KINDS, TestDeck } from '../../ballots/testdeck';
import { startWorker } from '../../ballots/worker-thread';
import { argValue, machine } from './support/machine';

/*
 * Reader accuracy: generates decks across every mark kind, distortion, orientation, resolution and sheet
 * kind of the test-deck generator, reads every image with the reader a station uses (encoded bytes in, as
 * from a scanner), and counts every disagreement with the truth:
 *   wrong positions: false mark (empty read as filled), missed mark (a vote read as empty), marginal not
 *   flagged (a marginal mark read as filled or empty), spurious marginal (a clear mark or an empty target
 *   flagged for review);
 *   QR decode failures; wrong outcomes (accept / return / reject, or a reason that is not the truth's).
 * Usage: node scripts/run-ts.js test/bench/reader-accuracy.bench.ts --sheets N [--election general|municipal|both]
 *        [--jobs N] [--seed S] [--out results.json]
 */

interface Tally {
  sheets: number;
  images: number;
  positions: number;
  falseMark: number;
  missedMark: number;
  marginalNotFlagged: number;
  spuriousMarginal: number;
  qrFailures: number;
  wrongOutcomes: number;
  byDpi: Record<string, { sheets: number; positions: number; wrong: number }>;
  msPerImage: number[];
  failures: string[];
}

interface Job {
  readonly first: number;
  readonly step: number;
  readonly count: number;
  readonly seed: string;
  readonly elections: readonly string[];
}

const DPIS = [150, 200, 300] as const;
const examples = path.join(__dirname, '..', '..', 'ballots', 'examples');

function emptyTally(): Tally {
  return { sheets: 0, images: 0, positions: 0, falseMark: 0, missedMark: 0, marginalNotFlagged: 0, spuriousMarginal: 0, qrFailures: 0, wrongOutcomes: 0, byDpi: {}, msPerImage: [], failures: [] };
}

async function runJob(job: Job, report: (t: Tally) => void): Promise<Tally> {
  const keys = generateElectionKeys('florincoin-regtest', deterministicRng(`accuracy/${job.seed}`));
  const decks = new Map<string, { deck: TestDeck; reader: BallotReader }>();
  const setup = (name: string, dpi: number) => {
    const key = `${name}/${dpi}`;
    let d = decks.get(key);
    if (!d) {
      const loaded = loadElection(path.join(examples, `${name}.json`));
      if (!loaded.ok) throw new Error(`${name} invalid`);
      const election: ValidElection = loaded.value;
      const precinctId = election.definition.precincts[0]!.id;
      const options: DeckOptions = {
        election,
        publicKeys: keys.public,
        privateKeys: keys.private,
        seed: `${job.seed}/${name}`,
        dpi,
        mode: 'official',
        precinctId,
        kinds: DEFAULT_KIND_WEIGHTS,
        markKinds: MARK_KINDS,
        distortion: 'full',
        streakRate: 0.02,
        strayMarks: true,
        marginalRate: 0.05,
        erasureRate: 0.15,
        format: 'png',
        // PNG is lossless, so reading the raster is reading the file; JPEG artefacts are in the raster
        encode: false,
      };
      d = {
        deck: new TestDeck(options),
        reader: new BallotReader({ election, publicKeys: keys.public, profile: DEFAULT_PROFILE, station: { mode: 'official', precinctId } }),
      };
      decks.set(key, d);
    }
    return d;
  };
  let t = emptyTally();
  for (let i = job.first; i < job.count; i += job.step) {
    const name = job.elections[i % job.elections.length]!;
    const dpi = DPIS[Math.floor(i / job.elections.length) % DPIS.length]!;
    const { deck, reader } = setup(name, dpi);
    const sheet = await deck.sheet(i);
    const pages: PageReading[] = [];
    for (const [k, im] of sheet.images.entries()) {
      const page = await reader.readImage(sheet.rasters[k]!);
      pages.push(page);
      t.images++;
      t.msPerImage.push(page.ms);
      tallyPositions(t, sheet.truth, im.file, sheet.truth.images[k]!.side, page, dpi);
    }
    tallyOutcome(t, sheet.truth, pages, name, dpi);
    t.sheets++;
    if (t.sheets === 50) {
      // report a delta and start a fresh one, so the parent can simply add them up
      report(t);
      t = emptyTally();
    }
  }
  return t;
}

function tallyPositions(t: Tally, truth: TruthSheet, file: string, side: string, page: PageReading, dpi: number): void {
  const d = (t.byDpi[dpi] ??= { sheets: 0, positions: 0, wrong: 0 });
  if (page.status === 'rejected') {
    if (page.reasons.includes('unreadable-codes') && truth.expected.status !== 'rejected') t.qrFailures++;
    return;
  }
  for (const m of page.marks) {
    t.positions++;
    d.positions++;
    const mark = truth.marks.find((x) => x.side === side && x.contestId === m.contestId && x.optionId === m.optionId);
    const want = mark?.expected ?? 'empty';
    if (want === m.class) continue;
    d.wrong++;
    if (want === 'empty' && m.class === 'filled') t.falseMark++;
    else if (want === 'filled' && m.class === 'empty') t.missedMark++;
    else if (want === 'marginal') t.marginalNotFlagged++;
    else t.spuriousMarginal++;
    t.failures.push(`${truth.index} ${file} ${dpi}dpi ${m.contestId}/${m.optionId}: truth ${want}${mark ? ` (${mark.kind})` : ''}, read ${m.class} ${m.score}`);
  }
}

function tallyOutcome(t: Tally, truth: TruthSheet, pages: readonly PageReading[], election: string, dpi: number): void {
  const d = (t.byDpi[dpi] ??= { sheets: 0, positions: 0, wrong: 0 });
  d.sheets++;
  const sheet = combineSheet(pages);
  const want = truth.expected;
  const reasonOk = want.reasons.length === 0 ? sheet.reasons.length === 0 : sheet.reasons.some((r) => (want.reasons as readonly string[]).includes(r));
  if (sheet.status === want.status && reasonOk) return;
  t.wrongOutcomes++;
  const detail = pages.map((p) => p.detail).filter(Boolean).join('; ');
  t.failures.push(`${truth.index} ${election} ${dpi}dpi ${truth.kind}: truth ${want.status} [${want.reasons.join(',')}], read ${sheet.status} [${sheet.reasons.join(',')}] ${detail} ${JSON.stringify(truth.images[0]!.distortion)}`);
}

function merge(into: Tally, t: Tally): void {
  for (const k of ['sheets', 'images', 'positions', 'falseMark', 'missedMark', 'marginalNotFlagged', 'spuriousMarginal', 'qrFailures', 'wrongOutcomes'] as const) into[k] += t[k];
  for (const [dpi, v] of Object.entries(t.byDpi)) {
    const d = (into.byDpi[dpi] ??= { sheets: 0, positions: 0, wrong: 0 });
    d.sheets += v.sheets;
    d.positions += v.positions;
    d.wrong += v.wrong;
  }
  into.msPerImage.push(...t.msPerImage);
  into.failures.push(...t.failures);
}

async function main(): Promise<void> {
  const sheets = Number(argValue('--sheets') ?? 200);
  const jobs = Number(argValue('--jobs') ?? os.availableParallelism());
  const seed = argValue('--seed') ?? 'accuracy-1';
  const which = argValue('--election') ?? 'both';
  const elections = which === 'both' ? ['general', 'municipal'] : [which];
  const out = argValue('--out');
  const total = emptyTally();
  const started = Date.now();
  const progress = (t: Tally) => {
    merge(total, t);
    const wrong = total.falseMark + total.missedMark + total.marginalNotFlagged + total.spuriousMarginal;
    process.stderr.write(`\r${total.sheets}/${sheets} sheets, ${total.positions} positions, ${wrong} wrong, ${total.wrongOutcomes} wrong outcomes, ${((Date.now() - started) / 1000).toFixed(0)} s   `);
    for (const f of t.failures) process.stderr.write(`\n  ${f}\n`);
  };
  const workers = Array.from({ length: jobs }, (_, first) =>
    startWorker(__filename, { first, step: jobs, count: sheets, seed, elections } satisfies Job),
  );
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.on('message', (m: { type: 'progress' | 'done'; tally: Tally }) => {
            progress(m.tally);
            if (m.type === 'done') resolve();
          });
          w.on('error', reject);
          w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
        }),
    ),
  );
  const ms = total.msPerImage.sort((a, b) => a - b);
  const wrongPositions = total.falseMark + total.missedMark + total.marginalNotFlagged + total.spuriousMarginal;
  const result = {
    bench: 'reader-accuracy',
    seed,
    elections,
    sheets: total.sheets,
    images: total.images,
    positions: total.positions,
    wrongPositions,
    wrongByKind: { falseMark: total.falseMark, missedMark: total.missedMark, marginalNotFlagged: total.marginalNotFlagged, spuriousMarginal: total.spuriousMarginal },
    qrDecodeFailures: total.qrFailures,
    wrongOutcomes: total.wrongOutcomes,
    byDpi: total.byDpi,
    readMsPerImage: { median: ms[Math.floor(ms.length / 2)] ?? null, p99: ms[Math.floor(ms.length * 0.99)] ?? null, note: 'two workers share two cores with the deck generator: see reader-speed for clean timings' },
    wallSeconds: Math.round((Date.now() - started) / 1000),
    jobs,
    machine: machine(),
  };
  process.stderr.write('\n');
  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (out) fs.writeFileSync(out, json);
  fs.writeSync(1, json);
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const job = workerData as Job;
  runJob(job, (t) => parentPort?.postMessage({ type: 'progress', tally: t }))
    .then((t) => parentPort?.postMessage({ type: 'done', tally: t }))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
