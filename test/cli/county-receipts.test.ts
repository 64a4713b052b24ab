import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ALG_COSIGNATURE_V1, formatVerifierKey, generateSigner } from '../../app/county/tlog/note';
import { CountyReporter, SENDING, type SignedStationCheckpoint } from '../../app/county/report/station-reporter';
import { formatStationEntry } from '../../app/county/log/station-entry';
import { Ledger } from '../../app/ledger/ledger';
import { dataLayout } from '../../app/ledger/layout';
import { unlockStationKey } from '../../app/ledger/station-key';
import { tempDir } from '../support/ballots';
import { runCli } from '../support/cli';
import { ELECTION, PASSPHRASE, PRECINCT, captainDoes, startRig, waitForStatus } from '../station/support/rig';
import { makeStations, stationEntry, type TestStation } from '../county/support';
import { ORIGIN, deadPort, electionHashOf, logKey, settingsFor, startCounty, stationWithKey, witnessKey, type RunningCounty } from '../county/station-support';

/**
 * Proofs carried back (issue 16, "Stations report"): the captain carries the station's checkpoints to the
 * county (`county carry`), `county submit --trust` writes their tlog-proofs beside them on the device, and
 * back at the station `county receipts` (or the station itself, from its export device) takes them into
 * the station's receipts, so its staff screen counts those checkpoints as proven. Every proof is checked
 * against the station's own ledger and county setting first: another station's, another batch's, a
 * tampered one, one short of cosignatures, a file that is no proof are each refused, naming the file.
 */

jest.setTimeout(180_000);

const STATION = `station-${PRECINCT}`;
const RECEIPTS = 'receipts-county.test_report.json';

let county: RunningCounty | undefined;
let work: string;
/** a station day with two batches, carried and submitted; its data directory is copied for each test */
let dayData: string;
/** the device after `county submit --trust`: county/<station>/batch-00000{1,2}.{entry,tlog-proof} */
let dayDevice: string;
/** another station's checkpoint and proof, submitted to the same log */
let otherProof: string;
let otherEntry: string;
let settingFile: string;

beforeAll(async () => {
  work = tempDir('county-receipts');
  const { dataDir, station } = stationWithKey(STATION, PASSPHRASE);
  dayData = dataDir;
  // two batches: one closed with the polls open (between two runs of the station), the other at the close
  const morning = await startRig({ deck: [], dataDir });
  await captainDoes(morning.station, 'print-zero-tape', 'open-polls');
  await morning.stop();
  const ledger = Ledger.open(dataLayout(dataDir).ledger('official'));
  const closed = ledger.closeBatch(unlockStationKey(dataLayout(dataDir).stationKey, PASSPHRASE));
  ledger.close();
  if (!closed.ok) throw new Error('the midday batch did not close');
  const evening = await startRig({ deck: [], dataDir });
  await captainDoes(evening.station, 'close-polls');
  await evening.stop();

  const [other] = makeStations(1) as [TestStation];
  const election = electionHashOf(ELECTION);
  county = await startCounty(work, { format: 'tallyproof-county-stations/1', election, mode: 'official', stations: [station, { station: other.id, publicKey: Buffer.from(other.publicKey).toString('hex') }] });
  const trust = path.join(work, 'trust.json');
  fs.writeFileSync(trust, JSON.stringify({ format: 'tallyproof-county-trust/1', log: formatVerifierKey(logKey), witnesses: [formatVerifierKey(witnessKey)], quorum: 1 }));
  // the station's own setting names the log's URL it would use with a network: nothing listens there
  settingFile = path.join(work, 'county.json');
  fs.writeFileSync(settingFile, JSON.stringify({ log: `http://127.0.0.1:${await deadPort()}`, logKey: formatVerifierKey(logKey), witnesses: [formatVerifierKey(witnessKey)], quorum: 1 }));

  dayDevice = path.join(work, 'usb');
  expect(await runCli(['county', 'carry', '--data', dataDir, '--out', dayDevice])).toMatchObject({ code: 0, stdout: expect.stringMatching(/2 checkpoint\(s\) written/) });
  expect(await runCli(['county', 'submit', '--from', dayDevice, '--log', county.server.url, '--trust', trust])).toMatchObject({ code: 0, stdout: expect.stringMatching(/written beside 2 file\(s\)/) });

  const otherDir = path.join(work, 'other-usb', 'county', other.id);
  fs.mkdirSync(otherDir, { recursive: true });
  otherEntry = path.join(otherDir, 'batch-000001.entry');
  fs.writeFileSync(otherEntry, stationEntry(other, 1, { election }));
  expect(await runCli(['county', 'submit', '--from', otherDir, '--log', county.server.url, '--trust', trust])).toMatchObject({ code: 0 });
  otherProof = otherEntry.replace(/\.entry$/, '.tlog-proof');
});

afterAll(async () => {
  await county?.stop();
});

/** A copy of the day's station data and of its device, `change` done to the device's station folder. */
function copyOfDay(change: (folder: string) => void = () => undefined): { data: string; device: string; folder: string } {
  const dir = tempDir('county-receipts-case');
  const data = path.join(dir, 'data');
  const device = path.join(dir, 'usb');
  fs.cpSync(dayData, data, { recursive: true });
  fs.cpSync(dayDevice, device, { recursive: true });
  const folder = path.join(device, 'county', STATION);
  change(folder);
  return { data, device, folder };
}

const receiptsOf = (data: string): { receipts: { batch: number; index: number; tlogProof: string | null }[] } =>
  JSON.parse(fs.readFileSync(path.join(data, 'county', RECEIPTS), 'utf8')) as { receipts: { batch: number; index: number; tlogProof: string | null }[] };

const take = (data: string, device: string, setting = settingFile) => runCli(['county', 'receipts', '--data', data, '--from', device, '--county', setting]);

/** The reporter's status as the station computes it at start, with the county log out of reach. */
async function reporterStatus(data: string) {
  const ledger = Ledger.open(dataLayout(data).ledger('official'));
  const checkpoints = ledger.signedCheckpoints();
  ledger.close();
  const r = new CountyReporter({ settings: settingsFor(`http://127.0.0.1:${await deadPort()}`), dataDir: data, checkpoints: () => checkpoints, timer: () => () => undefined });
  await r.pass();
  await r.stop();
  return r.status();
}

test('carry, submit --trust, receipts: the station counts both checkpoints proven, on its staff screen too; taking them again changes nothing', async () => {
  const { data, device } = copyOfDay();
  expect(await reporterStatus(data)).toMatchObject({ total: 2, reported: 0, proven: 0 });
  const r = await take(data, device);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout).toMatch(/batch-000001\.tlog-proof: batch 1 proven: entry 0 of checkpoint \d+ \(cosigned by observer\.test\/w\)\n/);
  expect(r.stdout).toMatch(/batch-000002\.tlog-proof: batch 2 proven: entry 1 of checkpoint \d+ \(cosigned by observer\.test\/w\)\n/);
  expect(r.stdout).toMatch(/station station-p-101: 2 proof\(s\) taken, 0 already there; 2 of 2 checkpoint\(s\) proven in county\.test\/report \(.*receipts-county\.test_report\.json\)\n$/);
  expect(receiptsOf(data).receipts.map((x) => [x.batch, x.index, x.tlogProof === fs.readFileSync(path.join(device, 'county', STATION, `batch-00000${x.batch}.tlog-proof`), 'utf8')])).toEqual([
    [1, 0, true],
    [2, 1, true],
  ]);
  expect(fs.statSync(path.join(data, 'county', RECEIPTS)).mode & 0o077).toBe(0);
  expect(fs.readdirSync(path.join(data, 'county'))).toEqual([RECEIPTS]); // no lock or temporary file left behind
  // the reporter reads them as its own: nothing left to send or prove
  expect(await reporterStatus(data)).toEqual({ log: ORIGIN, total: 2, reported: 2, proven: 2, waiting: null });
  // the station's staff status ("Reported to county: 2 of 2 checkpoints (2 proven).") with the log out of reach
  const rig = await startRig({ deck: [], dataDir: data, county: settingsFor(`http://127.0.0.1:${await deadPort()}`) });
  try {
    const s = await waitForStatus(rig.station, (x) => x.county?.total === 2);
    expect(s.county).toEqual({ log: ORIGIN, total: 2, reported: 2, proven: 2, waiting: null });
  } finally {
    await rig.stop();
  }
  // the same device again: idempotent
  const before = fs.readFileSync(path.join(data, 'county', RECEIPTS));
  expect(await take(data, device)).toMatchObject({ code: 0, stdout: expect.stringMatching(/batch 1 already proven \(entry 0\)\n[\s\S]*station station-p-101: 0 proof\(s\) taken, 2 already there; 2 of 2 checkpoint\(s\) proven/) });
  expect(fs.readFileSync(path.join(data, 'county', RECEIPTS))).toEqual(before);
  // the setting read from the kiosk's station.json, whose `county` it is
  const stationJson = path.join(work, 'station.json');
  fs.writeFileSync(stationJson, JSON.stringify({ data: 'd', election: 'e.json', keys: 'k', precinct: PRECINCT, scanner: { kind: 'simulated', deckDir: 'deck' }, county: JSON.parse(fs.readFileSync(settingFile, 'utf8')) as unknown }));
  expect(await take(data, path.join(device, 'county', STATION), stationJson)).toMatchObject({ code: 0, stdout: expect.stringMatching(/2 already there/) });
});

test("another station's proof, with or without its entry file, is refused naming the file; nothing is recorded", async () => {
  const { data, device } = copyOfDay((folder) => {
    fs.rmSync(path.join(folder, 'batch-000002.tlog-proof'));
    fs.rmSync(path.join(folder, 'batch-000001.entry'));
    fs.copyFileSync(otherProof, path.join(folder, 'batch-000001.tlog-proof'));
  });
  const r = await take(data, device);
  expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(/batch-000001\.tlog-proof: not a proof of station station-p-101's checkpoint for batch 1 in county\.test\/report: the entry is not at index 2 of the checkpointed tree/) });
  expect(r.stdout).toMatch(/0 proof\(s\) taken, 0 already there, 1 refused; 0 of 2 checkpoint\(s\) proven/);
  expect(fs.existsSync(path.join(data, 'county', RECEIPTS))).toBe(false);

  const withEntry = copyOfDay((folder) => {
    fs.copyFileSync(otherProof, path.join(folder, 'batch-000001.tlog-proof'));
    fs.copyFileSync(otherEntry, path.join(folder, 'batch-000001.entry'));
  });
  const r2 = await take(withEntry.data, withEntry.device);
  expect(r2).toMatchObject({ code: 1, stderr: expect.stringMatching(/batch-000001\.tlog-proof: batch-000001\.entry beside it is not station station-p-101's checkpoint for batch 1 as its ledger holds it: keep the device for the election office/) });
  // batch 2's own proof is still taken: each proof stands on its own
  expect(receiptsOf(withEntry.data).receipts.map((x) => x.batch)).toEqual([2]);
});

test("this station's batch 2 proof renamed as batch 1's is refused; a tampered inclusion path is refused", async () => {
  const renamed = copyOfDay((folder) => {
    fs.rmSync(path.join(folder, 'batch-000001.entry'));
    fs.renameSync(path.join(folder, 'batch-000002.tlog-proof'), path.join(folder, 'batch-000001.tlog-proof'));
  });
  expect(await take(renamed.data, renamed.device)).toMatchObject({ code: 1, stderr: expect.stringMatching(/batch-000001\.tlog-proof: not a proof of station station-p-101's checkpoint for batch 1 .*: the entry is not at index 1 of the checkpointed tree/) });
  expect(fs.existsSync(path.join(renamed.data, 'county', RECEIPTS))).toBe(false);

  const tampered = copyOfDay((folder) => {
    const f = path.join(folder, 'batch-000001.tlog-proof');
    const lines = fs.readFileSync(f, 'utf8').split('\n');
    // the first hash of the inclusion path (line 3, after the header and the index), one bit flipped
    const h = Buffer.from(lines[2] as string, 'base64');
    expect(h).toHaveLength(32);
    h[0] = (h[0] as number) ^ 1;
    lines[2] = h.toString('base64');
    fs.writeFileSync(f, lines.join('\n'));
  });
  const r = await take(tampered.data, tampered.device);
  expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(/batch-000001\.tlog-proof: not a proof of station station-p-101's checkpoint for batch 1 .*: the entry is not at index 0 of the checkpointed tree/) });
  expect(receiptsOf(tampered.data).receipts.map((x) => [x.batch, x.tlogProof !== null])).toEqual([[2, true]]);
});

test('a proof short of cosignatures, or cosigned by a witness the station does not trust, is refused', async () => {
  const stripped = copyOfDay((folder) => {
    const f = path.join(folder, 'batch-000001.tlog-proof');
    const text = fs.readFileSync(f, 'utf8');
    const cut = text.replace(/^\u2014 observer\.test\/w .*\n/m, '');
    expect(cut).not.toBe(text);
    fs.writeFileSync(f, cut);
  });
  expect(await take(stripped.data, stripped.device)).toMatchObject({ code: 1, stderr: expect.stringMatching(/batch-000001\.tlog-proof: not a proof of station station-p-101's checkpoint for batch 1 in county\.test\/report: .*(cosign|quorum|witness)/i) });

  // the station trusts another witness: the proofs' cosignatures are not its
  const another = generateSigner('elsewhere.test/w', ALG_COSIGNATURE_V1, new Uint8Array(32).fill(77));
  const otherSetting = path.join(work, 'county-other-witness.json');
  fs.writeFileSync(otherSetting, JSON.stringify({ log: 'http://127.0.0.1:1', logKey: formatVerifierKey(logKey), witnesses: [formatVerifierKey(another)], quorum: 1 }));
  const untrusted = copyOfDay();
  const r = await take(untrusted.data, untrusted.device, otherSetting);
  expect(r.code).toBe(1);
  expect(r.stderr.split('\n').filter((l) => /batch-00000[12]\.tlog-proof: not a proof of .*(cosign|quorum|witness)/i.test(l))).toHaveLength(2);
  expect(fs.existsSync(path.join(untrusted.data, 'county', RECEIPTS))).toBe(false);
});

test('files that are no tlog-proof, or name no batch of this station, are refused by name', async () => {
  const { data, device } = copyOfDay((folder) => {
    fs.writeFileSync(path.join(folder, 'batch-000001.tlog-proof'), JSON.stringify({ index: 0, proof: [] }));
    fs.writeFileSync(path.join(folder, 'batch-000002.tlog-proof'), Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x0a]));
    fs.writeFileSync(path.join(folder, 'batch-000009.tlog-proof'), 'c2sp.org/tlog-proof@v1\nindex 0\n\n');
    fs.writeFileSync(path.join(folder, 'proof.tlog-proof'), 'x');
  });
  const r = await take(data, device);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/batch-000001\.tlog-proof: not a proof of station station-p-101's checkpoint for batch 1 in county\.test\/report: a tlog proof has an empty line before its checkpoint\n/);
  expect(r.stderr).toMatch(/batch-000002\.tlog-proof: not a tlog-proof \(not text\)\n/);
  expect(r.stderr).toMatch(/batch-000009\.tlog-proof: station station-p-101's ledger has no checkpoint for batch 9 \(it has 2\)\n/);
  expect(r.stderr).toMatch(/proof\.tlog-proof: not named batch-NNNNNN\.tlog-proof as `county submit --trust` writes, so it names no batch\n/);
  expect(fs.existsSync(path.join(data, 'county', RECEIPTS))).toBe(false);

  // no proofs at all, no folder of this station, no setting
  const bare = copyOfDay((folder) => {
    for (const f of fs.readdirSync(folder)) if (f.endsWith('.tlog-proof')) fs.rmSync(path.join(folder, f));
  });
  expect(await take(bare.data, bare.device)).toMatchObject({ code: 1, stderr: expect.stringMatching(/county\/station-p-101: no \.tlog-proof files: at the county, `county submit --from <device> --log <url> --trust trust\.json` writes them/) });
  expect(await take(bare.data, path.join(work, 'other-usb'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/other-usb: no folder county\/station-p-101\/ \(what `county carry` writes for this station\)/) });
  const saved = process.env.TALLYPROOF_STATION_CONFIG;
  delete process.env.TALLYPROOF_STATION_CONFIG;
  try {
    expect(await runCli(['county', 'receipts', '--data', bare.data, '--from', bare.device])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--county <file> is required/) });
  } finally {
    if (saved !== undefined) process.env.TALLYPROOF_STATION_CONFIG = saved;
  }
});

test('receipts that already hold another index for a batch are kept and the proof refused, saying so; a damaged receipts file is not overwritten', async () => {
  const { data, device } = copyOfDay();
  fs.mkdirSync(path.join(data, 'county'), { mode: 0o700 });
  const file = path.join(data, 'county', RECEIPTS);
  // batch 1 proven at entry 5 (as far as this file says), for the very checkpoint the ledger holds
  const ledger = Ledger.open(dataLayout(data).ledger('official'));
  const [cp1] = ledger.signedCheckpoints();
  ledger.close();
  const entryHash = createHash('sha256').update(formatStationEntry((cp1 as SignedStationCheckpoint).body, (cp1 as SignedStationCheckpoint).signature)).digest('hex');
  const held = { format: 'tallyproof-county-receipts/1', log: ORIGIN, receipts: [{ batch: 1, entry: entryHash, index: 5, answeredAt: '2026-11-03T21:00:00.000Z', tlogProof: 'a proof of entry 5' }] };
  fs.writeFileSync(file, JSON.stringify(held), { mode: 0o600 });
  const r = await take(data, device);
  expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(/batch-000001\.tlog-proof: proves batch 1 at entry 0, but the station's receipts already hold entry 5 for it \(proven\): kept entry 5/) });
  expect(r.stdout).toMatch(/batch 2 proven: entry 1/);
  expect(receiptsOf(data).receipts.map((x) => [x.batch, x.index, x.tlogProof === 'a proof of entry 5'])).toEqual([
    [1, 5, true],
    [2, 1, false],
  ]);

  const damaged = copyOfDay();
  fs.mkdirSync(path.join(damaged.data, 'county'), { mode: 0o700 });
  fs.writeFileSync(path.join(damaged.data, 'county', RECEIPTS), '{"format": "tallyproof-county-receipts/1", "log"');
  expect(await take(damaged.data, damaged.device)).toMatchObject({ code: 1, stderr: expect.stringMatching(/receipts-county\.test_report\.json is not a receipts file \(not JSON\): no proof was taken\. Move it aside/) });
  expect(fs.readFileSync(path.join(damaged.data, 'county', RECEIPTS), 'utf8')).toBe('{"format": "tallyproof-county-receipts/1", "log"');
});

test('a station with its export device set takes the proofs on it at start, checked the same way', async () => {
  const { data, device, folder } = copyOfDay((f) => {
    // batch 2's proof tampered: batch 1's is taken, batch 2's said and left
    const p = path.join(f, 'batch-000002.tlog-proof');
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace('index 1\n', 'index 0\n'));
  });
  const said: string[] = [];
  const rig = await startRig({
    deck: [],
    dataDir: data,
    county: settingsFor(`http://127.0.0.1:${await deadPort()}`),
    continuousExport: { dir: device, whenDeviceFails: 'warn', mustBeMountPoint: false },
    log: (m) => said.push(m),
  });
  try {
    // the first pass done: batch 2 could not be sent (the log is out of reach); while a pass runs the screen says it is sending
    const s = await waitForStatus(rig.station, (x) => x.county?.total === 2 && x.county.waiting !== null && x.county.waiting !== SENDING);
    // and why the proof the captain carried back for it was not taken
    expect(s.county).toMatchObject({ total: 2, reported: 1, proven: 1, waiting: expect.stringMatching(/^batch 2: the county log cannot be reached.*; a proof on the export device was not taken: .*batch-000002\.tlog-proof: not a proof of station station-p-101's checkpoint for batch 2/) });
  } finally {
    await rig.stop();
  }
  expect(said.filter((m) => m.includes('batch-000002.tlog-proof'))).toEqual([expect.stringMatching(/^county: a carried proof is not taken: .*batch-000002\.tlog-proof: not a proof of station station-p-101's checkpoint for batch 2/)]);
  expect(said).toContainEqual(expect.stringMatching(/^county: batch 1 proven by .*batch-000001\.tlog-proof \(entry 0 of checkpoint \d+, cosigned by observer\.test\/w\)$/));
  expect(receiptsOf(data).receipts.map((x) => [x.batch, x.index])).toEqual([[1, 0]]);
  expect(fs.existsSync(folder)).toBe(true);
});

test('a receipts file another live process holds (its lock) past the wait: nothing is taken, the lock is named, and it is left to its owner', async () => {
  const { data, device } = copyOfDay();
  fs.mkdirSync(path.join(data, 'county'), { mode: 0o700 });
  const lock = path.join(data, 'county', `${RECEIPTS}.lock`);
  fs.writeFileSync(lock, `${process.ppid}\n`); // a live process other than this one
  const r = await take(data, device);
  expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(new RegExp(`receipts-county\\.test_report\\.json: no proof was taken: .*\\.lock: another process has held the receipts file for 5 s \\(pid ${process.ppid}\\)`)) });
  expect(fs.existsSync(path.join(data, 'county', RECEIPTS))).toBe(false);
  expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.ppid}\n`);
});
