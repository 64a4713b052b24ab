#!/usr/bin/env node
// Builds native/bip340 (the county monitor's BIP-340 verifier, linked to Debian's libsecp256k1) with the
// node-gyp that npm carries. Plain Node, no dependency: it runs from `npm ci` (package.json "install"),
// from `npm run build`, and from scripts/ensure-system.js before `npm test` and `npm start`.
//   node scripts/build-native.js                 build if out of date; exit 1 saying why if it cannot
//   node scripts/build-native.js --if-possible   the same, but without libsecp256k1-dev only say so (exit 0):
//                                                `npm ci` must work before the system packages are in
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'native', 'bip340');
const addon = path.join(dir, 'build', 'Release', 'bip340.node');
const SOURCES = ['bip340.c', 'binding.gyp'].map((f) => path.join(dir, f));

/** The headers and library the addon needs (package libsecp256k1-dev); the same test ensure-system.js runs. */
const { LIBSECP_CHECK } = require('./libsecp-check');

function say(line) {
  console.error(`tallyproof: ${line}`);
}

function upToDate() {
  if (!fs.existsSync(addon)) return false;
  const built = fs.statSync(addon).mtimeMs;
  return SOURCES.every((f) => fs.statSync(f).mtimeMs <= built);
}

/** npm's own node-gyp: npm names it to lifecycle scripts; otherwise it sits beside npm in Node's prefix. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => typeof c === 'string' && c !== '' && fs.existsSync(c));
}

function main() {
  const ifPossible = process.argv.includes('--if-possible');
  if (upToDate()) return 0;
  if (spawnSync('sh', ['-c', LIBSECP_CHECK], { stdio: 'ignore' }).status !== 0) {
    say('the BIP-340 verifier (native/bip340) needs libsecp256k1 with its schnorrsig module: Debian package libsecp256k1-dev.');
    if (ifPossible) {
      say('not built now; `npm test` and `npm start` install the package where they may and build it (or: sudo apt-get install libsecp256k1-dev && node scripts/build-native.js).');
      say('until then `county monitor` checks signatures with tiny-secp256k1 (WebAssembly, about 5 times slower) and says so.');
      return 0;
    }
    say('install it with: sudo apt-get install libsecp256k1-dev');
    return 1;
  }
  const gyp = nodeGyp();
  if (gyp === undefined) {
    say("cannot find npm's node-gyp to build native/bip340 (looked beside npm in Node's install); install npm with Node, or run `npx node-gyp rebuild` in native/bip340");
    return ifPossible ? 0 : 1;
  }
  const args = [gyp, 'rebuild'];
  // Node's own headers where Node is installed (Debian's nodejs, NodeSource): no download, works offline
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${prefix}`);
  say('building the native BIP-340 verifier (native/bip340, libsecp256k1)');
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
    say(`building native/bip340 failed (node-gyp exit ${r.status}); the compiler's words are above. It needs a C compiler, make and python3 (Debian: build-essential python3) and libsecp256k1-dev.`);
    return ifPossible ? 0 : 1;
  }
  return 0;
}

process.exitCode = main();
