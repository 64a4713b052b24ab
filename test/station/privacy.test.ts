import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { decodeEvent } from '../../app/ledger/entries';
import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import { Ledger } from '../../app/ledger/ledger';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { contestMap } from '../../app/station/election-package';
import { SheetJournal } from '../../app/station/sheet-journal';
import { example, tempDir } from '../support/ballots';
import type { Rig } from './support/rig';
import { PINS, startRig, waitForStatus, writeSheets } from './support/rig';

jest.setTimeout(240_000);

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** Every directory and file under root with its permission bits (symbolic links are not followed). */
function modes(root: string): { path: string; dir: boolean; mode: number }[] {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  const visit = (p: string): void => {
    const st = fs.lstatSync(p);
    out.push({ path: path.relative(root, p) || '.', dir: st.isDirectory(), mode: st.mode & 0o777 });
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) visit(path.join(p, n));
  };
  visit(root);
  return out;
}

const loose = (root: string) => modes(root).filter((m) => m.mode !== (m.dir ? 0o700 : 0o600));

function auditEvents(file: string): AuditEvent[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT payload FROM entries WHERE kind = 4 ORDER BY seq').all() as { payload: Buffer }[]).map((r) => decodeEvent(new Uint8Array(r.payload)));
  } finally {
    db.close();
  }
}

/** With umask 0, as a station started from a careless shell or unit file would have it. */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const old = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(old);
  }
}

describe("the station's disk", () => {
  it('under umask 0: the data directory is 0700 and every file in it 0600, SQLite -wal and -shm included, through a whole day', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'wrong-precinct' }, { kind: 'normal', n: 1 }]);
    const dataDir = path.join(tempDir('privacy'), 'data');
    await withUmask(0, async () => {
      const r = await startRig({ deck: dir, dataDir, paper: 'letter' });
      rig = r;
      const s = r.station;
      await s.login({ role: 'captain', pin: PINS.captain });
      expect((await s.command({ command: 'print-zero-tape' })).ok).toBe(true);
      expect((await s.command({ command: 'open-polls', confirm: true })).ok).toBe(true);
      await waitForStatus(s, (x) => x.counts.public === 2 && x.counts.rejected === 1);
      const ledger = dataLayout(dataDir).ledger('official');
      // while the ledger is open: its companions exist, and are as private as the ledger
      expect(fs.existsSync(`${ledger}-wal`) && fs.existsSync(`${ledger}-shm`)).toBe(true);
      expect(loose(dataDir)).toEqual([]);
      expect((await s.command({ command: 'close-polls', confirm: true })).ok).toBe(true);
      expect((await s.command({ command: 'print-results-tape' })).ok).toBe(true);
      expect((await s.command({ command: 'export-bundle' })).ok).toBe(true);
      await s.logout();
      const all = modes(dataDir);
      for (const want of ['.', 'ledger', 'ledger/official.sqlite', 'ledger/official.sqlite-wal', 'ledger/official.sqlite-shm', 'ledger/official.sqlite.open', 'ledger/official.heads.jsonl', 'station/state.json', 'keys/station.json', 'election', 'tapes']) {
        expect(all.map((m) => m.path)).toContain(want);
      }
      expect(all.some((m) => m.path.startsWith('export/'))).toBe(true);
      expect(loose(dataDir)).toEqual([]);
    });
  });

  it('a data directory left readable (an older version, a loose umask) is made private when the station starts', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }]);
    const dataDir = tempDir('privacy-old');
    rig = await startRig({ deck: dir, dataDir });
    await rig.stop();
    rig = undefined;
    for (const m of modes(dataDir)) fs.chmodSync(path.join(dataDir, m.path), m.dir ? 0o755 : 0o644);
    expect(loose(dataDir).length).toBeGreaterThan(5);
    rig = await startRig({ deck: dir, dataDir });
    expect(loose(dataDir)).toEqual([]);
  });

  it('sheets.jsonl keeps no sheet-to-ballot line once a ballot is settled, and forgets an old one at start', async () => {
    const { dir, truth } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }, { kind: 'overvote', n: 0 }]);
    const dataDir = tempDir('privacy-sheets');
    const journal = path.join(dataDir, 'station', 'sheets.jsonl');
    // what an older version left: every sheet of an earlier session against its ballot, in casting order
    fs.mkdirSync(path.dirname(journal), { recursive: true });
    fs.writeFileSync(journal, ['SIM-000001', 'SIM-000002'].map((sheet, i) => `${JSON.stringify({ sheet, ballot: `OLDBALLOT00${i}`, mode: 'official' })}\n`).join(''));
    rig = await startRig({ deck: dir, dataDir });
    expect(fs.statSync(journal).size).toBe(0);
    await rig.station.login({ role: 'captain', pin: PINS.captain });
    await rig.station.command({ command: 'print-zero-tape' });
    expect((await rig.station.command({ command: 'open-polls', confirm: true })).ok).toBe(true);
    // two counted, the overvoted one returned to the voter
    await waitForStatus(rig.station, (x) => x.counts.public === 2 && x.sheet?.outcome === 'awaiting-voter');
    expect(rig.station.status().counts.public).toBe(2);
    const text = fs.readFileSync(journal, 'utf8');
    expect(text).toBe('');
    for (const t of truth) expect(text).not.toContain(t.serial);
    expect(verifyLedgerFile(dataLayout(dataDir).ledger('official')).summary?.cast).toBe(2);
  });

  it('sheets.jsonl holds the line of a ballot recorded pending until its drop is settled (what a power cut needs)', async () => {
    const { dir } = await writeSheets([{ kind: 'overvote' }, { kind: 'normal' }]);
    rig = await startRig({ deck: dir });
    const journal = path.join(rig.dataDir, 'station', 'sheets.jsonl');
    await rig.station.login({ role: 'captain', pin: PINS.captain });
    await rig.station.command({ command: 'print-zero-tape' });
    expect((await rig.station.command({ command: 'open-polls', confirm: true })).ok).toBe(true);
    await rig.station.logout();
    const held = await waitForStatus(rig.station, (x) => x.sheet?.outcome === 'awaiting-voter');
    const sheetId = held.sheet?.sheetId ?? '';
    rig.link.unplug();
    await waitForStatus(rig.station, (x) => x.scanner.alarms.includes('disconnected'));
    expect((await rig.station.voterDecision({ sheetId, decision: 'cast-as-is' })).ok).toBe(true);
    // recorded pending, the drop waits for the scanner: the line that names its sheet is on disk
    const lines = fs.readFileSync(journal, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ sheet: sheetId, mode: 'official' });
    rig.link.plug();
    await waitForStatus(rig.station, (x) => x.counts.public === 2);
    expect(fs.readFileSync(journal, 'utf8')).toBe('');
  });

  it('the journal file drops what is settled and blanks the bytes it held (seen through a hard link to the old file)', () => {
    const dir = tempDir('privacy-journal');
    const file = path.join(dir, 'sheets.jsonl');
    const j = new SheetJournal(file);
    j.record({ sheet: 's1', ballot: 'AAAAAAAAAAAA', mode: 'official' });
    j.record({ sheet: 's2', ballot: 'BBBBBBBBBBBB', mode: 'official' });
    j.record({ sheet: 's3', ballot: 'CCCCCCCCCCCC', mode: 'test' });
    const before = path.join(dir, 'before');
    fs.linkSync(file, before);
    const oldSize = fs.statSync(before).size;
    j.keepOnly((l) => l.sheet === 's2');
    expect(fs.readFileSync(file, 'utf8')).toBe('{"sheet":"s2","ballot":"BBBBBBBBBBBB","mode":"official"}\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // the old file's blocks: blank, not the ballots of the settled sheets
    expect(fs.readFileSync(before, 'utf8')).toBe(' '.repeat(oldSize));
    expect(new SheetJournal(file).all()).toEqual([{ sheet: 's2', ballot: 'BBBBBBBBBBBB', mode: 'official' }]);
    const again = path.join(dir, 'again');
    fs.linkSync(file, again);
    j.keepOnly(() => false);
    expect(fs.readFileSync(again, 'utf8')).toBe('');
    expect(new SheetJournal(file).all()).toEqual([]);
    // a blanked file (a crash after blanking, before the cut) reads as no lines
    fs.writeFileSync(file, ' '.repeat(120));
    expect(new SheetJournal(file).all()).toEqual([]);
  });

  it('while the polls are open, audit events are timed to the hour (and say so); opening and closing keep the second', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'wrong-precinct' }, { kind: 'normal', n: 1 }]);
    const now = new Date('2026-11-03T10:37:42.250Z');
    rig = await startRig({ deck: dir, now: () => now });
    const s = rig.station;
    await s.login({ role: 'captain', pin: PINS.captain });
    await s.command({ command: 'print-zero-tape' });
    expect((await s.command({ command: 'open-polls', confirm: true })).ok).toBe(true);
    await waitForStatus(s, (x) => x.counts.public === 2 && x.counts.rejected === 1);
    await s.logout();
    await s.login({ role: 'captain', pin: PINS.captain });
    expect((await s.command({ command: 'close-polls', confirm: true })).ok).toBe(true);
    await s.logout();
    const events = auditEvents(dataLayout(rig.dataDir).ledger('official'));
    const view = events.map((e) => [e.type, e.at, e.detail.atPrecision ?? null]);
    const opened = view.findIndex((v) => v[0] === 'polls-opened');
    const closed = view.findIndex((v) => v[0] === 'polls-closed');
    expect(view[opened]).toEqual(['polls-opened', '2026-11-03T10:37:42Z', null]);
    expect(view[closed]).toEqual(['polls-closed', '2026-11-03T10:37:42Z', null]);
    const during = view.slice(opened + 1, closed);
    expect(during.map((v) => v[0])).toEqual(expect.arrayContaining(['ballot-rejected', 'logout', 'login']));
    for (const v of during) expect(v.slice(1)).toEqual(['2026-11-03T10:00:00Z', 'hour']);
    // before and after voting: the second
    for (const v of [...view.slice(0, opened), ...view.slice(closed + 1)]) expect(v.slice(1)).toEqual(['2026-11-03T10:37:42Z', null]);
    expect(view.slice(closed + 1).map((v) => v[0])).toContain('logout');
  });

  it('a new ledger file is 0600 before SQLite opens it, so its -wal and -shm are too, under umask 0', async () => {
    const file = path.join(tempDir('privacy-ledger'), 'ledger', 'official.sqlite');
    const election = example('municipal');
    await withUmask(0, async () => {
      const ledger = Ledger.create(file, {
        format: 'tallyproof-ledger/1',
        mode: 'official',
        election: { hash: election.hash, title: election.definition.election.title, contests: contestMap(election) },
        station: { id: 'st-1', number: 1, publicKey: '11'.repeat(32) },
      });
      try {
        ledger.recordEvent({ type: 'software-started', role: 'system' });
        for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}.open`]) expect([f, fs.statSync(f).mode & 0o777]).toEqual([f, 0o600]);
      } finally {
        ledger.close();
      }
    });
  });
});
