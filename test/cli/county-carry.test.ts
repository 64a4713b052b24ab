import fs from 'node:fs';
import path from 'node:path';
import { formatVerifierKey } from '../../app/county/tlog/note';
import { verifyTlogProof } from '../../app/county/client/tlog-proof-verify';
import { tempDir } from '../support/ballots';
import { runCli } from '../support/cli';
import { ELECTION, PASSPHRASE, PRECINCT, captainDoes, startRig } from '../station/support/rig';
import { makeStations, stationEntry, type TestStation } from '../county/support';
import { electionHashOf, logKey, startCounty, stationWithKey, witnessKey, type RunningCounty } from '../county/station-support';

/**
 * A station without a network: the captain carries its signed checkpoints on the export device
 * (`county carry`) and posts them at the county office (`county submit`). Sending again is harmless; a file
 * of another election, a tampered one, one of a station the county did not register are each refused with
 * their reason, and nothing of them enters the log.
 */

jest.setTimeout(120_000);

let county: RunningCounty | undefined;
afterAll(async () => {
  await county?.stop();
});

test('carry, submit, submit again; bad files refused one by one, nothing of them appended', async () => {
  const { dataDir, station } = stationWithKey(`station-${PRECINCT}`, PASSPHRASE);
  const [other, unregistered] = makeStations(2) as [TestStation, TestStation];
  const work = tempDir('county-carry');
  const device = path.join(work, 'usb');

  // a station with no checkpoint yet has nothing to carry
  const before = await startRig({ deck: [], dataDir });
  expect(await runCli(['county', 'carry', '--data', dataDir, '--out', device])).toMatchObject({ code: 1, stderr: expect.stringMatching(/station station-p-101 has signed no checkpoint yet: the polls close first/) });
  await captainDoes(before.station, 'print-zero-tape', 'open-polls', 'close-polls');
  await before.stop();

  const election = electionHashOf(ELECTION);
  county = await startCounty(work, { format: 'tallyproof-county-stations/1', election, mode: 'official', stations: [station, { station: other.id, publicKey: Buffer.from(other.publicKey).toString('hex') }] });
  const url = county.server.url;
  fs.writeFileSync(path.join(work, 'trust.json'), JSON.stringify({ format: 'tallyproof-county-trust/1', log: formatVerifierKey(logKey), witnesses: [formatVerifierKey(witnessKey)], quorum: 1 }));

  const carried = await runCli(['county', 'carry', '--data', dataDir, '--out', device]);
  expect(carried).toMatchObject({ code: 0, stdout: expect.stringMatching(/^station station-p-101: 1 checkpoint\(s\) written in .*usb\/county\/station-p-101\n$/) });
  const entryFile = path.join(device, 'county', 'station-p-101', 'batch-000001.entry');
  expect(fs.readFileSync(entryFile, 'utf8')).toMatch(/^tallyproof checkpoint v1\nmode official\n[\s\S]*\nsignature [0-9a-f]{128}\n$/);
  expect(await runCli(['county', 'carry', '--data', dataDir, '--out', device])).toMatchObject({ code: 0, stdout: expect.stringMatching(/0 checkpoint\(s\) written, 1 already there/) });

  const sent = await runCli(['county', 'submit', '--from', device, '--log', url, '--trust', path.join(work, 'trust.json')]);
  expect(sent).toMatchObject({ code: 0, stdout: expect.stringMatching(/batch-000001\.entry: entry 0\n[\s\S]*proofs of inclusion in checkpoint 1 \(cosigned by observer\.test\/w\) written beside 1 file\(s\)\n1 of 1 checkpoint file\(s\) in the county log\n$/) });
  const proof = fs.readFileSync(entryFile.replace(/\.entry$/, '.tlog-proof'), 'utf8');
  expect(verifyTlogProof(proof, fs.readFileSync(entryFile), { log: logKey, witnesses: [witnessKey], quorum: 1 })).not.toBeInstanceOf(Error);
  // the same files again (a captain unsure it went through): the same index, nothing appended
  expect(await runCli(['county', 'submit', '--from', device, '--log', url])).toMatchObject({ code: 0, stdout: expect.stringMatching(/batch-000001\.entry: entry 0 \(already in the log\)/) });
  expect(county.county.log.size).toBe(1);

  // a device holding another checkpoint for the same batch of this station is not overwritten
  const second = path.join(work, 'usb2');
  fs.mkdirSync(path.join(second, 'county', 'station-p-101'), { recursive: true });
  fs.writeFileSync(path.join(second, 'county', 'station-p-101', 'batch-000001.entry'), stationEntry(other, 1));
  expect(await runCli(['county', 'carry', '--data', dataDir, '--out', second])).toMatchObject({ code: 1, stderr: expect.stringMatching(/holds a different checkpoint for batch 1 of station station-p-101: keep that device for the election office/) });

  const bad = async (name: string, bytes: Uint8Array | string): Promise<{ code: number; stderr: string }> => {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'batch-000001.entry'), bytes);
    return runCli(['county', 'submit', '--from', dir, '--log', url]);
  };
  expect(await bad('other-election', stationEntry(other, 1, { election: 'cd'.repeat(32) }))).toMatchObject({ code: 1, stderr: expect.stringMatching(/batch-000001\.entry: refused by the county log \(403\): wrong-election: this log takes official checkpoints of election /) });
  const tampered = fs.readFileSync(entryFile, 'utf8').replace(/^tree-size 0$/m, 'tree-size 1');
  expect(tampered).not.toBe(fs.readFileSync(entryFile, 'utf8'));
  expect(await bad('tampered', tampered)).toMatchObject({ code: 1, stderr: expect.stringMatching(/refused by the county log \(403\): bad-signature: the signature is not station station-p-101's/) });
  expect(await bad('unregistered', stationEntry(unregistered, 1, { election }))).toMatchObject({ code: 1, stderr: expect.stringMatching(/refused by the county log \(403\): unknown-station: station "station-002" is not registered for this election/) });
  expect(await bad('damaged', 'tallyproof checkpoint v1\nmode official\n')).toMatchObject({ code: 1, stderr: expect.stringMatching(/batch-000001\.entry: not a signed station checkpoint/) });
  expect(await runCli(['county', 'submit', '--from', path.join(work, 'nothing-here'), '--log', url])).toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot read the folder/) });
  await county.county.round();
  expect(county.county.log.size).toBe(1);
});

test('tallyproof station --county: a setting that cannot work stops the station before it starts, with the file, the key and the reason', async () => {
  const work = tempDir('county-station-flag');
  fs.writeFileSync(path.join(work, 'pins.txt'), 'poll-worker=1111,captain=2222,auditor=3333\n');
  fs.writeFileSync(path.join(work, 'pass.txt'), `${PASSPHRASE}\n`);
  fs.writeFileSync(path.join(work, 'county.json'), JSON.stringify({ log: 'http://127.0.0.1:1', logKey: formatVerifierKey(witnessKey) }));
  fs.mkdirSync(path.join(work, 'deck'));
  const r = await runCli(['station', '--headless', '--port', '0', '--simulate', 'deck', '--election', ELECTION, '--precinct', PRECINCT, '--pins-file', 'pins.txt', '--passphrase-file', 'pass.txt', '--data', 'data', '--county', 'county.json'], work);
  expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(/--county: .*county\.json: logKey: the county log's key: this is a witness key/) });
  expect(fs.existsSync(path.join(work, 'data'))).toBe(false);
});
