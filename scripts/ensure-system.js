#!/usr/bin/env node
// Checks (and, where it may, installs) the system packages and node modules that `npm start` and
// `npm test` need, so the README's two commands work on a fresh Debian machine. Plain Node: it runs
// before node_modules exists.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { LIBSECP_CHECK } = require('./libsecp-check');

const root = path.resolve(__dirname, '..');

// command -> Debian package, and which of the two jobs needs it.
const SYSTEM = [
  { command: 'pdftoppm', pkg: 'poppler-utils', for: ['test'], why: 'rasterises printed ballots and tapes' },
  { command: 'pdftotext', pkg: 'poppler-utils', for: ['test'], why: 'extracts text from printed PDFs' },
  { command: 'zbarimg', pkg: 'zbar-tools', for: ['test'], why: 'independent QR decoder for printed ballots' },
  { command: 'socat', pkg: 'socat', for: ['start', 'test'], why: 'pseudo-terminal pair for the serial scanner simulator' },
  { command: 'scanimage', pkg: 'sane-utils', for: ['test'], why: "SANE scanner driver tests (pnm backend)" },
  { command: 'litecoind', pkg: 'litecoind', for: ['test'], why: 'regtest chain nodes for publishing tests' },
  { command: 'cupsd', check: 'test -x /usr/sbin/cupsd', pkg: 'cups-daemon', for: ['test'], why: 'a private CUPS scheduler the tape-printing tests print through' },
  { command: 'lp', pkg: 'cups-client', for: ['test'], why: "CUPS's lp, which the station hands letter tapes to" },
  { command: 'chromium', pkg: 'chromium', for: ['test'], why: 'runs the kiosk UI in browser tests (playwright-core drives it)' },
  {
    command: 'python3-opentimestamps',
    check: "/usr/bin/python3 -c 'import opentimestamps'",
    pkg: 'python3-opentimestamps',
    for: ['test'],
    why: "OpenTimestamps' own library reads the ballot proofs in the audit tests",
  },
  {
    command: 'libsecp256k1',
    check: LIBSECP_CHECK,
    pkg: 'libsecp256k1-dev',
    for: ['start', 'test'],
    why: "the county monitor's BIP-340 verifier (native/bip340) is built against it",
  },
];

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** A library is checked by importing it, a program by finding it on the PATH. */
function present(s) {
  return s.check === undefined ? has(s.command) : spawnSync('sh', ['-c', s.check], { stdio: 'ignore' }).status === 0;
}

function main() {
  const purposeIdx = process.argv.indexOf('--for');
  const purpose = purposeIdx >= 0 ? process.argv[purposeIdx + 1] : 'test';
  const missing = SYSTEM.filter((s) => s.for.includes(purpose) && !present(s));
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  if (pkgs.length > 0) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const auto = process.env.TALLYPROOF_NO_APT !== '1' && has('apt-get');
    const prefix = isRoot ? [] : has('sudo') ? ['sudo', '-n'] : null;
    if (auto && prefix) {
      console.error(`tallyproof: installing system packages: ${pkgs.join(' ')}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const run = (args) => spawnSync(prefix[0] ?? args[0], prefix.length ? [...prefix.slice(1), ...args] : args.slice(1), { stdio: 'inherit', env });
      run(['apt-get', 'update', '-qq']);
      run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
    }
    const still = missing.filter((s) => !present(s));
    if (still.length > 0) {
      console.error('tallyproof: these system commands are missing:');
      for (const s of still) console.error(`  ${s.command.padEnd(10)} (Debian package ${s.pkg}): ${s.why}`);
      console.error(`Install them with: sudo apt-get install ${[...new Set(still.map((s) => s.pkg))].join(' ')}`);
      process.exit(1);
    }
  }
  // .ci/run installs node modules itself with `npm ci`; the README's two commands rely on this step
  if (!process.argv.includes('--system-only') && !fs.existsSync(path.join(root, 'node_modules', '.package-lock.json'))) {
    console.error('tallyproof: installing node modules (npm ci; better-sqlite3 builds from source, a few minutes)');
    const r = spawnSync('npm', ['ci'], { cwd: root, stdio: 'inherit', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  // the native BIP-340 verifier: `npm ci` builds it when the package is already there; here it is
  if (!process.argv.includes('--system-only')) {
    const r = spawnSync(process.execPath, [path.join(__dirname, 'build-native.js')], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

main();
