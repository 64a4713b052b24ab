/**
 * Soak run: many sheets through the firmware simulator on a socat pty with random faults, then a check that
 * every sheet was reported exactly once and matches where its paper is. Prints one JSON object.
 *
 *   node scripts/run-ts.js firmware-bridge/simulator/soak.ts [--sheets 10000] [--rate 0.01] [--seed 1] [--deck DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeck } from './deck';
import { describeFault, randomFaults } from './faults';
import { runSession } from './harness';
import { writeSampleDeck } from './sample-deck';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const sheets = Number(arg('sheets', '10000'));
  const rate = Number(arg('rate', '0.01'));
  const seed = Number(arg('seed', '1'));
  const transport = arg('transport', 'pty') === 'mock' ? 'mock' : 'pty';
  let deckDir = arg('deck', '');
  const made = deckDir === '';
  if (made) {
    deckDir = mkdtempSync(join(tmpdir(), 'tp-soak-deck-'));
    await writeSampleDeck(deckDir, 4, { backs: true });
  }
  const deck = readDeck(deckDir);
  const plan = randomFaults(seed, rate);
  const injected: Record<string, number> = {};
  for (let i = 0; i < sheets; i += 1) {
    const f = plan(i);
    if (f) injected[describeFault(f)] = (injected[describeFault(f)] ?? 0) + 1;
  }
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = Date.now();
  let done = 0;
  const r = await runSession({
    deck,
    count: sheets,
    transport,
    faults: plan,
    seed,
    // a station that returns about one ballot in ten (overvotes and the like)
    decide: (_id, n) => (n % 10 === 7 ? 'return' : 'accept'),
    timeoutMs: Math.max(120_000, sheets * 200),
    onEvent: (e) => {
      if (e.type !== 'sheet-done') return;
      done += 1;
      if (done % 1000 === 0) process.stderr.write(`soak: ${done} sheets done, ${Math.round((Date.now() - t0) / 1000)} s\n`);
    },
  });
  const heapAfter = process.memoryUsage().heapUsed;
  if (made) rmSync(deckDir, { recursive: true, force: true });
  const faultsTotal = Object.values(injected).reduce((a, b) => a + b, 0);
  const out = {
    soak: 'bridge-serial-pty',
    transport,
    sheetsRequested: sheets,
    physicalSheets: r.physicalSheets,
    sheetIds: r.sheetIds,
    reported: Object.keys(r.outcomes).length,
    counts: r.counts,
    faultRate: rate,
    seed,
    faultsInjected: faultsTotal,
    faultsByKind: injected,
    events: r.events,
    malformedFrames: r.malformedFrames,
    retransmits: r.retransmits,
    reconnects: r.reconnects,
    imageMB: Math.round(r.imageBytes / 1e5) / 10,
    elapsedS: Math.round(r.elapsedMs / 100) / 10,
    sheetsPerMin: Math.round((r.sheetIds / r.elapsedMs) * 60_000),
    heapMB: { before: Math.round(heapBefore / 1e6), after: Math.round(heapAfter / 1e6) },
    problems: r.problems.slice(0, 20),
    problemCount: r.problems.length,
    everySheetAccountedOnce: r.problems.length === 0 && !r.timedOut,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', nproc: cpus().length, node: process.version },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  process.exit(out.everySheetAccountedOnce ? 0 : 1);
}

void main().catch((e: Error) => {
  process.stderr.write(`soak failed: ${e.stack ?? e.message}\n`);
  process.exit(2);
});
