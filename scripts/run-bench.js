#!/usr/bin/env node
// `npm run bench [-- name-filter] [-- bench args]`: runs every test/bench/*.bench.ts in turn, one process each,
// so each prints its own JSON with its own same-run baseline.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const benchDir = path.join(root, 'test', 'bench');
const [filter, ...args] = process.argv.slice(2);
const files = fs
  .readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter)))
  .sort();
let failed = 0;
for (const f of files) {
  console.error(`# ${f}`);
  const r = spawnSync(process.execPath, [path.join(__dirname, 'run-ts.js'), path.join(benchDir, f), ...args], {
    stdio: 'inherit',
    cwd: root,
  });
  if (r.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
