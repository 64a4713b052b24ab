import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { getZXingModule } from 'zxing-wasm';
import { wasmResidentMiB } from '../support/wasm-resident';
import { DEFAULT_PROFILE } from '../../calibration/profile';
import { loadElection } from '../../ballots/election';
import { deterministicRng, generateElectionKeys } from '../../ballots/identity';
import { BallotReader } from '../../ballots/read/interpret';
import { ReaderPool } from '../../ballots/read/pool';
import { initQrDecoder } from '../../ballots/read/qr-decode';
import { DEFAULT_KIND_WEIGHTS, MARK_KINDS, TestDeck } from '../../ballots/testdeck';
import { argValue, machine } from './support/machine';

/*
 * Reader speed on one core: per-image interpretation time for 200 dpi letter (municipal) and legal
 * (general) pages, from encoded PNG bytes as a scanner driver delivers them, against the same-run baseline
 * of merely decoding those bytes with sharp; cold start (module load + WASM init + first page); a blank
 * page and a page without codes; memory (RSS, heap) across many pages.
 * Usage (after npm run build, for the cold start): node scripts/run-ts.js test/bench/reader-speed.bench.ts [--pages N] [--memory-pages N]
 */
const pages = Number(argValue('--pages') ?? 100);
const memoryPages = Number(argValue('--memory-pages') ?? 1000);

async function main(): Promise<void> {
  await initQrDecoder();
  const keys = generateElectionKeys('florincoin-regtest', deterministicRng('speed'));
  const results: Record<string, unknown>[] = [];
  let cold: { ms: number; status: string } | undefined;
  for (const name of ['municipal', 'general'] as const) {
    const loaded = loadElection(path.join(__dirname, '..', '..', 'ballots', 'examples', `${name}.json`));
    if (!loaded.ok) throw new Error('example invalid');
    const precinctId = loaded.value.definition.precincts[0]!.id;
    const deck = new TestDeck({
      election: loaded.value,
      publicKeys: keys.public,
      privateKeys: keys.private,
      seed: `speed/${name}`,
      dpi: 200,
      mode: 'official',
      precinctId,
      kinds: { ...DEFAULT_KIND_WEIGHTS, 'wrong-election': 0, counterfeit: 0, 'mis-scaled': 0, 'wrong-precinct': 0, 'test-mode': 0 },
      markKinds: MARK_KINDS,
      distortion: 'full',
      streakRate: 0,
      strayMarks: true,
      marginalRate: 0.04,
      erasureRate: 0.1,
      format: 'png',
    });
    const files: Buffer[] = [];
    for (let i = 0; files.length < pages; i++) files.push(...(await deck.sheet(i)).images.map((im) => im.bytes));
    const reader = new BallotReader({ election: loaded.value, publicKeys: keys.public, profile: DEFAULT_PROFILE, station: { mode: 'official', precinctId } });
    const first = await reader.readFile(files[0]!);
    cold ??= coldStart(loaded.value.definition, keys.public, files[0]!);
    if (first.status === 'rejected') throw new Error(`first page rejected: ${first.detail}`);
    for (const f of files.slice(0, 5)) await reader.readFile(f); // warm
    const read: number[] = [];
    const decode: number[] = [];
    for (const f of files.slice(0, pages)) {
      // interleaved, so both see the same machine load
      const d0 = process.hrtime.bigint();
      await sharp(f).toColourspace('b-w').raw().toBuffer();
      decode.push(Number(process.hrtime.bigint() - d0) / 1e6);
      const r0 = process.hrtime.bigint();
      await reader.readFile(f);
      read.push(Number(process.hrtime.bigint() - r0) / 1e6);
    }
    // 8-bit gray like the scans they are compared with (an RGB PNG alone takes several times longer to decode)
    const blank = await sharp({ create: { width: 1700, height: name === 'general' ? 2800 : 2200, channels: 3, background: '#f4f4f4' } }).toColourspace('b-w').png().toBuffer();
    const noCodes = await sharp(files[0]!)
      .composite([{ input: await sharp({ create: { width: 1500, height: 420, channels: 3, background: '#ffffff' } }).png().toBuffer(), left: 100, top: name === 'general' ? 2300 : 1720 }])
      .toColourspace('b-w')
      .png()
      .toBuffer();
    // the same ballot page through the same encoder as the page without codes: a re-encoded PNG of a
    // noisy scan decodes slower than the deck's own, so only this pair compares the reading work
    const sameEncoding = await sharp(files[0]!).toColourspace('b-w').png().toBuffer();
    const timeOf = async (bytes: Buffer) => {
      const ts: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = process.hrtime.bigint();
        await reader.readFile(bytes);
        ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      return stats(ts).median;
    };
    results.push({
      election: name,
      paper: loaded.value.definition.paper.size,
      dpi: 200,
      pages: read.length,
      readMs: stats(read),
      decodeOnlyMs: stats(decode),
      ratioToDecode: round(stats(read).median / stats(decode).median),
      blankPageMedianMs: await timeOf(blank),
      pageWithoutCodesMedianMs: await timeOf(noCodes),
      sameBallotSameEncodingMedianMs: await timeOf(sameEncoding),
      budget: { medianMs: 40, p99Ms: 100, ratioToDecode: 3 },
    });
    if (name === 'municipal') {
      // central count: pages per minute through the worker pool with 1 and with every core
      const setup = { election: loaded.value, publicKeys: keys.public, profile: DEFAULT_PROFILE, station: { mode: 'official' as const, precinctId } };
      const perMinute: Record<string, number> = {};
      for (const size of [1, os.availableParallelism()]) {
        const pool = new ReaderPool(setup, size);
        await Promise.all(files.slice(0, size * 2).map((f) => pool.read(f))); // start-up and warm-up
        const t0 = process.hrtime.bigint();
        await Promise.all(files.map((f) => pool.read(f)));
        perMinute[`workers${size}`] = Math.round((files.length / (Number(process.hrtime.bigint() - t0) / 1e9)) * 60);
        await pool.close();
      }
      results.push({ pool: { election: name, pagesPerMinute: perMinute } });
    }
    if (name === 'general') {
      // WASM memory can grow but never shrink: flat means it stopped growing. External memory is what
      // Buffers and typed arrays hold outside the JS heap (the decoded pages).
      const zxing = (await getZXingModule()) as unknown as { HEAPU8?: Uint8Array };
      const samples: { page: number; rssMiB: number; heapUsedMiB: number; externalMiB: number; zxingWasmMiB: number; zxingWasmResidentMiB: number[] | null }[] = [];
      const mib = (b: number) => Math.round(b / 2 ** 20);
      for (let i = 0; i <= memoryPages; i++) {
        if (i % Math.max(1, Math.floor(memoryPages / 10)) === 0) {
          const m = process.memoryUsage();
          const wasmBytes = zxing.HEAPU8?.buffer.byteLength ?? 0;
          // resident part of the decoder's memory: a leak inside it shows here long before the memory grows
          samples.push({ page: i, rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), externalMiB: mib(m.external), zxingWasmMiB: mib(wasmBytes), zxingWasmResidentMiB: wasmResidentMiB(wasmBytes) });
        }
        if (i < memoryPages) await reader.readFile(files[i % files.length]!);
      }
      results.push({ memory: { pages: memoryPages, samples } });
    }
  }
  fs.writeSync(1, `${JSON.stringify({ bench: 'reader-speed', coldStart: cold, results, machine: machine() }, null, 2)}\n`);
}

/** A fresh process on the built code reads one page: Node start, module load, WASM init, first read. */
function coldStart(definition: unknown, publicKeys: unknown, page: Buffer): { ms: number; status: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-cold-'));
  const files = { election: path.join(dir, 'election.json'), keys: path.join(dir, 'keys.json'), page: path.join(dir, 'page.png') };
  fs.writeFileSync(files.election, JSON.stringify(definition));
  fs.writeFileSync(files.keys, JSON.stringify(publicKeys));
  fs.writeFileSync(files.page, page);
  const out = execFileSync(process.execPath, [path.join(__dirname, 'support', 'cold-start.js'), files.election, files.keys, files.page], { encoding: 'utf8' });
  return JSON.parse(out) as { ms: number; status: string };
}

function stats(xs: number[]): { median: number; p99: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: round(s[Math.floor(s.length / 2)]!), p99: round(s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!), mean: round(s.reduce((a, b) => a + b, 0) / s.length) };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
