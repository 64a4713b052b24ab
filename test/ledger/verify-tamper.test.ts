import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Ledger } from '../../app/ledger/ledger';
import { entryHash } from '../../app/ledger/entries';
import { verifyLedgerFile as verifyFile } from '../../app/ledger/verify';
import { toHex } from '../../lib/bytes';
import { FRAME_CHUNK } from '../../app/ledger/entry-frames';
import { genesisFor, mulberry32, randomCapture, tempDir, testSigner } from './fixtures';

/** A closed ledger of 20 cast ballots in two batches (41 + 2 entries) and the head after batch 1. */
function build(file: string): { headAfterBatch1: { seq: number; hash: string }; imageOf4: Uint8Array } {
  const rand = mulberry32(42);
  const signer = testSigner();
  const l = Ledger.create(file, genesisFor('official', signer));
  let imageOf4 = new Uint8Array();
  for (let i = 0; i < 20; i++) {
    const c = randomCapture(rand);
    const p = l.appendPending(c);
    if (!p.ok) throw new Error('append');
    if (p.value.seq === 4) imageOf4 = c.imageSha256;
    if (!l.confirmCast(p.value.seq).ok) throw new Error('cast');
    if (i === 9) l.closeBatch(signer);
  }
  const h = l.headNow();
  l.closeBatch(signer);
  l.close();
  return { headAfterBatch1: { seq: h.seq, hash: toHex(h.hash) }, imageOf4 };
}

/** A second connection, as an attacker with the file would use; the append-only triggers go first. */
function tamper(file: string, fn: (db: Database.Database) => void): void {
  const db = new Database(file);
  db.exec('DROP TRIGGER entries_append_only_update; DROP TRIGGER entries_append_only_delete;');
  fn(db);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

// Every case runs on one thread and with the chain re-hashed on a second thread: same verdicts.
describe.each(['never', 'always'] as const)('ledger verify (parallel: %s) finds tampering and names the first bad entry', (parallel) => {
  const verifyLedgerFile = (f: string, opts: Parameters<typeof verifyFile>[1] = {}): ReturnType<typeof verifyFile> => verifyFile(f, { ...opts, parallel });
  let file: string;
  let built: ReturnType<typeof build>;
  beforeEach(() => {
    file = path.join(tempDir(), 'official.sqlite');
    built = build(file);
  });

  it('passes the untouched ledger', () => {
    const r = verifyLedgerFile(file, { expectedHeads: [{ ...built.headAfterBatch1, what: 'the batch 1 tape' }] });
    expect(r.problem).toBeUndefined();
    expect(r.summary?.entries).toBe(43);
  });

  it('the append-only triggers stop a plain UPDATE', () => {
    const db = new Database(file);
    expect(() => db.prepare('UPDATE entries SET kind = 4 WHERE seq = 3').run()).toThrow('append-only');
    db.close();
  });

  it('a changed payload', () => {
    tamper(file, (db) => {
      const row = db.prepare('SELECT payload FROM entries WHERE seq = 7').get() as { payload: Buffer };
      const p = Buffer.from(row.payload);
      p[p.length - 1] = (p[p.length - 1] as number) ^ 1;
      db.prepare('UPDATE entries SET payload = ? WHERE seq = 7').run(p);
    });
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: 7, kind: 'changed' });
  });

  it('entries that break the schema\'s own checks (the file edited around them) still get a verdict at that entry', () => {
    // the schema's CHECKs make a 31-byte hash or a kind of 300 impossible; with them edited out of the
    // schema, such rows make no frame for the bulk reader and are read one by one instead
    const db = new Database(file);
    db.unsafeMode(true); // lifts SQLite's defensive mode, which guards the schema table
    db.pragma('writable_schema = ON');
    db.prepare("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = 'entries'").run(
      'CREATE TABLE entries (seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, payload BLOB NOT NULL, prev_hash BLOB NOT NULL, entry_hash BLOB NOT NULL) STRICT',
    );
    db.pragma('writable_schema = OFF');
    db.close();
    const changedCopy = `${file}.hash.sqlite`;
    fs.copyFileSync(file, changedCopy);
    tamper(file, (t) => t.prepare('UPDATE entries SET kind = 300 WHERE seq = 9').run());
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: 9, kind: 'changed' });
    tamper(changedCopy, (t) => t.prepare('UPDATE entries SET entry_hash = substr(entry_hash, 1, 31) WHERE seq = 11').run());
    expect(verifyLedgerFile(changedCopy).problem).toMatchObject({ seq: 11, kind: 'changed' });
  });

  it('a deleted entry', () => {
    tamper(file, (db) => db.prepare('DELETE FROM entries WHERE seq = 12').run());
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: 12, kind: 'deleted' });
  });

  it('an inserted entry (later entries renumbered)', () => {
    tamper(file, (db) => {
      const rows = db.prepare('SELECT * FROM entries WHERE seq >= 9 ORDER BY seq DESC').all() as Array<{ seq: number }>;
      for (const r of rows) db.prepare('UPDATE entries SET seq = ? WHERE seq = ?').run(r.seq + 1, r.seq);
      const copy = db.prepare('SELECT kind, payload, prev_hash, entry_hash FROM entries WHERE seq = 4').get() as Record<string, Buffer | number>;
      db.prepare('INSERT INTO entries (seq, kind, payload, prev_hash, entry_hash) VALUES (9, ?, ?, ?, ?)').run(copy.kind, copy.payload, copy.prev_hash, copy.entry_hash);
    });
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: 9, kind: 'out-of-order' });
  });

  it('two entries swapped', () => {
    tamper(file, (db) => {
      db.prepare('UPDATE entries SET seq = 1000 WHERE seq = 14').run();
      db.prepare('UPDATE entries SET seq = 14 WHERE seq = 15').run();
      db.prepare('UPDATE entries SET seq = 15 WHERE seq = 1000').run();
    });
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: 14, kind: 'out-of-order' });
  });

  it('a changed entry with every later hash recomputed is caught by the signed checkpoint', () => {
    tamper(file, (db) => {
      const rows = db.prepare('SELECT seq, kind, payload, prev_hash FROM entries WHERE seq >= 4 ORDER BY seq').all() as Array<{ seq: number; kind: number; payload: Buffer; prev_hash: Buffer }>;
      let prev = rows[0]?.prev_hash as Buffer;
      for (const r of rows) {
        let payload = r.payload;
        if (r.seq === 4) {
          payload = Buffer.from(payload);
          payload[payload.length - 40] = (payload[payload.length - 40] as number) ^ 0x10; // inside the image digest: still a well-formed entry
        }
        const h = entryHash(r.kind, r.seq, prev, payload);
        db.prepare('UPDATE entries SET payload = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?').run(payload, prev, h, r.seq);
        prev = h;
      }
    });
    const p = verifyLedgerFile(file).problem;
    expect(p?.kind).toBe('rewritten');
    expect(p?.message).toContain('were rewritten');
  });

  it('a truncated ledger, against the head printed on the batch 1 tape', () => {
    tamper(file, (db) => db.prepare('DELETE FROM entries WHERE seq > 20').run());
    // the shortened chain is self-consistent: only the printed head shows the cut
    expect(verifyLedgerFile(file).ok).toBe(true);
    const r = verifyLedgerFile(file, { expectedHeads: [{ ...built.headAfterBatch1, what: 'the batch 1 tape' }] });
    expect(r.problem).toMatchObject({ seq: 21, kind: 'truncated' });
    expect(r.problem?.message).toContain('the batch 1 tape');
  });

  it('bytes changed in the file itself', () => {
    const raw = fs.readFileSync(file);
    // b-tree splits may leave stale copies in free pages: change every copy, the live one among them
    const needle = Buffer.from(built.imageOf4);
    let hits = 0;
    for (let at = raw.indexOf(needle); at >= 0; at = raw.indexOf(needle, at + 1)) {
      raw[at + 5] = (raw[at + 5] as number) ^ 0x01;
      hits += 1;
    }
    expect(hits).toBeGreaterThan(0);
    fs.writeFileSync(file, raw);
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: 4, kind: 'changed' });
  });

  it('a checkpoint signed by another key', () => {
    tamper(file, (db) => {
      const row = db.prepare('SELECT seq, payload FROM entries WHERE kind = 5 ORDER BY seq LIMIT 1').get() as { seq: number; payload: Buffer };
      const p = Buffer.from(row.payload);
      p[p.length - 1] = (p[p.length - 1] as number) ^ 1; // the signature's last byte
      const prev = (db.prepare('SELECT entry_hash FROM entries WHERE seq = ?').get(row.seq - 1) as { entry_hash: Buffer }).entry_hash;
      db.prepare('UPDATE entries SET payload = ?, entry_hash = ? WHERE seq = ?').run(p, entryHash(5, row.seq, prev, p), row.seq);
    });
    // the checkpoint's own entry hash was fixed up, so only its signature gives it away
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: 22, kind: 'bad-signature' });
  });
});

// verify reads entries in chunks of 4,000 (FRAME_CHUNK, on both threads): a problem on either side of a
// chunk boundary is still named at its own entry, one thread or two
describe('ledger verify across its read chunks', () => {
  let file: string;
  beforeAll(() => {
    file = path.join(tempDir(), 'official.sqlite');
    const rand = mulberry32(9);
    const l = Ledger.create(file, genesisFor('official'));
    l.transaction(() => {
      for (let i = 0; i < 2_050; i++) {
        const p = l.appendPending(randomCapture(rand));
        if (!p.ok || !l.confirmCast(p.value.seq).ok) throw new Error('append');
      }
    });
    l.close();
  });
  const copy = (): string => {
    const f = path.join(tempDir(), 'official.sqlite');
    fs.copyFileSync(file, f);
    return f;
  };

  it('passes untouched', () => {
    expect(FRAME_CHUNK).toBe(4_000);
    for (const parallel of ['never', 'always'] as const) {
      const r = verifyFile(file, { parallel });
      expect(r.ok).toBe(true);
      expect(r.summary?.entries).toBe(4_101);
    }
  });

  it.each([
    [4_000, 'changed', (db: Database.Database) => db.prepare("UPDATE entries SET payload = CAST(payload || x'00' AS BLOB) WHERE seq = 4000").run()],
    [4_001, 'deleted', (db: Database.Database) => db.prepare('DELETE FROM entries WHERE seq = 4001').run()],
    [4_001, 'changed', (db: Database.Database) => db.prepare("UPDATE entries SET payload = CAST(payload || x'00' AS BLOB) WHERE seq = 4001").run()],
    [4_000, 'out-of-order', (db: Database.Database) => db.exec('UPDATE entries SET seq = 9000 WHERE seq = 4000; UPDATE entries SET seq = 4000 WHERE seq = 4001; UPDATE entries SET seq = 4001 WHERE seq = 9000;')],
    [4_002, 'deleted', (db: Database.Database) => db.prepare('UPDATE entries SET seq = 5000 WHERE seq = 4002').run()],
  ] as const)('entry %i %s', (seq, kind, edit) => {
    const f = copy();
    tamper(f, edit);
    expect(verifyFile(f, { parallel: 'never' }).problem).toMatchObject({ seq, kind });
    expect(verifyFile(f, { parallel: 'always' }).problem).toMatchObject({ seq, kind });
  });
});
