import fs from 'node:fs';
import path from 'node:path';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import type { ExportDevice, FileToWrite } from '../../app/county-export/export-device';
import { DirectoryDevice } from '../../app/county-export/export-device';
import { MANIFEST_FILE, exportFolderName } from '../../app/county-export/export-format';
import type { ExportVerifyReport } from '../../app/county-export/export-verify';
import { verifyExport } from '../../app/county-export/export-verify';
import { dataLayout } from '../../app/ledger/layout';
import { loadStationConfig } from '../../app/station/station-config';
import { tempDir } from '../support/ballots';
import type { Rig } from './support/rig';
import { ELECTION, VoterPile, captainDoes, sheetFeedbacks, startRig, stationSettled, waitForStatus, writeSheets } from './support/rig';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

function verifyAgainstLedger(device: string, dataDir: string): ExportVerifyReport {
  return verifyExport(device, {
    ledgerFile: (mode) => dataLayout(dataDir).ledger(mode),
    verify: () => ({}),
    electionFile: ELECTION,
    imagesDir: dataLayout(dataDir).images,
  });
}

function cvrFiles(device: string, station: string): string[] {
  const dir = path.join(device, exportFolderName(station, 'official'), 'cvr');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

function alarmsSeen(r: Rig): string[] {
  return r.events.flatMap((e) => (e.type === 'alarm' && e.alarm.startsWith('export') ? [`${e.alarm}:${e.active}`] : []));
}

/** A layer in front of the real directory that fails its writes as a dying or full stick does. */
class FailingDevice implements ExportDevice {
  failWith: string | null = null;
  free: number | undefined;
  writes = 0;
  constructor(private readonly real: DirectoryDevice) {}
  get root(): string {
    return this.real.root;
  }
  check() {
    return this.real.check();
  }
  freeBytes() {
    return this.free ?? this.real.freeBytes();
  }
  readFile(name: string) {
    return this.real.readFile(name);
  }
  listDir(name: string) {
    return this.real.listDir(name);
  }
  /** fail from the nth write of a CVR on (1: the first), while failWith is set */
  failFrom = 1;
  private cvrWrites = 0;
  writeFiles(files: readonly FileToWrite[]) {
    if (files.some((f) => f.name.includes('/cvr/'))) this.cvrWrites += 1;
    if (this.failWith !== null && this.cvrWrites >= this.failFrom) throw Object.assign(new Error(`${this.failWith}: simulated`), { code: this.failWith });
    this.writes += 1;
    this.real.writeFiles(files);
  }
  removeFile(name: string) {
    this.real.removeFile(name);
  }
}

describe('continuous export on the station', () => {
  it('stop: each cast ballot on the device; the stick pulled out mid-day stops the feeder (the voter waits), put back it takes ballots again; nothing lost', async () => {
    const { dir } = await writeSheets([0, 1, 2, 3].map((n) => ({ kind: 'normal' as const, n })));
    const device = tempDir('usb-');
    const pile = new VoterPile(readDeck(dir));
    pile.allow(2);
    rig = await startRig({ deck: dir, pile, continuousExport: { dir: device, whenDeviceFails: 'stop', mustBeMountPoint: false } });
    const station = rig.station.status().stationId;
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await waitForStatus(rig.station, (s) => s.counts.public === 2);
    expect(cvrFiles(device, station)).toHaveLength(2);
    // the index file and the manifest follow the ballot in the station's queue
    if (rig !== undefined) await stationSettled(rig.station);
    expect(verifyAgainstLedger(device, rig.dataDir).ok).toBe(true);

    // the stick is pulled out: the station sees it within seconds, before the next voter
    const away = `${device}-away`;
    fs.renameSync(device, away);
    await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('export-missing'));
    pile.allow(2);
    await stationSettled(rig.station);
    expect(rig.station.status().counts.public).toBe(2);
    // the station did not make the mount point again on its own disk
    expect(fs.existsSync(device)).toBe(false);

    // put back: the feeder starts again and both waiting ballots count, each on the device
    fs.renameSync(away, device);
    const done = await waitForStatus(rig.station, (s) => s.counts.public === 4);
    expect(done.scanner.alarms).toEqual([]);
    expect(sheetFeedbacks(rig.events).map((f) => f.outcome)).toEqual(['counted', 'counted', 'counted', 'counted']);
    expect(alarmsSeen(rig)).toEqual(['export-missing:true', 'export-missing:false']);
    expect(cvrFiles(device, station)).toHaveLength(4);
    // the index file and the manifest follow the ballot in the station's queue
    if (rig !== undefined) await stationSettled(rig.station);
    const v = verifyAgainstLedger(device, rig.dataDir);
    expect(v.folders.flatMap((f) => f.problems)).toEqual([]);
    expect(v.folders.map((f) => [f.ballots, f.ledgerChecked])).toEqual([[4, true]]);
    // each ballot's kept scan is on the stick, still encrypted: the image store's file byte for byte
    const images = fs.readdirSync(path.join(device, exportFolderName(station, 'official'), 'images')).sort();
    expect(images.map((n) => n.replace(/-\d-[0-9a-f]{32}\.enc$/, '.json'))).toEqual(cvrFiles(device, station).flatMap((c) => images.filter((n) => n.startsWith(c.slice(0, 64))).map(() => c)));
    expect(images.length).toBeGreaterThanOrEqual(4);
    const store = dataLayout(rig.dataDir).images;
    const stored = new Set(fs.readdirSync(store).map((n) => fs.readFileSync(path.join(store, n)).toString('hex')));
    for (const n of images) expect(stored.has(fs.readFileSync(path.join(device, exportFolderName(station, 'official'), 'images', n)).toString('hex'))).toBe(true);
    // an image changed on the stick is named
    const img = path.join(device, exportFolderName(station, 'official'), 'images', images[0] as string);
    const bytes = fs.readFileSync(img);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    fs.writeFileSync(img, bytes);
    expect(verifyAgainstLedger(device, rig.dataDir).folders.flatMap((f) => f.problems)).toEqual([
      { file: `images/${images[0]}`, problem: expect.stringMatching(/^changed: its SHA-256 is/) },
      { file: `images/${images[0]}`, problem: "differs from the station's encrypted image of this side" },
    ]);
  });

  it('warn: with the stick away the ballots keep counting under the warning; put back, the catch-up writes every one and the alarm clears', async () => {
    const { dir } = await writeSheets([0, 1, 2].map((n) => ({ kind: 'normal' as const, n })));
    const device = tempDir('usb-');
    rig = await startRig({ deck: dir, continuousExport: { dir: device, whenDeviceFails: 'warn', mustBeMountPoint: false } });
    const station = rig.station.status().stationId;
    await captainDoes(rig.station, 'print-zero-tape');
    const away = `${device}-away`;
    fs.renameSync(device, away);
    await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('export-warning'));
    await captainDoes(rig.station, 'open-polls');
    await waitForStatus(rig.station, (s) => s.counts.public === 3);
    expect(sheetFeedbacks(rig.events).map((f) => f.outcome)).toEqual(['counted', 'counted', 'counted']);
    expect(cvrFiles(away, station)).toHaveLength(0);
    fs.renameSync(away, device);
    await waitForStatus(rig.station, (s) => !s.scanner.alarms.includes('export-warning'));
    expect(cvrFiles(device, station)).toHaveLength(3);
    // the index file and the manifest follow the ballot in the station's queue
    if (rig !== undefined) await stationSettled(rig.station);
    expect(verifyAgainstLedger(device, rig.dataDir).ok).toBe(true);
    expect(alarmsSeen(rig)).toEqual(['export-warning:true', 'export-warning:false']);
  });

  it('a write that fails after the cast (the stick dies mid-ballot): the ballot stays counted, the alarm stops the feeder, and the ballot is written once the stick works', async () => {
    const { dir } = await writeSheets([0, 1, 2].map((n) => ({ kind: 'normal' as const, n })));
    const deviceDir = tempDir('usb-');
    const device = new FailingDevice(new DirectoryDevice(deviceDir, { mustBeMountPoint: false }));
    const pile = new VoterPile(readDeck(dir));
    pile.allow(2);
    // the stick dies writing the second ballot
    device.failWith = 'EIO';
    device.failFrom = 2;
    rig = await startRig({ deck: dir, pile, exportDevice: device, continuousExport: { dir: deviceDir, whenDeviceFails: 'stop', mustBeMountPoint: false } });
    const station = rig.station.status().stationId;
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    // the second ballot was cast before its write failed: counted, in the ledger, not on the device
    const stopped = await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('export-missing') && s.counts.public === 2);
    expect(stopped.scanner.alarms).toEqual(['export-missing']);
    expect(sheetFeedbacks(rig.events).map((f) => f.outcome)).toEqual(['counted', 'counted']);
    expect(cvrFiles(deviceDir, station)).toHaveLength(1);
    const v = verifyAgainstLedger(deviceDir, rig.dataDir);
    expect(v.folders.flatMap((f) => f.problems.map((p) => p.problem))).toEqual([
      expect.stringMatching(/^missing: ballot [0-9a-f]{64} is cast in the ledger and not in the export$/),
      'covers 1 ballot(s), the ledger cast 2: an older manifest, or an export that stopped (the device was missing or full)',
    ]);
    pile.allow(1);
    await stationSettled(rig.station);
    expect(rig.station.status().counts.public).toBe(2);
    // the stick works again: the catch-up writes the missing ballot, the feeder takes the third
    device.failWith = null;
    await waitForStatus(rig.station, (s) => s.counts.public === 3 && s.scanner.alarms.length === 0);
    expect(cvrFiles(deviceDir, station)).toHaveLength(3);
    // the index file and the manifest follow the ballot in the station's queue
    if (rig !== undefined) await stationSettled(rig.station);
    expect(verifyAgainstLedger(deviceDir, rig.dataDir).ok).toBe(true);
  });

  it('full: ENOSPC raises export-full; an empty stick in its place gets every ballot, then scanning goes on', async () => {
    const { dir } = await writeSheets([0, 1].map((n) => ({ kind: 'normal' as const, n })));
    const deviceDir = tempDir('usb-');
    const device = new FailingDevice(new DirectoryDevice(deviceDir, { mustBeMountPoint: false }));
    device.failWith = 'ENOSPC';
    device.free = 10_000;
    rig = await startRig({ deck: dir, exportDevice: device, continuousExport: { dir: deviceDir, whenDeviceFails: 'stop', mustBeMountPoint: false } });
    const full = await waitForStatus(rig.station, (s) => s.scanner.alarms.includes('export-full'));
    expect(full.scanner.alarms).toEqual(['export-full']);
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await stationSettled(rig.station);
    expect(rig.station.status().counts.public).toBe(0);
    // the poll workers put an empty stick in
    device.failWith = null;
    device.free = undefined;
    await waitForStatus(rig.station, (s) => s.counts.public === 2 && s.scanner.alarms.length === 0);
    // the index file and the manifest follow the ballot in the station's queue
    if (rig !== undefined) await stationSettled(rig.station);
    expect(verifyAgainstLedger(deviceDir, rig.dataDir).ok).toBe(true);
  });

  it('a restart with the stick away: the alarm stands from the start; a stick with another election on it is refused, not written into', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }]);
    const device = tempDir('usb-');
    rig = await startRig({ deck: dir, continuousExport: { dir: device, whenDeviceFails: 'stop', mustBeMountPoint: false } });
    const dataDir = rig.dataDir;
    const station = rig.station.status().stationId;
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await waitForStatus(rig.station, (s) => s.counts.public === 1);
    await rig.stop();
    rig = undefined;
    const m = path.join(device, exportFolderName(station, 'official'), MANIFEST_FILE);
    const manifest = JSON.parse(fs.readFileSync(m, 'utf8')) as { election: string };
    fs.writeFileSync(m, JSON.stringify({ ...manifest, election: 'f'.repeat(64) }));
    const before = fs.readFileSync(m, 'utf8');
    rig = await startRig({ deck: dir, dataDir, continuousExport: { dir: device, whenDeviceFails: 'stop', mustBeMountPoint: false } });
    expect(rig.station.status().scanner.alarms).toContain('export-missing');
    expect(fs.readFileSync(m, 'utf8')).toBe(before);
    await rig.stop();
    rig = undefined;
    fs.rmSync(device, { recursive: true });
    rig = await startRig({ deck: dir, dataDir, continuousExport: { dir: device, whenDeviceFails: 'stop', mustBeMountPoint: false } });
    expect(rig.station.status().scanner.alarms).toContain('export-missing');
    // a fresh stick: everything cast so far is written at once
    fs.mkdirSync(device);
    await waitForStatus(rig.station, (s) => s.scanner.alarms.length === 0);
    expect(cvrFiles(device, station)).toHaveLength(1);
    // the index file and the manifest follow the ballot in the station's queue
    if (rig !== undefined) await stationSettled(rig.station);
    expect(verifyAgainstLedger(device, dataDir).ok).toBe(true);
  });
});

describe('continuous export of the test ledger', () => {
  it('a test ledger started over casts the same ballot again with a new scan: the stick ends with this scan, not the last one', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', n: 0, mode: 'test' }, { kind: 'normal', n: 1, mode: 'test' }]);
    const device = tempDir('usb-');
    const pile = new VoterPile(readDeck(dir), { cycle: true });
    rig = await startRig({ deck: dir, pile, continuousExport: { dir: device, whenDeviceFails: 'stop', mustBeMountPoint: false } });
    const station = rig.station.status().stationId;
    const folder = path.join(device, exportFolderName(station, 'test'));
    const feed = async (n: number, counted: number): Promise<void> => {
      pile.allow(n);
      // the simulator looks for paper again when feeding is switched on
      await rig?.driver.disableFeeding();
      await rig?.driver.enableFeeding();
      if (rig !== undefined) await waitForStatus(rig.station, (s) => s.counts.public === counted);
    };
    await captainDoes(rig.station, 'enter-test-mode');
    await feed(2, 2);
    const first = fs.readdirSync(path.join(folder, 'images')).sort();
    // the index file and the manifest follow the ballot in the station's queue
    if (rig !== undefined) await stationSettled(rig.station);
    expect(verifyAgainstLedger(device, rig.dataDir).ok).toBe(true);
    // the captain starts the logic-and-accuracy test again: the same first ballot is cast once more, scanned anew
    await captainDoes(rig.station, 'enter-test-mode');
    await feed(1, 1);
    // the index file and the manifest follow the ballot in the station's queue
    if (rig !== undefined) await stationSettled(rig.station);
    const v = verifyAgainstLedger(device, rig.dataDir);
    expect(v.folders.flatMap((f) => f.problems)).toEqual([]);
    // the official folder is there from the start, empty
    expect(v.folders.map((f) => [f.mode, f.ballots])).toEqual([
      ['official', 0],
      ['test', 1],
    ]);
    const now = fs.readdirSync(path.join(folder, 'images')).sort();
    expect(now.length).toBeGreaterThan(0);
    // the same ballot's leaf, other image files: the earlier scan's are gone from the stick
    for (const n of now) expect(first).not.toContain(n);
    expect(fs.readdirSync(path.join(folder, 'cvr'))).toHaveLength(1);
  });
});

describe('station.json continuousExport', () => {
  it('is read with its directory relative to the file; bad values get a sentence naming the key', () => {
    const dir = tempDir('station-json-');
    const file = path.join(dir, 'station.json');
    const base = { data: 'data', election: 'e.json', keys: 'k', precinct: 'p-101', scanner: { kind: 'simulated', deckDir: 'deck' } };
    fs.writeFileSync(file, JSON.stringify({ ...base, continuousExport: { dir: 'usb', whenDeviceFails: 'warn' } }));
    expect(loadStationConfig(file)).toMatchObject({ ok: true, value: { continuousExport: { dir: path.join(dir, 'usb'), whenDeviceFails: 'warn' } } });
    fs.writeFileSync(file, JSON.stringify({ ...base, continuousExport: { dir: '', whenDeviceFails: 'pause', mountPoint: true } }));
    const bad = loadStationConfig(file);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error).toContain('continuousExport.dir: the export directory is a path (the USB stick’s mount point)');
      expect(bad.error).toContain('continuousExport.whenDeviceFails: whenDeviceFails is "stop" (no ballots until the device is back) or "warn" (alarm, keep scanning)');
      expect(bad.error).toContain('continuousExport: Unrecognized key: "mountPoint"');
    }
  });
});
