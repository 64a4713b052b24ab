import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MerkleTree, leafHash } from '../../app/ledger/merkle';
import { SYNCED, TileLog } from '../../app/county/log/tile-log';
import { readSegment } from '../../app/county/log/entry-journal';
import { ALG_ED25519, generateSigner, openNote } from '../../app/county/tlog/note';
import { parseCheckpoint } from '../../app/county/tlog/checkpoint';
import { TlogError } from '../../app/county/tlog/stored-hashes';

/**
 * The county log's journal (app/county/log/entry-journal.ts): each batch's entries flushed once, the tiles
 * written without a flush, the file system flushed every `syncEvery` entries (`sync -f`, the real command), and
 * what a crash loses of the tiles after that rebuilt from the journal at open.
 */

const ORIGIN = 'county.test/journal';
const signer = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(5));
const entries = (from: number, n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => Buffer.from(`station s-${(from + i) % 5} checkpoint ${from + i}\n`));

function rootHex(note: string): string {
  const opened = openNote(note, [signer]);
  if (opened instanceof TlogError) throw opened;
  const cp = parseCheckpoint(opened.text);
  if (cp instanceof TlogError) throw cp;
  return Buffer.from(cp.root).toString('hex');
}
const expectedRoot = (all: readonly Uint8Array[]): string => Buffer.from(new MerkleTree(all.map((e) => leafHash(e))).root()).toString('hex');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tile-journal-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('each batch is one journal record holding exactly its entries, in order', async () => {
  const log = TileLog.open(dir, ORIGIN, signer);
  const a = entries(0, 300);
  const b = entries(300, 1);
  const c = entries(301, 700);
  await Promise.all([log.append(a), log.append(b), log.append(c)]);
  const files = log.journalFiles();
  expect(files).toEqual(['0000000000000000.jnl']);
  const { records, goodBytes } = readSegment(fs.readFileSync(path.join(dir, 'journal', files[0] as string)));
  expect(goodBytes).toBe(fs.statSync(path.join(dir, 'journal', files[0] as string)).size);
  expect(records.map((r) => [r.first, r.entries.length])).toEqual([
    [0, 300],
    [300, 1],
    [301, 700],
  ]);
  expect(records.flatMap((r) => r.entries.map((e) => Buffer.from(e).toString()))).toEqual([...a, ...b, ...c].map((e) => Buffer.from(e).toString()));
});

test('every syncEvery entries the file system is flushed, the mark moves and the journal files below it go', async () => {
  const log = TileLog.open(dir, ORIGIN, signer, { syncEvery: 1000 });
  const all: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) {
    const batch = entries(all.length, 600);
    all.push(...batch);
    await log.append(batch);
    // a flush started by a batch ends on its own: wait for it before the next, so the test sees each mark
    await log.sync();
  }
  expect(log.store.stats.syncs).toBeGreaterThanOrEqual(2);
  expect(log.synced).toBe(3000);
  expect(fs.readFileSync(path.join(dir, SYNCED), 'utf8')).toBe('3000\n');
  // only the file the next record goes to (and any the mark has not passed) is left
  for (const f of log.journalFiles()) {
    const { records } = readSegment(fs.readFileSync(path.join(dir, 'journal', f)));
    for (const r of records) expect(r.first + r.entries.length).toBeGreaterThan(0);
  }
  expect(log.journalFiles().length).toBeLessThanOrEqual(2);
  // more after the mark, then a crash that loses every tile written since: the journal brings them back
  const more = entries(3000, 700);
  all.push(...more);
  await log.append(more);
  // 3000 = 11·256 + 184; 3700 = 14·256 + 116
  const lost = ['tile/0/011', 'tile/0/012', 'tile/0/013', 'tile/0/014.p/116', 'tile/entries/011', 'tile/entries/012', 'tile/entries/013', 'tile/entries/014.p/116', 'tile/1/000.p/14'];
  const bytes = new Map(lost.map((rel) => [rel, fs.readFileSync(path.join(dir, rel))]));
  for (const rel of lost) fs.rmSync(path.join(dir, rel));
  const again = TileLog.open(dir, ORIGIN, signer, { syncEvery: 1000 });
  expect(again.size).toBe(3700);
  expect(again.synced).toBe(3000);
  expect(rootHex(again.staged)).toBe(expectedRoot(all));
  for (const rel of lost) expect(fs.readFileSync(path.join(dir, rel)).equals(bytes.get(rel) as Buffer)).toBe(true);
  expect(again.inclusionProof(3500).length).toBeGreaterThan(0);
});

test('a record written but never acknowledged (no checkpoint names it) is cut off at open, and the next batch takes its place', async () => {
  const log = TileLog.open(dir, ORIGIN, signer);
  const a = entries(0, 500);
  await log.append(a);
  const staged = fs.readFileSync(path.join(dir, 'checkpoint.staged'));
  await log.append(entries(500, 200));
  fs.writeFileSync(path.join(dir, 'checkpoint.staged'), staged);
  const file = path.join(dir, 'journal', log.journalFiles()[0] as string);
  // and half of a third record after it, as a crash mid-write leaves it
  fs.appendFileSync(file, Buffer.from('TLJ1\0\0\0\0\0\0\x02\xbc\0\0\0\x09\0\0\x10\0garb'));
  const again = TileLog.open(dir, ORIGIN, signer);
  expect(again.size).toBe(500);
  expect(readSegment(fs.readFileSync(file)).records.map((r) => r.first)).toEqual([0]);
  expect(fs.statSync(file).size).toBe(readSegment(fs.readFileSync(file)).goodBytes);
  const b = entries(9000, 10);
  expect(await again.append(b)).toBe(500);
  expect(rootHex(TileLog.open(dir, ORIGIN, signer).staged)).toBe(expectedRoot([...a, ...b]));
});

test('a record replayed that does not give the signed root (the journal edited) is refused at open', async () => {
  const log = TileLog.open(dir, ORIGIN, signer);
  await log.append(entries(0, 300));
  const file = path.join(dir, 'journal', log.journalFiles()[0] as string);
  const data = fs.readFileSync(file);
  // one byte of an entry, not of the record's framing
  data[100] = (data[100] as number) ^ 0x20;
  fs.writeFileSync(file, data);
  const tiles = ['tile/0/000', 'tile/0/001.p/44', 'tile/entries/000', 'tile/entries/001.p/44'].map((rel) => [rel, fs.readFileSync(path.join(dir, rel))] as const);
  expect(() => TileLog.open(dir, ORIGIN, signer)).toThrow(/the tiles \(on disk to 0 entries\) and the journal \(from 0 to 300\) do not give the root the staged checkpoint signed/);
  // the good tiles on disk were not overwritten from the edited journal
  for (const [rel, bytes] of tiles) expect(fs.readFileSync(path.join(dir, rel)).equals(bytes)).toBe(true);
  expect(fs.readFileSync(file).equals(data)).toBe(true);
});

test('a tiles.synced mark that is not a size, or is beyond the staged checkpoint, is refused at open', async () => {
  const log = TileLog.open(dir, ORIGIN, signer);
  await log.append(entries(0, 300));
  for (const bad of ['301\n', 'x\n', '-1\n', '300', '']) {
    fs.writeFileSync(path.join(dir, SYNCED), bad);
    expect(() => TileLog.open(dir, ORIGIN, signer)).toThrow(/tiles\.synced: .* is not a size of at most 300/);
  }
  fs.writeFileSync(path.join(dir, SYNCED), '0\n');
  expect(TileLog.open(dir, ORIGIN, signer).size).toBe(300);
});

test('a log written before the journal (no journal, no mark: every tile was flushed) opens at its size and goes on', async () => {
  const log = TileLog.open(dir, ORIGIN, signer);
  const a = entries(0, 300);
  await log.append(a);
  await log.close();
  fs.rmSync(path.join(dir, 'journal'), { recursive: true });
  fs.rmSync(path.join(dir, SYNCED));
  const again = TileLog.open(dir, ORIGIN, signer);
  expect(again.synced).toBe(300);
  expect(fs.readFileSync(path.join(dir, SYNCED), 'utf8')).toBe('300\n');
  const b = entries(300, 20);
  expect(await again.append(b)).toBe(300);
  expect(rootHex(again.staged)).toBe(expectedRoot([...a, ...b]));
});

test('readPublished reads the published checkpoint without opening the log (nothing under it is written)', async () => {
  const log = TileLog.open(dir, ORIGIN, signer);
  await log.append(entries(0, 10));
  expect(TileLog.readPublished(dir)).toBeUndefined();
  log.publish(log.staged);
  const before = fs.readFileSync(path.join(dir, 'journal', log.journalFiles()[0] as string));
  expect(TileLog.readPublished(dir)).toBe(log.staged);
  expect(fs.readFileSync(path.join(dir, 'journal', log.journalFiles()[0] as string)).equals(before)).toBe(true);
});

test('a flush that fails (no sync command) is reported, loses nothing, and is not retried after every batch', async () => {
  const log = TileLog.open(dir, ORIGIN, signer, { syncEvery: 100 });
  const path0 = process.env.PATH;
  const all: Uint8Array[] = [];
  const add = async (n: number): Promise<void> => {
    const batch = entries(all.length, n);
    all.push(...batch);
    await log.append(batch);
  };
  process.env.PATH = path.join(dir, 'no-such-bin');
  try {
    await add(150);
    await log.sync();
    expect(log.lastSyncError).toMatch(/flushing the file system under .* failed \(the journal keeps every entry\)/);
    expect(log.synced).toBe(0);
    const files = log.journalFiles().length;
    // below the next due size (150 + 100): no new attempt, no new journal file
    await add(10);
    await add(10);
    expect(log.journalFiles().length).toBe(files + 1);
    expect(log.store.stats.syncs).toBe(0);
  } finally {
    process.env.PATH = path0;
  }
  await add(100);
  await log.sync();
  expect(log.lastSyncError).toBeUndefined();
  expect(log.synced).toBe(270);
  expect(fs.readFileSync(path.join(dir, SYNCED), 'utf8')).toBe('270\n');
  // every entry is still there: a reopen after losing every tile past the mark (none here) gives the same root
  expect(rootHex(TileLog.open(dir, ORIGIN, signer).staged)).toBe(expectedRoot(all));
});

test('a journal that cannot rebuild the tiles is refused and left exactly as it was (nothing is cut before the log opens)', async () => {
  const log = TileLog.open(dir, ORIGIN, signer);
  await log.append(entries(0, 300));
  await log.append(entries(300, 300));
  await log.append(entries(600, 300));
  const file = path.join(dir, 'journal', log.journalFiles()[0] as string);
  const data = fs.readFileSync(file);
  const { records } = readSegment(data);
  expect(records.map((r) => r.first)).toEqual([0, 300, 600]);
  // the second record's magic damaged: the third, still whole, comes after it
  const second = data.indexOf(Buffer.from('TLJ1'), 4);
  data[second] = 0x58;
  fs.writeFileSync(file, data);
  expect(() => TileLog.open(dir, ORIGIN, signer)).toThrow(/the journal holds entries up to 300, but the staged checkpoint names 900/);
  expect(fs.readFileSync(file).equals(data)).toBe(true);
});

describe('one process opens a log at a time (log.lock)', () => {
  const bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

  test('a log another live process holds is refused, naming it; once that process is gone, or the lock is from another boot, it opens', async () => {
    const log = TileLog.open(dir, ORIGIN, signer);
    await log.append(entries(0, 10));
    await log.close();
    expect(fs.existsSync(path.join(dir, 'log.lock'))).toBe(false);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(dir, 'log.lock'), `${other.pid} ${bootId}\n`);
      expect(() => TileLog.open(dir, ORIGIN, signer)).toThrow(new RegExp(`is open in another process \\(pid ${other.pid}\\): a county log has one server`));
      // nothing was changed by the refused open
      expect(fs.readFileSync(path.join(dir, 'log.lock'), 'utf8')).toBe(`${other.pid} ${bootId}\n`);
      // the same live pid, written by a boot before this one: pids are handed out again after a restart
      fs.writeFileSync(path.join(dir, 'log.lock'), `${other.pid} 00000000-0000-0000-0000-000000000000\n`);
      const afterReboot = TileLog.open(dir, ORIGIN, signer);
      expect(afterReboot.size).toBe(10);
      expect(fs.readFileSync(path.join(dir, 'log.lock'), 'utf8')).toBe(`${process.pid} ${bootId}\n`);
      await afterReboot.close();
      fs.writeFileSync(path.join(dir, 'log.lock'), `${other.pid} ${bootId}\n`);
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.on('exit', r));
    }
    // its owner killed: the lock is stale and taken over
    expect(TileLog.open(dir, ORIGIN, signer).size).toBe(10);
  });

  test('a second process opening the same directory (a second county serve) is refused while the first has it open', async () => {
    const first = TileLog.open(dir, ORIGIN, signer);
    await first.append(entries(0, 5));
    const script = `require(${JSON.stringify(path.resolve('scripts/register-ts.js'))});
      const { TileLog } = require(${JSON.stringify(path.resolve('app/county/log/tile-log.ts'))});
      const { generateSigner, ALG_ED25519 } = require(${JSON.stringify(path.resolve('app/county/tlog/note.ts'))});
      try { TileLog.open(${JSON.stringify(dir)}, ${JSON.stringify(ORIGIN)}, generateSigner(${JSON.stringify(ORIGIN)}, ALG_ED25519, new Uint8Array(32).fill(5))); console.log('opened'); }
      catch (e) { console.log(e.message); }`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stdout).toMatch(new RegExp(`is open in another process \\(pid ${process.pid}\\)`));
    await first.close();
    const again = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(again.stdout.trim()).toBe('opened');
  });
});
