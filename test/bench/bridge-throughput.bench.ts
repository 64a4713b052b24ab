/**
 * Sheets per minute through the serial simulator with zero mechanical delay: firmware simulator on a socat pty
 * (the real path), and in-process over @serialport/binding-mock. Baseline in the same run: the same image bytes
 * pushed raw through a socat pty with no protocol at all, as sheets/min-equivalent.
 *   node scripts/run-ts.js test/bench/bridge-throughput.bench.ts [--sheets 600]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import { runSession } from '../../firmware-bridge/simulator/harness';
import { writeSampleDeck } from '../../firmware-bridge/simulator/sample-deck';
import { rawPtyThroughput } from '../../firmware-bridge/simulator/pty-throughput';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const sheets = arg('sheets', 600);
  const dir = mkdtempSync(join(tmpdir(), 'tp-bench-deck-'));
  await writeSampleDeck(dir, 4, { backs: true });
  const deck = readDeck(dir);
  const bytesPerSheet = deck.reduce((n, s) => n + s.front.bytes.length + (s.back?.bytes.length ?? 0), 0) / deck.length;
  const runs: Record<string, { sheetsPerMin: number; elapsedS: number; problems: number }> = {};
  for (const transport of ['pty', 'mock'] as const) {
    // warm-up, then the measured run
    await runSession({ deck, count: 20, transport });
    const r = await runSession({ deck, count: sheets, transport, timeoutMs: 600_000 });
    runs[transport] = { sheetsPerMin: Math.round((r.sheetIds / r.elapsedMs) * 60_000), elapsedS: r.elapsedMs / 1000, problems: r.problems.length };
  }
  const raw = await rawPtyThroughput(Math.round(bytesPerSheet * 100));
  const rawSheetsPerMin = Math.round((raw.bytesPerSecond / bytesPerSheet) * 60);
  rmSync(dir, { recursive: true, force: true });
  const pty = runs.pty?.sheetsPerMin ?? 0;
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'bridge-throughput',
        sheets,
        bytesPerSheet: Math.round(bytesPerSheet),
        sheetsPerMin: { pty, mock: runs.mock?.sheetsPerMin ?? 0 },
        budgetSheetsPerMin: 600,
        withinBudget: pty >= 600,
        baseline: { what: 'same bytes raw through a socat pty, no protocol, as sheets/min', sheetsPerMin: rawSheetsPerMin, MBps: Math.round(raw.bytesPerSecond / 1e4) / 100 },
        ratioToBaseline: Math.round((pty / rawSheetsPerMin) * 100) / 100,
        runs,
        machine: { cpu: cpus()[0]?.model ?? 'unknown', nproc: cpus().length, node: process.version },
      },
      null,
      2,
    )}\n`,
  );
}

void main();
