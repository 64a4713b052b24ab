/**
 * The simulated scanner as a process: starts the firmware simulator on a socat pty and prints one JSON line
 * with the serial path to open, then runs until SIGINT/SIGTERM.
 *
 *   node scripts/run-ts.js firmware-bridge/simulator/main.ts --deck DIR [--count N] [--timings zero|realistic]
 *        [--fault-rate 0.01 --seed 1] [--dir DIR]
 */
import { randomFaults } from './faults';
import { startSimulatedScanner } from './start';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const deckDir = arg('deck');
  if (!deckDir) {
    process.stderr.write('usage: main.ts --deck DIR [--count N] [--timings zero|realistic] [--fault-rate R --seed S] [--dir DIR]\n');
    process.exit(2);
  }
  const timings = arg('timings') ?? 'realistic';
  if (timings !== 'zero' && timings !== 'realistic') {
    process.stderr.write(`--timings must be zero or realistic, not ${timings}\n`);
    process.exit(2);
  }
  const rate = Number(arg('fault-rate') ?? '0');
  const count = arg('count');
  const workDir = arg('dir');
  const scanner = await startSimulatedScanner({
    deckDir,
    timings,
    ...(count ? { count: Number(count) } : {}),
    ...(workDir ? { workDir } : {}),
    ...(rate > 0 ? { faults: randomFaults(Number(arg('seed') ?? '1'), rate) } : {}),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(`${JSON.stringify({ ready: true, path: scanner.path })}\n`);
  const stop = (): void => {
    void scanner.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main().catch((e: Error) => {
  process.stderr.write(`simulator failed: ${e.message}\n`);
  process.exit(1);
});
