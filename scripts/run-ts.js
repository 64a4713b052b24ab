#!/usr/bin/env node
// Runs a TypeScript file (a benchmark, a child process of a crash test) without a build step.
'use strict';
const path = require('node:path');
require('./register-ts');

const [script, ...rest] = process.argv.slice(2);
if (!script) {
  console.error('usage: node scripts/run-ts.js <file.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(script), ...rest];
require(path.resolve(script));
