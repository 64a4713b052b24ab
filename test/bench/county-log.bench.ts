/**
 * The county log's budgets (issue 16): appends of station checkpoints per second on one core against the
 * same-run baseline of RFC 6962 hashing of the same entries alone (ratio ≥ 0.5 wanted), and a monitor
 * verifying the whole log from scratch over HTTP (every tile authenticated, every entry re-hashed and its
 * station signature checked).
 *   node scripts/run-ts.js test/bench/county-log.bench.ts [entries=200000] [perRound=5000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { leafHash, MerkleAccumulator } from '../../app/ledger/merkle';
import { TileLog } from '../../app/county/log/tile-log';
import { CountyLog } from '../../app/county/log/county-log';
import { serveCountyLog } from '../../app/county/log/log-server';
import { LogClient } from '../../app/county/client/log-client';
import { Monitor } from '../../app/county/client/monitor';
import { ALG_ED25519, generateSigner } from '../../app/county/tlog/note';
import { makeStations, registryOf, stationEntry } from '../county/support';
import { machine } from './support/machine';

const N = Number(process.argv[2] ?? 200_000);
const PER_ROUND = Number(process.argv[3] ?? 5_000);
const ORIGIN = 'county.bench/log';

async function main(): Promise<void> {
  const stations = makeStations(1000);
  const t0 = performance.now();
  const entries = Array.from({ length: N }, (_, i) => stationEntry(stations[i % 1000] as (typeof stations)[number], Math.floor(i / 1000) + 1));
  const makeMs = performance.now() - t0;

  const b0 = performance.now();
  const acc = new MerkleAccumulator();
  for (const e of entries) acc.push(leafHash(e));
  acc.root();
  const baselineMs = performance.now() - b0;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'county-bench-'));
  const signer = generateSigner(ORIGIN, ALG_ED25519);
  const log = TileLog.open(path.join(dir, 'log'), ORIGIN, signer);
  const a0 = performance.now();
  for (let i = 0; i < N; i += PER_ROUND) log.append(entries.slice(i, i + PER_ROUND));
  const appendMs = performance.now() - a0;

  const county = new CountyLog({ dir: path.join(dir, 'log'), origin: ORIGIN, signer, registry: registryOf(stations), witnesses: [], quorum: 0, intervalMs: 1000 });
  await county.round(); // publishes the checkpoint (quorum 0)
  const server = await serveCountyLog(county, { port: 0, host: '127.0.0.1' });
  const m0 = performance.now();
  const report = await new Monitor(new LogClient(server.url, { log: signer, witnesses: [], quorum: 0 }), registryOf(stations)).poll();
  const monitorMs = performance.now() - m0;
  await server.close();
  await county.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  if (report.entriesChecked !== N || report.alarms.length > 0) throw new Error(`monitor: ${JSON.stringify({ checked: report.entriesChecked, alarms: report.alarms.slice(0, 3) })}`);

  console.log(
    JSON.stringify(
      {
        bench: 'county-log',
        machine: machine(),
        entries: N,
        perRound: PER_ROUND,
        entryBytes: entries[0]?.length,
        makeEntriesMs: Math.round(makeMs),
        baseline: { what: 'RFC 6962 leaf hashing and root of the same entries alone', ms: Math.round(baselineMs), perSecond: Math.round(N / (baselineMs / 1000)) },
        append: { ms: Math.round(appendMs), perSecond: Math.round(N / (appendMs / 1000)), ratioToBaseline: Number((baselineMs / appendMs).toFixed(3)) },
        monitorFromScratch: { ms: Math.round(monitorMs), entriesPerSecond: Math.round(N / (monitorMs / 1000)), projectedMsPerMillion: Math.round((monitorMs / N) * 1_000_000) },
      },
      null,
      2,
    ),
  );
}

void main();
