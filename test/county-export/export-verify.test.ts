import fs from 'node:fs';
import path from 'node:path';
import { cvrBallotOf, cvrContextOf } from '../../app/county-export/cvr';
import { electionModelFor } from '../../app/county-export/election-model';
import { ballotFiles, exportReportHead } from '../../app/county-export/export-ballot';
import { DirectoryDevice } from '../../app/county-export/export-device';
import { ExportFolder } from '../../app/county-export/export-folder';
import { FIXED_MTIME, MANIFEST_FILE, REPORT_FILE, exportFolderName } from '../../app/county-export/export-format';
import { readLedgerForCounty } from '../../app/county-export/ledger-read';
import type { CheckpointSigner } from '../../app/ledger/checkpoint';
import { tempDir, testSigner } from '../ledger/fixtures';
import { runCli } from '../support/cli';
import { makeElectionLedger } from './election-ledger';
import type { ElectionLedgerSpec } from './election-ledger';
import { schemaErrors } from './nist-schemas';
import { decodePending } from '../../app/ledger/entries';
import type * as Entries from '../../app/ledger/entries';
import { verifyExport } from '../../app/county-export/export-verify';

// every decode of a pending entry counted (the sheet detail is decoded from it), the real decoder doing the work
jest.mock('../../app/ledger/entries', () => {
  const actual = jest.requireActual<typeof Entries>('../../app/ledger/entries');
  return { ...actual, decodePending: jest.fn(actual.decodePending) };
});
const decodes = decodePending as jest.MockedFunction<typeof decodePending>;

const GENERAL = path.join(__dirname, '..', '..', 'ballots', 'examples', 'general.json');

interface Built {
  readonly data: string;
  readonly device: string;
  readonly folder: string;
  readonly leaves: string[];
}

/**
 * A ledger of real ballots (general election) and its continuous export on a "device" directory, written by the
 * station's own writer (ExportFolder) with the station key of the ledger (testSigner(9)), `first` ballots at a
 * time then the rest: the manifest and index files the station would leave.
 */
function build(signer: CheckpointSigner = testSigner(9), snapshotAfter?: number, detail?: ElectionLedgerSpec['detail']): Built & { snapshot?: string } {
  const data = tempDir('cx-verify-');
  makeElectionLedger({ electionFile: GENERAL, dataDir: data, batches: [6, 6], seed: 11, returned: 1, ...(detail === undefined ? {} : { detail }) });
  const ledger = readLedgerForCounty(path.join(data, 'ledger', 'official.sqlite'));
  const g = ledger.genesis;
  const model = electionModelFor(GENERAL, g);
  const device = path.join(data, 'usb');
  fs.mkdirSync(device);
  const folder = ExportFolder.open(
    new DirectoryDevice(device, { mustBeMountPoint: false }),
    // a signer other than the station's signs in its own name (a forger claiming the station)
    { stationId: g.station.id, stationNumber: g.station.number, publicKey: Buffer.from(signer.publicKey).toString('hex'), election: g.election.hash, mode: g.mode },
    signer,
    exportReportHead(model, g),
  );
  const ctx = cvrContextOf(model, ledger);
  const files = ledger.ballots.map((b) => ballotFiles(ctx, cvrBallotOf(b)));
  let snapshot: string | undefined;
  for (const [i, f] of files.entries()) {
    folder.add([f]);
    if (snapshotAfter !== undefined && i + 1 === snapshotAfter) {
      snapshot = tempDir('cx-snapshot-');
      fs.cpSync(path.join(device, folder.folder), snapshot, { recursive: true });
    }
  }
  return { data, device, folder: path.join(device, folder.folder), leaves: files.map((f) => f.leaf), ...(snapshot === undefined ? {} : { snapshot }) };
}

async function verify(b: Built, withLedger = true): Promise<{ code: number; problems: string[]; report: { ok: boolean } }> {
  const r = await runCli(['export', 'verify', b.device, ...(withLedger ? ['--data', b.data, '--election', GENERAL] : [])]);
  const report = JSON.parse(r.stdout || '{"ok":false,"folders":[]}') as { ok: boolean; folders: { problems: { file: string; problem: string }[] }[] };
  return { code: r.code, report, problems: report.folders.flatMap((f) => f.problems.map((p) => `${p.file}: ${p.problem}`)) };
}

describe('tallyproof export verify', () => {
  it('passes an untouched export, alone and against its ledger; CVR files make a NIST-valid report; names say nothing of order, mtimes are fixed', async () => {
    const b = build();
    expect(await verify(b, false)).toEqual({ code: 0, problems: [], report: expect.objectContaining({ ok: true }) });
    expect(await verify(b)).toEqual({ code: 0, problems: [], report: expect.objectContaining({ ok: true }) });
    // every cast ballot, named by its leaf hash (the files sort by hash, not by casting)
    const names = fs.readdirSync(path.join(b.folder, 'cvr')).sort();
    expect(names).toEqual([...b.leaves].sort().map((l) => `${l}.json`));
    for (const n of names) expect(fs.statSync(path.join(b.folder, 'cvr', n)).mtime.getTime()).toBe(FIXED_MTIME.getTime());
    expect(fs.statSync(path.join(b.folder, MANIFEST_FILE)).mtime.getTime()).toBe(FIXED_MTIME.getTime());
    // the report head plus the CVR files is a schema-valid CastVoteRecordReport
    const head = JSON.parse(fs.readFileSync(path.join(b.folder, REPORT_FILE), 'utf8')) as Record<string, unknown>;
    const cvrs = names.map((n) => JSON.parse(fs.readFileSync(path.join(b.folder, 'cvr', n), 'utf8')) as unknown);
    expect(schemaErrors('cvr', { ...head, CVR: cvrs })).toEqual([]);
    expect(schemaErrors('cvr', head)).toEqual([]);
  });

  it("matches the ledger decoding each cast ballot's sheet detail once beyond its read of the ledger (no second pass keeping every ballot's detail in a map)", () => {
    const b = build(testSigner(9), undefined, { sides: 2, keptRate: 0 });
    const ledgerFile = path.join(b.data, 'ledger', 'official.sqlite');
    decodes.mockClear();
    const cast = readLedgerForCounty(ledgerFile).ballots.length;
    // what reading the ledger for the county costs (its verified pass and its read of pending and cast entries)
    const read = decodes.mock.calls.length;
    decodes.mockClear();
    const r = verifyExport(b.device, { ledgerFile: () => ledgerFile, verify: () => ({}), electionFile: GENERAL, imagesDir: path.join(b.data, 'images') });
    expect(r.folders.flatMap((f) => f.problems)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(cast).toBe(12);
    // beyond that read: each cast ballot's pending entry once more, for its CVR and its images, and nothing else
    expect(decodes.mock.calls.length - read).toBe(cast);
  });

  it('a copy that did not keep the fixed file times still verifies, and says its times may tell the casting order', async () => {
    const b = build();
    const clean = await runCli(['export', 'verify', b.device]);
    expect(clean.stderr).not.toContain('privacy');
    expect((JSON.parse(clean.stdout) as { folders: { privacy: unknown[] }[] }).folders[0]?.privacy).toEqual([]);
    // a FAT device read in another time zone shows the fixed time shifted by hours: not a leak
    const shifted = new Date(FIXED_MTIME.getTime() + 9 * 3600_000);
    for (const n of fs.readdirSync(path.join(b.folder, 'cvr'))) fs.utimesSync(path.join(b.folder, 'cvr', n), shifted, shifted);
    expect((JSON.parse((await runCli(['export', 'verify', b.device])).stdout) as { folders: { privacy: unknown[] }[] }).folders[0]?.privacy).toEqual([]);
    // `cp` without -p: the times of the copy, one file after another
    const names = fs.readdirSync(path.join(b.folder, 'cvr')).sort();
    names.slice(0, 3).forEach((n, i) => fs.utimesSync(path.join(b.folder, 'cvr', n), new Date(Date.now() + i * 1000), new Date(Date.now() + i * 1000)));
    const r = await runCli(['export', 'verify', b.device]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; folders: { problems: unknown[]; privacy: { file: string; problem: string }[] }[] };
    expect(report.ok).toBe(true);
    expect(report.folders[0]?.problems).toEqual([]);
    expect(report.folders[0]?.privacy).toEqual([{ file: `cvr/${names[0] as string}`, problem: expect.stringMatching(/^3 ballot file\(s\) have a modification time far from the fixed 2000-01-01T00:00:00.000Z \(this one: 20\d\d-.*\): the device's file times may tell the order ballots were cast/) }]);
    expect(r.stderr).toContain(`export verify: privacy: ${path.basename(b.folder)}/cvr/${names[0] as string}: 3 ballot file(s)`);
  });

  it('names a changed CVR (alone: its SHA-256; with the ledger: not what the ledger gives)', async () => {
    const b = build();
    const leaf = b.leaves[3] as string;
    const file = path.join(b.folder, 'cvr', `${leaf}.json`);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"Selections":1', '"Selections":0').replace('"NumberVotes":1', '"NumberVotes":0'));
    const alone = await verify(b, false);
    expect(alone.code).toBe(1);
    expect(alone.problems).toEqual([expect.stringMatching(new RegExp(`^cvr/${leaf}\\.json: changed: its SHA-256 is`))]);
    const matched = await verify(b);
    expect(matched.problems).toEqual([expect.stringMatching(new RegExp(`^cvr/${leaf}\\.json: changed`)), `cvr/${leaf}.json: differs from the CVR the ledger gives for this ballot`]);
  });

  it('names a changed image listed in the index', async () => {
    const b = build();
    // an image file listed for a ballot, as the station lists kept images
    const leaf = b.leaves[0] as string;
    const ledger = readLedgerForCounty(path.join(b.data, 'ledger', 'official.sqlite'));
    const g = ledger.genesis;
    const model = electionModelFor(GENERAL, g);
    const folder = ExportFolder.open(
      new DirectoryDevice(b.device, { mustBeMountPoint: false }),
      { stationId: g.station.id, stationNumber: g.station.number, publicKey: g.station.publicKey, election: g.election.hash, mode: g.mode },
      testSigner(9),
      exportReportHead(model, g),
    );
    const ballot = ledger.ballots.find((x) => x.leaf.toString('hex') === leaf);
    if (ballot === undefined) throw new Error('the ballot is in the ledger');
    const cvr = ballotFiles(cvrContextOf(model, ledger), cvrBallotOf(ballot));
    folder.add([{ leaf, files: [...cvr.files, { name: `images/${leaf}-1-${'c'.repeat(32)}.enc`, data: Buffer.from('encrypted image bytes') }] }]);
    expect((await verify(b, false)).problems).toEqual([]);
    fs.writeFileSync(path.join(b.folder, 'images', `${leaf}-1-${'c'.repeat(32)}.enc`), 'encrypted image bytez');
    expect((await verify(b, false)).problems).toEqual([expect.stringMatching(new RegExp(`^images/${leaf}-1-c{32}\\.enc: changed: its SHA-256 is`))]);
    // against the ledger: this ledger kept no image of that ballot
    expect((await verify(b)).problems).toContain(`images/${leaf}-1-${'c'.repeat(32)}.enc: not a file the ledger gives for ballot ${leaf}`);
  });

  it('names an added file and a removed file', async () => {
    const b = build();
    const gone = b.leaves[5] as string;
    fs.rmSync(path.join(b.folder, 'cvr', `${gone}.json`));
    const extra = 'ab'.repeat(32);
    fs.copyFileSync(path.join(b.folder, 'cvr', `${b.leaves[1]}.json`), path.join(b.folder, 'cvr', `${extra}.json`));
    fs.writeFileSync(path.join(b.folder, 'notes.txt'), 'hello');
    const alone = await verify(b, false);
    expect(alone.code).toBe(1);
    expect(alone.problems).toEqual([`cvr/${gone}.json: removed: listed for ballot ${gone}`, `cvr/${extra}.json: added: no index file lists it`, 'notes.txt: added: not a file of the export']);
  });

  it('names a replayed older manifest: with its index files (the newer CVRs are unlisted), and with the newer CVRs deleted too (only the ledger shows it)', async () => {
    const b = build(testSigner(9), 8);
    const snapshot = (b as { snapshot?: string }).snapshot as string;
    // the manifest alone put back: the index files it signed are not these
    fs.copyFileSync(path.join(snapshot, MANIFEST_FILE), path.join(b.folder, MANIFEST_FILE));
    const onlyManifest = await verify(b, false);
    expect(onlyManifest.code).toBe(1);
    // each newer ballot's index file is named: changed (its bucket had older ballots) or added (a bucket new since)
    const newerBuckets = [...new Set(b.leaves.slice(8).map((l) => l.slice(0, 2)))].sort();
    expect(onlyManifest.problems.filter((p) => p.startsWith('index/')).map((p) => p.slice(6, 8))).toEqual(newerBuckets);
    for (const p of onlyManifest.problems.filter((x) => x.startsWith('index/'))) expect(p).toMatch(/^index\/[0-9a-f]{2}\.json: (changed: not the index file manifest\.json signed|added: manifest\.json does not list this index file)/);
    for (const l of b.leaves.slice(8)) expect(onlyManifest.problems).toContain(`cvr/${l}.json: added: no index file lists it`);
    // manifest and index files put back: the four newer CVRs are named as added
    fs.rmSync(path.join(b.folder, 'index'), { recursive: true });
    fs.cpSync(path.join(snapshot, 'index'), path.join(b.folder, 'index'), { recursive: true });
    const newer = b.leaves.slice(8);
    const rolled = await verify(b, false);
    expect(rolled.problems.filter((p) => !p.startsWith('index/'))).toEqual([...newer].sort().map((l) => `cvr/${l}.json: added: no index file lists it`));
    // and the newer CVRs deleted: a consistent older export, which only the ledger shows up
    for (const l of newer) fs.rmSync(path.join(b.folder, 'cvr', `${l}.json`));
    const consistent = await verify(b, false);
    expect(consistent.problems.filter((p) => !p.startsWith('index/'))).toEqual([]);
    const matched = await verify(b);
    expect(matched.code).toBe(1);
    expect(matched.problems.filter((p) => !p.startsWith('index/'))).toEqual([
      ...b.leaves.slice(8).map((l) => `cvr/${l}.json: missing: ballot ${l} is cast in the ledger and not in the export`),
      'manifest.json: covers 8 ballot(s), the ledger cast 12: an older manifest, or an export that stopped (the device was missing or full)',
    ]);
  });

  it('names a manifest changed after signing, and one signed by another key (against the ledger)', async () => {
    const b = build();
    const m = path.join(b.folder, MANIFEST_FILE);
    const orig = fs.readFileSync(m, 'utf8');
    fs.writeFileSync(m, orig.replace('"ballots":12', '"ballots":11'));
    expect((await verify(b, false)).problems).toContain('manifest.json: the signature does not verify with the station key it names (' + (JSON.parse(orig) as { station: { publicKey: string } }).station.publicKey + '): changed after the station signed it');
    // an export made and signed with another key, claiming the station: alone it verifies (the auditor compares the key it names); against the ledger it does not
    const forged = build(testSigner(77));
    expect((await verify(forged, false)).problems).toEqual([]);
    const against = await verify(forged);
    expect(against.code).toBe(1);
    expect(against.problems).toEqual([`manifest.json: signed by station station-9 (${Buffer.from(testSigner(77).publicKey).toString('hex').slice(0, 16)}…), the ledger is station station-9's (${Buffer.from(testSigner(9).publicKey).toString('hex').slice(0, 16)}…)`]);
  });

  it('without the ledger, says whose key signed and that it was not checked; --station-key pins the registered key', async () => {
    const forgedKey = Buffer.from(testSigner(77).publicKey).toString('hex');
    const stationKey = Buffer.from(testSigner(9).publicKey).toString('hex');
    const forged = build(testSigner(77));
    const alone = await runCli(['export', 'verify', forged.device]);
    expect(alone.code).toBe(0);
    const report = JSON.parse(alone.stdout) as { folders: { signedBy: string; keyChecked: boolean }[] };
    expect(report.folders.map((f) => [f.signedBy, f.keyChecked])).toEqual([[forgedKey, false]]);
    expect(alone.stderr).toContain(`not checked: whose key signed tallyproof-station-9-official (${forgedKey})`);
    const pinned = await runCli(['export', 'verify', forged.device, '--station-key', stationKey]);
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toContain(`manifest.json: signed by a station key that is not one of the keys given (${forgedKey})`);
    const genuine = build();
    const ok = await runCli(['export', 'verify', genuine.device, '--station-key', stationKey.toUpperCase()]);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as { folders: { keyChecked: boolean }[] }).folders.map((f) => f.keyChecked)).toEqual([true]);
    expect(ok.stderr).not.toContain('not checked');
    expect((await runCli(['export', 'verify', genuine.device, '--station-key', 'xyz'])).stderr).toMatch(/--station-key xyz is not a station key: 64 hex digits/);
  });

  it('bad input: a directory with no export, a missing directory, verify with --out', async () => {
    const empty = tempDir('cx-empty-');
    const r = await runCli(['export', 'verify', empty]);
    expect([r.code, r.stderr]).toEqual([1, `tallyproof: export verify: ${empty} holds no continuous export (no tallyproof-<station>-<mode>/manifest.json)\n`]);
    const gone = path.join(empty, 'nope');
    const r2 = await runCli(['export', 'verify', gone]);
    expect([r2.code, r2.stderr]).toEqual([1, `tallyproof: export verify: cannot read ${gone}: ENOENT\n`]);
    const r3 = await runCli(['export', 'verify']);
    expect(r3.code).toBe(2);
    const r4 = await runCli(['export', 'verify', empty, '--out', empty]);
    expect(r4.code).toBe(2);
    expect(exportFolderName('station-9', 'official')).toBe('tallyproof-station-9-official');
  });
});
