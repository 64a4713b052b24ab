/**
 * The county log's budgets (issue 16): appends of station checkpoints per second on one core against the
 * same-run baseline of RFC 6962 hashing of the same entries alone (ratio ≥ 0.5 wanted), and a monitor
 * verifying the whole log from scratch over HTTP (every tile authenticated, every entry re-hashed and its
 * station signature checked) in ≤ 60 s per million entries.
 *
 * Baseline: the faster of two hashings of the same entries (the ledger's MerkleAccumulator, and the
 * log's own hash-into-buffer loop), each warmed up first. Append: TileLog.append in rounds of `perRound`,
 * at most two rounds in flight (the next round is hashed while the last is flushed), every tile and
 * checkpoint flushed to disk. Wall time is the budget's measure; CPU time is printed beside it because
 * the machine is shared (the load average says how much).
 *
 * Signature verification, the monitor's main cost, is also measured alone in the same run: CPU µs per
 * BIP-340 verify of the entries' own signatures by the native verifier (native/bip340, one call each and
 * a bundle's worth per call) against tiny-secp256k1's WebAssembly (the fallback, and the baseline), rounds
 * interleaved. The monitor runs with the native verifier required (it fails if that is not built).
 * Process CPU time counts every thread of this one process: the log server, the client and its workers.
 *   node scripts/run-ts.js test/bench/county-log.bench.ts [entries=200000] [perRound=5000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { leafHash, MerkleAccumulator } from '../../app/ledger/merkle';
import { rootOfEntries } from '../../app/county/tlog/hash-into';
import { TileLog } from '../../app/county/log/tile-log';
import { CountyLog } from '../../app/county/log/county-log';
import { serveCountyLog } from '../../app/county/log/log-server';
import { LogClient } from '../../app/county/client/log-client';
import { Monitor } from '../../app/county/client/monitor';
import { ALG_ED25519, generateSigner } from '../../app/county/tlog/note';
import { readStationEntry } from '../../app/county/log/station-entry';
import { stationSignatureVerifier, type StationSignatureVerifier } from '../../app/county/log/station-signature';
import { makeStations, registryOf, stationEntry } from '../county/support';
import { machine } from './support/machine';

const N = Number(process.argv[2] ?? 200_000);
const PER_ROUND = Number(process.argv[3] ?? 5_000);
const ORIGIN = 'county.bench/log';

interface Timed {
  ms: number;
  cpuMs: number;
}

async function timed(f: () => unknown): Promise<Timed> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

function accumulatorRoot(entries: readonly Uint8Array[]): Buffer {
  const acc = new MerkleAccumulator();
  for (const e of entries) acc.push(leafHash(e));
  return acc.root();
}

async function appendAll(log: TileLog, entries: readonly Uint8Array[]): Promise<void> {
  let inFlight: Promise<number> | undefined;
  for (let i = 0; i < entries.length; i += PER_ROUND) {
    const next = log.append(entries.slice(i, i + PER_ROUND));
    if (inFlight !== undefined) await inFlight;
    inFlight = next;
  }
  await inFlight;
}

function verifierOf(kind: 'native' | 'wasm'): StationSignatureVerifier {
  const v = stationSignatureVerifier(kind);
  if (!v.ok) throw new Error(v.error);
  return v.value;
}

/** CPU µs per verify of `sample`'s signatures: native one at a time, native a bundle (256) per call, tiny-secp256k1. */
function verifyCost(sample: readonly Uint8Array[], registry: ReturnType<typeof registryOf>): Record<'native' | 'nativeBatch' | 'tinySecp256k1', number> & { rounds: number; verifies: number } {
  const read = sample.map((e) => {
    const r = readStationEntry(e, registry);
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  });
  const native = verifierOf('native');
  const tiny = verifierOf('wasm');
  const packed = (f: (x: (typeof read)[number]) => Uint8Array): Buffer => Buffer.concat(read.map(f));
  const digests = packed((x) => x.digest);
  const keys = packed((x) => x.publicKey);
  const sigs = packed((x) => x.signature);
  const cpu = (f: () => void): number => {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    return c.user + c.system;
  };
  const one = (v: StationSignatureVerifier) => (): void => {
    for (const x of read) if (!v.verify(x.digest, x.publicKey, x.signature)) throw new Error('a good signature did not verify');
  };
  const batch = (): void => {
    for (let i = 0; i < read.length; i += 256) {
      const end = Math.min(read.length, i + 256);
      const ok = native.verifyBatch(digests.subarray(i * 32, end * 32), keys.subarray(i * 32, end * 32), sigs.subarray(i * 64, end * 64));
      if (ok.some((b) => b !== 1)) throw new Error('a good signature did not verify');
    }
  };
  const runs = { native: one(native), nativeBatch: batch, tinySecp256k1: one(tiny) };
  for (const f of Object.values(runs)) f(); // warm-up
  const total = { native: 0, nativeBatch: 0, tinySecp256k1: 0 };
  const rounds = 3;
  for (let r = 0; r < rounds; r++) for (const k of Object.keys(runs) as (keyof typeof runs)[]) total[k] += cpu(runs[k]);
  const per = (us: number): number => Math.round((us / (rounds * read.length)) * 10) / 10;
  return { rounds, verifies: read.length, native: per(total.native), nativeBatch: per(total.nativeBatch), tinySecp256k1: per(total.tinySecp256k1) };
}

/** entries in the same-run baseline of the monitor: tiny-secp256k1 is too slow to run over the whole log */
const BASELINE_ENTRIES = 20_000;

/**
 * The monitor's same-run baseline: a smaller log of the same entries checked from scratch twice, with the
 * native verifier and with tiny-secp256k1 (the monitor before native/bip340), CPU µs per entry each.
 */
async function monitorBaseline(dir: string, signer: ReturnType<typeof generateSigner>, stations: ReturnType<typeof makeStations>, entries: Uint8Array[], threads: number) {
  const small = path.join(dir, 'small');
  await appendAll(TileLog.open(small, ORIGIN, signer), entries);
  const county = new CountyLog({ dir: small, origin: ORIGIN, signer, registry: registryOf(stations), witnesses: [], quorum: 0, intervalMs: 1000 });
  await county.round();
  const server = await serveCountyLog(county, { port: 0, host: '127.0.0.1' });
  const run = async (verifier: 'native' | 'wasm') => {
    let checked = 0;
    const t = await timed(async () => {
      const r = await new Monitor(new LogClient(server.url, { log: signer, witnesses: [], quorum: 0 }), registryOf(stations), threads, verifier).poll();
      if (r.alarms.length > 0) throw new Error(`monitor (${verifier}): ${JSON.stringify(r.alarms.slice(0, 3))}`);
      checked = r.entriesChecked;
    });
    return { ms: Math.round(t.ms), cpuMicrosecondsPerEntry: Math.round((t.cpuMs * 1000) / checked), projectedMsPerMillion: Math.round((t.ms / checked) * 1_000_000) };
  };
  try {
    const native = await run('native');
    const tinySecp256k1 = await run('wasm');
    return { entries: entries.length, native, tinySecp256k1, cpuSpeedup: Math.round((tinySecp256k1.cpuMicrosecondsPerEntry / native.cpuMicrosecondsPerEntry) * 10) / 10 };
  } finally {
    await server.close();
    await county.stop();
  }
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const stations = makeStations(1000);
  const t0 = performance.now();
  const entries = Array.from({ length: N }, (_, i) => stationEntry(stations[i % 1000] as (typeof stations)[number], Math.floor(i / 1000) + 1));
  const makeMs = performance.now() - t0;
  const verify = verifyCost(entries.slice(0, Math.min(N, 2000)), registryOf(stations));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'county-bench-'));
  const signer = generateSigner(ORIGIN, ALG_ED25519);

  // warm-up of every path measured (JIT), on a throw-away log
  const warm = entries.slice(0, Math.min(N, 20_000));
  accumulatorRoot(warm);
  rootOfEntries(warm);
  await appendAll(TileLog.open(path.join(dir, 'warm'), ORIGIN, signer), warm);

  const accumulator = await timed(() => accumulatorRoot(entries));
  const hashInto = await timed(() => rootOfEntries(entries));
  const baseline = accumulator.ms <= hashInto.ms ? { what: 'the ledger\'s MerkleAccumulator', ...accumulator } : { what: 'the log\'s hash-into-buffer loop', ...hashInto };

  const log = TileLog.open(path.join(dir, 'log'), ORIGIN, signer);
  const append = await timed(() => appendAll(log, entries));
  if (log.size !== N) throw new Error(`appended ${log.size}, not ${N}`);

  const county = new CountyLog({ dir: path.join(dir, 'log'), origin: ORIGIN, signer, registry: registryOf(stations), witnesses: [], quorum: 0, intervalMs: 1000 });
  await county.round(); // publishes the checkpoint (quorum 0)
  const server = await serveCountyLog(county, { port: 0, host: '127.0.0.1' });
  const threads = os.availableParallelism();
  let report: Awaited<ReturnType<Monitor['poll']>> | undefined;
  const monitor = await timed(async () => {
    report = await new Monitor(new LogClient(server.url, { log: signer, witnesses: [], quorum: 0 }), registryOf(stations), threads, 'native').poll();
  });
  await server.close();
  await county.stop();
  if (report?.entriesChecked !== N || report.alarms.length > 0) throw new Error(`monitor: ${JSON.stringify({ checked: report?.entriesChecked, alarms: report?.alarms.slice(0, 3) })}`);
  const sameRun = await monitorBaseline(dir, signer, stations, entries.slice(0, Math.min(N, BASELINE_ENTRIES)), threads);
  fs.rmSync(dir, { recursive: true, force: true });

  const perSecond = (t: Timed): number => Math.round(N / (t.ms / 1000));
  const ratio = Number((baseline.ms / append.ms).toFixed(3));
  const msPerMillion = Math.round((monitor.ms / N) * 1_000_000);
  console.log(
    JSON.stringify(
      {
        bench: 'county-log',
        machine: machine(),
        loadavgBefore: loadBefore.map((l) => Math.round(l * 100) / 100),
        entries: N,
        perRound: PER_ROUND,
        entryBytes: entries[0]?.length,
        makeEntriesMs: Math.round(makeMs),
        verifyCpuMicrosecondsEach: {
          ...verify,
          baseline: 'tinySecp256k1 (WebAssembly), the verifier before native/bip340',
          speedup: Math.round((verify.tinySecp256k1 / verify.nativeBatch) * 10) / 10,
        },
        baseline: {
          what: `RFC 6962 leaf hashing and root of the same entries alone: ${baseline.what}`,
          ms: Math.round(baseline.ms),
          perSecond: perSecond(baseline),
          accumulator: { ms: Math.round(accumulator.ms), cpuMs: Math.round(accumulator.cpuMs) },
          hashInto: { ms: Math.round(hashInto.ms), cpuMs: Math.round(hashInto.cpuMs) },
        },
        append: {
          ms: Math.round(append.ms),
          cpuMs: Math.round(append.cpuMs),
          perSecond: perSecond(append),
          ratioToBaseline: ratio,
          cpuRatioToBaseline: Number((baseline.cpuMs / append.cpuMs).toFixed(3)),
          budget: { perSecond: 5000, ratio: 0.5, met: perSecond(append) >= 5000 && ratio >= 0.5 },
        },
        monitorFromScratch: {
          threads,
          verifier: report.verifier.description,
          ms: Math.round(monitor.ms),
          cpuMsProcess: Math.round(monitor.cpuMs),
          cpuMicrosecondsPerEntry: Math.round((monitor.cpuMs * 1000) / N),
          entriesPerSecond: perSecond(monitor),
          projectedMsPerMillion: msPerMillion,
          budget: { msPerMillion: 60_000, met: msPerMillion <= 60_000 },
          sameRunBaseline: { what: 'the monitor over the first entries alone, native verifier against tiny-secp256k1 (the monitor before native/bip340)', ...sameRun },
        },
        loadavgAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
      },
      null,
      2,
    ),
  );
}

void main();
