#!/usr/bin/env node
// `npm start`: the kiosk window where Electron's binary is installed, the same screens served headless on
// 127.0.0.1 where it is not (our build machines install with ELECTRON_SKIP_BINARY_DOWNLOAD=1), saying which.
// Station settings: --config=<station.json> or $TALLYPROOF_STATION_CONFIG; without either, a demo station is
// set up in ./tallyproof-demo (sample election, demo keys, a simulated scanner fed the demo pile: every kind of
// sheet, and a double feed the poll worker clears; `npm run demo` keeps its unattended day in ./tallyproof-demo-day).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'app', 'cli', 'main.js');
const PORT = process.env.TALLYPROOF_PORT || '8470';
const DEMO_PINS = 'poll-worker=1111,captain=2222,auditor=3333';
const DEMO_STATION_PASSPHRASE = 'demo station only - never use for an election';

function say(line) {
  process.stdout.write(`tallyproof start: ${line}\n`);
}

function electronBinary() {
  try {
    // The electron package exports the binary's path, and throws when the binary was never downloaded.
    const p = require('electron');
    return typeof p === 'string' && fs.existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function demoConfig() {
  // npm start's station lives in ./tallyproof-demo; `npm run demo` keeps its unattended day in ./tallyproof-demo-day
  const dir = path.resolve('tallyproof-demo');
  const config = path.join(dir, 'station.json');
  const pileFile = path.join(dir, 'deck', 'pile.json');
  let fresh = false;
  if (!fs.existsSync(pileFile)) {
    say(`setting up a demo station in ${dir} (sample election, demo keys, a deck with every kind of sheet a poll worker meets)`);
    const r = spawnSync(process.execPath, [CLI, 'demo', '--data', dir, '--setup-only'], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status || 1);
    fresh = true;
  }
  const pins = path.join(dir, 'DEMO-PINS.txt');
  const pass = path.join(dir, 'DEMO-STATION-PASSPHRASE.txt');
  if (!fs.existsSync(pins)) fs.writeFileSync(pins, `${DEMO_PINS.split(',').join('\n')}\n`, { mode: 0o600 });
  if (!fs.existsSync(pass)) fs.writeFileSync(pass, `${DEMO_STATION_PASSPHRASE}\n`, { mode: 0o600 });
  if (fresh || !fs.existsSync(config)) {
    // the simulated voters feed the pile in order; its double feed is played by the simulated scanner
    const { pileFaults } = require(path.join(ROOT, 'dist', 'app', 'cli', 'commands', 'demo-deck.js'));
    const faults = pileFaults(JSON.parse(fs.readFileSync(pileFile, 'utf8')));
    const settings = {
      data: 'station',
      election: 'election.json',
      keys: 'keys',
      precinct: 'p-101',
      scanner: { kind: 'simulated', deckDir: path.join('deck', 'pile'), timings: 'realistic', ...(faults ? { faults } : {}) },
      pinsFile: path.basename(pins),
      passphraseFile: path.basename(pass),
      // the demo shows the continuous export in a folder standing in for the USB stick: move the folder away and
      // the station stops with the export alarm; put it back and the missing ballots are written
      continuousExport: { dir: 'export-device', whenDeviceFails: 'stop', mustBeMountPoint: false },
    };
    fs.writeFileSync(config, `${JSON.stringify(settings, null, 2)}\n`);
  }
  fs.mkdirSync(path.join(dir, 'export-device'), { recursive: true });
  say(`demo PINs: poll worker 1111, captain 2222, auditor 3333 (in ${pins}; demo only)`);
  say(`the pile holds every kind of sheet; ${path.relative(process.cwd(), pileFile)} says what each one is and what the station should do with it`);
  return config;
}

function headlessArgs(configFile) {
  const c = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const rel = (p) => path.resolve(path.dirname(configFile), p);
  const args = ['station', '--headless', '--port', PORT, '--data', rel(c.data), '--election', rel(c.election), '--keys', rel(c.keys), '--precinct', c.precinct];
  if (c.calibration) args.push('--calibration', rel(c.calibration));
  if (c.pinsFile) args.push('--pins-file', rel(c.pinsFile));
  if (c.passphraseFile) args.push('--passphrase-file', rel(c.passphraseFile));
  const s = c.scanner || {};
  if (c.streakAlarmAfter !== undefined) args.push('--streak-alarm-after', String(c.streakAlarmAfter));
  if (c.readerWorkers !== undefined) args.push('--reader-workers', String(c.readerWorkers));
  const ce = c.continuousExport;
  if (ce) {
    args.push('--export-dir', rel(ce.dir), '--export-when-device-fails', ce.whenDeviceFails);
    if (ce.mustBeMountPoint === false) args.push('--export-any-dir');
  }
  if (s.kind === 'simulated') {
    args.push('--simulate', rel(s.deckDir), '--simulate-timings', s.timings || 'realistic');
    if (s.faults) args.push('--simulate-faults', s.faults);
  } else if (s.kind === 'serial') args.push('--serial', s.path);
  else if (s.kind === 'sane') args.push('--sane', s.device);
  else {
    process.stderr.write(`tallyproof start: the headless station has no flag for a "${s.kind}" scanner; use simulated, serial or sane in ${configFile}\n`);
    process.exit(2);
  }
  return args;
}

function run(cmd, args) {
  // the station's C allocator settings (app/station/allocator-env.ts): glibc reads them only at process start
  const { withStationAllocator } = require(path.join(ROOT, 'dist', 'app', 'station', 'allocator-env.js'));
  const child = spawn(cmd, args, { stdio: 'inherit', env: withStationAllocator(process.env) });
  // Ctrl-C reaches the child through the terminal; this process only waits for it to finish.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code === null ? (signal === 'SIGINT' ? 130 : 1) : code));
}

if (!fs.existsSync(CLI)) {
  process.stderr.write('tallyproof start: not built yet; run `npm run build` first\n');
  process.exit(1);
}
const arg = process.argv.slice(2).find((a) => a.startsWith('--config='));
const configFile = arg ? path.resolve(arg.slice('--config='.length)) : process.env.TALLYPROOF_STATION_CONFIG ? path.resolve(process.env.TALLYPROOF_STATION_CONFIG) : demoConfig();
const electron = electronBinary();
if (electron !== null) {
  say(`Electron found: starting the kiosk window with ${configFile}`);
  run(electron, [ROOT, `--config=${configFile}`]);
} else {
  say(`Electron is not installed here (its binary was not downloaded): serving the kiosk screens headless on http://127.0.0.1:${PORT}/ instead`);
  run(process.execPath, [CLI, ...headlessArgs(configFile)]);
}
