#!/usr/bin/env node
// tsc copies no non-TS files; the CLI and the renderer read these at run time from dist/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const root = path.resolve(__dirname, '..');
const ASSETS = ['ballots/examples', 'app/ledger/schema.sql', 'app/renderer/static'];
for (const rel of ASSETS) {
  const src = path.join(root, rel);
  if (!fs.existsSync(src)) continue;
  fs.cpSync(src, path.join(root, 'dist', rel), { recursive: true });
}
