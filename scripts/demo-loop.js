#!/usr/bin/env node
// `npm run demo:loop [-- --runs N]`: the unattended demo N times in a row (default 10), each on a new seed in
// its own folder, as CI would run it; prints each run's time and result line, keeps the folder of any run that
// failed, and exits 1 if one did. The jest test (test/cli/demo.test.ts) runs a shorter loop of election days.
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CLI = path.join(__dirname, '..', 'dist', 'app', 'cli', 'main.js');
const arg = process.argv.indexOf('--runs');
const runs = arg >= 0 ? Number(process.argv[arg + 1]) : 10;
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`demo-loop: --runs must be a whole number of at least 1, got "${process.argv[arg + 1]}"\n`);
  process.exit(2);
}
if (!fs.existsSync(CLI)) {
  process.stderr.write('demo-loop: not built yet; run `npm run build` first\n');
  process.exit(1);
}
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tallyproof-demo-loop-'));
const base = crypto.randomBytes(3).toString('hex');
const failed = [];
const started = Date.now();
for (let i = 1; i <= runs; i++) {
  const seed = `${base}-${i}`;
  const data = path.join(root, `run-${i}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, 'demo', '--data', data, '--seed', seed], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  const result = (r.stdout || '').split('\n').find((l) => l.startsWith('  result ')) || '(no summary)';
  process.stdout.write(`run ${i}/${runs} seed ${seed}: exit ${r.status} in ${seconds} s ${result.trim()}\n`);
  if (r.status !== 0) {
    failed.push({ seed, data });
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'demo-output.txt'), `${r.stdout}\n--- stderr ---\n${r.stderr}`);
    process.stdout.write((r.stderr || '').split('\n').filter((l) => l.startsWith('tallyproof:')).join('\n') + '\n');
  } else fs.rmSync(data, { recursive: true, force: true });
}
const total = ((Date.now() - started) / 1000).toFixed(1);
if (failed.length === 0) {
  fs.rmSync(root, { recursive: true, force: true });
  process.stdout.write(`demo-loop: ${runs} of ${runs} runs exited 0 in ${total} s\n`);
} else {
  process.stdout.write(`demo-loop: ${failed.length} of ${runs} runs FAILED (${total} s); their output and data are kept: ${failed.map((f) => `${f.data} (seed ${f.seed})`).join(', ')}\n`);
  process.exit(1);
}
