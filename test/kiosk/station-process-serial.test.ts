/**
 * The Electron app's station process checks a serial scanner's path as `tallyproof station --serial` does,
 * with the one shared function: a path that can never be the scanner stops the station at once, naming the
 * path and what was expected. The process is run under plain Node with a stand-in for the parentPort
 * Electron gives a utility process (it imports nothing from electron).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { checkScannerDevice } from '../../app/station/station-config';
import { tempDir } from '../support/ballots';

const ROOT = path.join(__dirname, '..', '..');

/** Runs app/main/station-process.ts with a parentPort that prints every message it is posted as a JSON line. */
function runStationProcess(configFile: string): { status: number | null; messages: unknown[]; stderr: string } {
  const stub = `
    process.parentPort = { on() {}, postMessage(m) { process.stdout.write(JSON.stringify(m) + '\\n'); } };
    require(${JSON.stringify(path.join(ROOT, 'scripts/register-ts.js'))});
    process.argv[2] = ${JSON.stringify(configFile)};
    require(${JSON.stringify(path.join(ROOT, 'app/main/station-process.ts'))});`;
  const r = spawnSync(process.execPath, ['-e', stub], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, TALLYPROOF_PINS: 'poll-worker=1111,captain=2222,auditor=3333' } });
  const messages = r.stdout
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as unknown);
  return { status: r.status, messages, stderr: r.stderr };
}

describe("the Electron station process and a serial scanner's path", () => {
  const dir = tempDir('station-process-serial');
  const regular = path.join(dir, 'not-a-device.txt');
  fs.writeFileSync(regular, 'hello\n');
  const cases: [string, RegExp][] = [
    ['/dev/ttyNOPE', /\/dev\/ttyNOPE does not exist: expected the scanner controller's serial port, a character device such as \/dev\/ttyUSB0/],
    ['/dev/null', /\/dev\/null is a character device of class "mem", not a serial port/],
    [regular, /not-a-device\.txt is a regular file, not a serial device/],
  ];

  it.each(cases)('%s: the process reports failed at once, naming the path and what was expected, and exits 1', (device, reason) => {
    const file = path.join(dir, `station-${path.basename(device)}.json`);
    const data = path.join(dir, `data-${path.basename(device)}`);
    fs.writeFileSync(file, JSON.stringify({ data, election: 'election.json', keys: 'keys', precinct: 'p-101', scanner: { kind: 'serial', path: device } }));
    const r = runStationProcess(file);
    expect(r.status).toBe(1);
    expect(r.messages).toHaveLength(1);
    const m = r.messages[0] as { kind: string; message: string };
    expect(m.kind).toBe('failed');
    expect(m.message).toMatch(new RegExp(`^cannot use ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} scanner\\.path ${device.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
    expect(m.message).toMatch(reason);
    // stopped before anything started: no ledger folder, no election read
    expect(fs.existsSync(data)).toBe(false);
    // the sentence after the setting's name is the one `tallyproof station --serial` prints
    const cli = checkScannerDevice({ kind: 'serial', path: device }, '--serial');
    expect(cli.ok).toBe(false);
    if (!cli.ok) expect(m.message.slice(m.message.indexOf(`${device}: `))).toBe(cli.error.slice(cli.error.indexOf(`${device}: `)));
  }, 90_000);

  it('other scanner kinds are left to be checked where they open', () => {
    expect(checkScannerDevice({ kind: 'folder', dir: '/nonexistent' }, '--serial')).toEqual({ ok: true, value: undefined });
  });
});
