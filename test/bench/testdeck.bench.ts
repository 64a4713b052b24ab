import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadElection } from '../../ballots/election';
import { deterministicRng, generateElectionKeys } from '../../ballots/identity';
import type { DeckOptions } from '../../ballots/testdeck';
import { DEFAULT_KIND_WEIGHTS, MARK_KINDS, TestDeck, renderDeck } from '../../ballots/testdeck';
import { argValue, machine } from './support/machine';

/*
 * Test-deck generation speed: sheets per second on one thread at 150, 200 and 300 dpi with the full
 * distortion set, and with one worker per core. The same-run baseline is the floor of any generator: PNG
 * encoding of a blank gray frame of the same size with the same settings.
 * Usage: node scripts/run-ts.js test/bench/testdeck.bench.ts [--sheets N] [--election municipal|general]
 */
const sheets = Number(argValue('--sheets') ?? 60);
const electionName = argValue('--election') ?? 'municipal';

async function main(): Promise<void> {
  const election = loadElection(path.join(__dirname, '..', '..', 'ballots', 'examples', `${electionName}.json`));
  if (!election.ok) throw new Error('example election invalid');
  const keys = generateElectionKeys('florincoin-regtest', deterministicRng('bench'));
  const options = (dpi: number): DeckOptions => ({
    election: election.value,
    publicKeys: keys.public,
    privateKeys: keys.private,
    seed: 'bench',
    dpi,
    mode: 'official',
    precinctId: election.value.definition.precincts[0]!.id,
    kinds: DEFAULT_KIND_WEIGHTS,
    markKinds: MARK_KINDS,
    distortion: 'full',
    streakRate: 0.02,
    strayMarks: true,
    marginalRate: 0.04,
    erasureRate: 0.1,
    format: 'png',
  });
  const results: Record<string, unknown>[] = [];
  for (const dpi of [150, 200, 300]) {
    const deck = new TestDeck(options(dpi));
    await deck.sheet(0); // templates and JIT
    const t0 = process.hrtime.bigint();
    let images = 0;
    for (let i = 1; i <= sheets; i++) images += (await deck.sheet(i)).images.length;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const w = Math.round((215.9 * dpi) / 25.4);
    const h = Math.round(((electionName === 'general' ? 355.6 : 279.4) * dpi) / 25.4);
    const blank = Buffer.alloc(w * h, 245);
    const b0 = process.hrtime.bigint();
    for (let i = 0; i < images; i++) await sharp(blank, { raw: { width: w, height: h, channels: 1 } }).png({ compressionLevel: 3 }).toBuffer();
    const baselineSeconds = Number(process.hrtime.bigint() - b0) / 1e9;
    results.push({
      dpi,
      sheets,
      images,
      sheetsPerSecond: round(sheets / seconds),
      msPerImage: round((seconds * 1000) / images),
      baselinePngEncodeMsPerImage: round((baselineSeconds * 1000) / images),
      ratioToBaseline: round(seconds / baselineSeconds),
    });
  }
  const jobs = os.availableParallelism();
  const t0 = process.hrtime.bigint();
  let n = 0;
  await renderDeck(options(200), sheets * 2, jobs, () => void n++);
  const parallelSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = {
    bench: 'testdeck',
    election: electionName,
    distortion: 'full',
    results,
    parallel: { dpi: 200, jobs, sheets: n, sheetsPerSecond: round(n / parallelSeconds), note: 'includes worker start-up and per-worker template rendering' },
    machine: machine(),
  };
  fs.writeSync(1, `${JSON.stringify(out, null, 2)}\n`);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
