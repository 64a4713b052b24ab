/**
 * The long crash run: `node scripts/run-ts.js test/bench/ledger-crash-soak.ts [kills=200] [seed]`.
 * SIGKILLs the appending child that many times (the Jest test does 40) and prints one JSON object.
 */
import os from 'node:os';
import { crashRun } from '../ledger/crash-harness';
import { tempDir } from '../ledger/fixtures';

async function main(): Promise<void> {
  const kills = Number(process.argv[2] ?? 200);
  const seed = Number(process.argv[3] ?? 7);
  const started = Date.now();
  const dir = tempDir('crash-soak-');
  const report = await crashRun(dir, kills, seed, (s) => process.stderr.write(`# ${s}\n`));
  process.stdout.write(
    `${JSON.stringify({
      what: 'ledger crash soak: SIGKILL the appending child, verify after each restart',
      ...report,
      seed,
      seconds: Math.round((Date.now() - started) / 1000),
      dir,
      machine: { cpu: os.cpus()[0]?.model, nproc: os.cpus().length, node: process.version },
    })}\n`,
  );
  process.exitCode = report.failures.length === 0 && report.kills >= kills ? 0 : 1;
}

void main();
