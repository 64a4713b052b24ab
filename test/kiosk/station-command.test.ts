import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REJECT_REASONS, RETURN_REASONS } from '../../ballots/read/reasons';
import { STATION_REASONS } from '../../app/station/policy';
import { electionPublicKeyFile, loadStationConfig, parsePins, readPins } from '../../app/station/station-config';
import { tempDir } from '../support/ballots';
import { runCli } from '../support/cli';

const ROOT = path.join(__dirname, '..', '..');

describe('station PINs', () => {
  test('from role=PIN lists or JSON', () => {
    const want = { 'poll-worker': '1111', captain: '22222', auditor: '333333' };
    expect(parsePins('poll-worker=1111,captain=22222,auditor=333333', 'env')).toEqual({ ok: true, value: want });
    expect(parsePins('poll-worker = 1111\ncaptain=22222\nauditor=333333\n', 'file')).toEqual({ ok: true, value: want });
    expect(parsePins(JSON.stringify(want), 'file')).toEqual({ ok: true, value: want });
  });

  test('refused with a specific reason, never echoing a PIN', () => {
    const cases: [string, string][] = [
      ['poll-worker=1111,captain=2222', 'env: auditor: '],
      ['poll-worker=1111,captain=2222,auditor=33', 'env: auditor: a PIN is 4 to 12 digits'],
      ['poll-worker=1111,captain=1111,auditor=3333', 'env: (pins): each role needs its own PIN'],
      ['poll-worker=1111,captain=2222,auditor=3333,mayor=4444', 'env: (pins): '],
      ['captain:2222', 'env: "captain:####" is not role=PIN'],
      ['{"captain":', 'env: not valid JSON'],
    ];
    for (const [text, message] of cases) {
      const r = parsePins(text, 'env');
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.startsWith(message)).toBe(true);
        expect(r.error).not.toMatch(/2222|4444/);
      }
    }
    expect(readPins(undefined, {})).toMatchObject({ ok: false, error: expect.stringContaining('TALLYPROOF_PINS') });
    expect(readPins('/nonexistent/pins', {})).toEqual({ ok: false, error: 'cannot read the PIN file /nonexistent/pins: it does not exist' });
  });
});

describe('station.json for the Electron app', () => {
  test('paths are relative to the file; a bad file names each problem', () => {
    const dir = tempDir('station-json');
    const file = path.join(dir, 'station.json');
    fs.writeFileSync(file, JSON.stringify({ data: 'data', election: 'e/election.json', keys: 'e/keys', precinct: 'p-101', scanner: { kind: 'simulated', deckDir: 'deck' } }));
    const r = loadStationConfig(file);
    expect(r).toMatchObject({ ok: true, value: { data: path.join(dir, 'data'), election: path.join(dir, 'e/election.json'), keys: path.join(dir, 'e/keys'), scanner: { kind: 'simulated', deckDir: path.join(dir, 'deck') } } });
    fs.writeFileSync(file, JSON.stringify({ data: 'data', election: 'e.json', precinct: 'p', scanner: { kind: 'usb' }, pins: '1234' }));
    const bad = loadStationConfig(file);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error).toContain('keys: ');
      expect(bad.error).toContain('scanner.kind: ');
      expect(bad.error).toContain('(root): Unrecognized key: "pins"');
    }
    expect(electionPublicKeyFile(dir)).toBe(path.join(dir, 'election-public.json'));
    expect(electionPublicKeyFile(file)).toBe(file);
  });
});

describe('tallyproof station', () => {
  test('without --headless it says the kiosk is the Electron app and how to run headless', async () => {
    const r = await runCli(['station', '--simulate', '.', '--election', 'e.json', '--precinct', 'p']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the kiosk window is the Electron app');
    expect(r.stderr).toContain('tallyproof station --headless --port N');
  });

  test('usage errors: no scanner, two scanners, missing election or precinct, bad port', async () => {
    const base = ['station', '--headless', '--election', 'e.json', '--precinct', 'p'];
    expect(await runCli(base)).toMatchObject({ code: 2, stderr: expect.stringContaining('choose the scanner: --simulate <dir>, --serial <path> or --sane <device>') });
    expect(await runCli([...base, '--serial', '/dev/ttyUSB0', '--sane', 'pnm:0'])).toMatchObject({ code: 2, stderr: expect.stringContaining('choose one scanner, not --serial and --sane') });
    expect(await runCli(['station', '--headless', '--serial', '/dev/x', '--precinct', 'p'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--election <file> is required') });
    expect(await runCli(['station', '--headless', '--serial', '/dev/x', '--election', 'e.json'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--precinct <id> is required') });
    expect(await runCli([...base, '--serial', '/dev/x', '--port', '70000'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--port must be between 0 and 65535') });
  });

  test('missing PINs are a failure that says how to give them', async () => {
    const saved = process.env['TALLYPROOF_PINS'];
    delete process.env['TALLYPROOF_PINS'];
    try {
      const r = await runCli(['station', '--headless', '--serial', '/dev/x', '--election', 'e.json', '--precinct', 'p']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('set TALLYPROOF_PINS="poll-worker=…,captain=…,auditor=…" or pass --pins-file <file>');
    } finally {
      if (saved !== undefined) process.env['TALLYPROOF_PINS'] = saved;
    }
  });
});

describe('the kiosk page sources', () => {
  test('every reason the reader or the station gives has a sentence in every language table', () => {
    const src = fs.readFileSync(path.join(ROOT, 'app', 'renderer', 'static', 'js', 'strings.mjs'), 'utf8');
    const tables = src.split(/^export const (?:en|es) = \{$/m).slice(1);
    expect(tables).toHaveLength(2);
    for (const table of tables) {
      const keys = new Set([...table.matchAll(/^ {2}'reason\.([\w-]+)':/gm)].map((m) => m[1]));
      for (const code of [...REJECT_REASONS, ...RETURN_REASONS, ...STATION_REASONS]) expect([code, keys.has(code)]).toEqual([code, true]);
    }
  });

  test('type-check against the kiosk API with the DOM library (app/renderer/tsconfig.json)', () => {
    // Throws with tsc's diagnostics on any error: a missing string in one language, a wrong API call.
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'app', 'renderer', 'tsconfig.json')], { stdio: 'pipe' });
  });
});
