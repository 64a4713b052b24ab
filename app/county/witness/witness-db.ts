import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LatestCheckpoint, WitnessState } from './add-checkpoint';

/**
 * The witness's memory: the latest checkpoint it cosigned per log, and every signed checkpoint it refused.
 * SQLite with synchronous=FULL, so a cosignature is never returned for a state that a power cut could undo
 * (the spec: persist before responding); BEGIN IMMEDIATE makes compare-and-set atomic across processes.
 */
export class WitnessDb implements WitnessState {
  private readonly db: Database.Database;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS latest (origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS refused (id INTEGER PRIMARY KEY, origin TEXT NOT NULL, reason TEXT NOT NULL, body TEXT NOT NULL, at TEXT NOT NULL);
    `);
  }

  latest(origin: string): LatestCheckpoint | undefined {
    const row = this.db.prepare('SELECT size, root FROM latest WHERE origin = ?').get(origin) as { size: number; root: Buffer } | undefined;
    return row === undefined ? undefined : { size: row.size, root: new Uint8Array(row.root) };
  }

  compareAndSet(origin: string, expectedOldSize: number, next: LatestCheckpoint, note: string): { ok: true } | { ok: false; size: number } {
    const run = this.db.transaction((): { ok: true } | { ok: false; size: number } => {
      const size = this.latest(origin)?.size ?? 0;
      if (size !== expectedOldSize) return { ok: false, size };
      this.db
        .prepare('INSERT INTO latest (origin, size, root, note) VALUES (?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note')
        .run(origin, next.size, Buffer.from(next.root), note);
      return { ok: true };
    });
    return run.immediate();
  }

  recordRefusal(origin: string, reason: string, body: string): void {
    this.db.prepare('INSERT INTO refused (origin, reason, body, at) VALUES (?, ?, ?, ?)').run(origin, reason, body, new Date().toISOString());
  }

  refusals(origin: string): { reason: string; body: string }[] {
    return this.db.prepare('SELECT reason, body FROM refused WHERE origin = ? ORDER BY id').all(origin) as { reason: string; body: string }[];
  }

  close(): void {
    this.db.close();
  }
}
