/**
 * Per-sheet cost of the bridge itself (serial driver + protocol + firmware simulator, in-process over
 * @serialport/binding-mock, zero mechanical delay): CPU and wall time per sheet. Baselines from the same run:
 * the least any transport must do with the sheet's bytes (copy + CRC-32), and decoding the front page with
 * sharp (what the reader does next), so the bridge's share of the 100 ms/sheet budget is visible.
 *   node scripts/run-ts.js test/bench/bridge-driver-overhead.bench.ts [--sheets 500]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import { runSession } from '../../firmware-bridge/simulator/harness';
import { writeSampleDeck } from '../../firmware-bridge/simulator/sample-deck';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const sheets = arg('sheets', 500);
  const dir = mkdtempSync(join(tmpdir(), 'tp-bench-deck-'));
  await writeSampleDeck(dir, 4, { backs: true });
  const deck = readDeck(dir);
  await runSession({ deck, count: 30, transport: 'mock' });
  const c0 = cpuMs();
  const r = await runSession({ deck, count: sheets, transport: 'mock', timeoutMs: 600_000 });
  const cpuPerSheet = (cpuMs() - c0) / sheets;
  const wallPerSheet = r.elapsedMs / sheets;

  // Baseline 1: copy and CRC each sheet's bytes once.
  const b0 = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < sheets; i += 1) {
    const s = deck[i % deck.length];
    if (!s) continue;
    sink ^= crc32(Buffer.from(s.front.bytes));
    if (s.back) sink ^= crc32(Buffer.from(s.back.bytes));
  }
  const copyCrcMs = Number(process.hrtime.bigint() - b0) / 1e6 / sheets;
  // Baseline 2: decode the front page to raw pixels.
  const front = deck[0]?.front.bytes ?? new Uint8Array(0);
  for (let i = 0; i < 5; i += 1) await sharp(front).raw().toBuffer();
  const d0 = process.hrtime.bigint();
  const decodes = 40;
  for (let i = 0; i < decodes; i += 1) sink ^= (await sharp(front).raw().toBuffer()).length;
  const decodeMs = Number(process.hrtime.bigint() - d0) / 1e6 / decodes;
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'bridge-driver-overhead',
        sheets,
        problems: r.problems.length,
        perSheet: { cpuMs: Math.round(cpuPerSheet * 100) / 100, wallMs: Math.round(wallPerSheet * 100) / 100, note: 'driver + protocol + simulator in one process, both ends counted' },
        baseline: { copyAndCrcMs: Math.round(copyCrcMs * 1000) / 1000, decodeFrontPageMs: Math.round(decodeMs * 100) / 100 },
        ratioCpuToDecode: Math.round((cpuPerSheet / decodeMs) * 100) / 100,
        shareOf100msBudget: Math.round(wallPerSheet) / 100,
        machine: { cpu: cpus()[0]?.model ?? 'unknown', nproc: cpus().length, node: process.version },
        sink: sink & 1,
      },
      null,
      2,
    )}\n`,
  );
}

void main();
