import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LedgerError } from './errors';
import { fsyncDir } from '../../lib/durable-fs';

export const SCHEMA_VERSION = 1;
export type Db = Database.Database;

/** The schema file sits beside this module both in app/ledger and, copied by the build, in dist/app/ledger. */
export function schemaSql(): string {
  return fs.readFileSync(path.join(__dirname, 'schema.sql'), 'utf8');
}

/** `<file>.open` exists while a writer has the ledger open; it tells a clean close from a crash. */
export function sessionMarker(file: string): string {
  return `${file}.open`;
}

export function walFile(file: string): string {
  return `${file}-wal`;
}

interface SqliteLikeError {
  code?: string;
  message?: string;
}

/** Turns SQLite's and the file system's failures into errors that name the file and say what to do. */
export function storageError(e: unknown, file: string): unknown {
  if (e instanceof LedgerError) return e;
  const err = e as SqliteLikeError;
  const code = typeof err?.code === 'string' ? err.code : '';
  const msg = typeof err?.message === 'string' ? err.message : String(e);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code.startsWith('SQLITE_IOERR') && /space|full/i.test(msg)) {
    return new LedgerError('disk-full', file, `the disk is full (${code}): the last change was NOT recorded; everything committed before it is kept. Free space, then retry.`);
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new LedgerError('read-only', file, `the ledger file cannot be written (${code}): check its permissions and the mount; nothing was recorded.`);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new LedgerError('corrupt', file, `the ledger file is damaged (${code}: ${msg}); the station will not write to it. Keep the file and its -wal for recovery and use the backup ledger.`);
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'ENOENT') {
    return new LedgerError('not-found', file, `cannot open the ledger file (${code}: ${msg})`);
  }
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_LOCKED')) {
    return new LedgerError('locked', file, `the ledger is locked by another process (${code})`);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new LedgerError('io', file, `a disk error (${code}: ${msg}); the last change was NOT recorded`);
  }
  return e;
}

export function withStorage<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw storageError(e, file);
  }
}

function checkMissingWal(file: string): void {
  if (fs.existsSync(sessionMarker(file)) && !fs.existsSync(walFile(file))) {
    throw new LedgerError(
      'missing-wal',
      walFile(file),
      'the ledger was not closed cleanly and its write-ahead log is missing: ballots committed since the last checkpoint are in that file. Put it back (from where it went, or the backup) before using the ledger; nothing has been changed.',
    );
  }
}

function checkWritable(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch (e) {
    throw storageError(e, file);
  }
  fs.closeSync(fd);
}

export interface OpenDbOptions {
  readonly create?: boolean;
  readonly readonly?: boolean;
  /**
   * Caps the file at this many pages. The station may use it to keep headroom on a shared disk; tests use
   * it to make a full disk without filling a real one.
   */
  readonly maxPageCount?: number;
}

/** Opens (or creates) a ledger database with the durability settings the invariants rely on. */
export function openDb(file: string, opts: OpenDbOptions = {}): Db {
  const exists = fs.existsSync(file);
  if (!exists && !opts.create) throw new LedgerError('not-found', file, 'no ledger here (check --data)');
  if (exists && opts.create) throw new LedgerError('exists', file, 'a ledger already exists here; refusing to overwrite it');
  if (exists) {
    checkMissingWal(file);
    if (!opts.readonly) checkWritable(file);
  } else {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }
  let db: Db | undefined;
  try {
    // made 0600 before SQLite opens it: SQLite gives the -wal, -shm and journal files the database file's mode
    if (!exists) fs.closeSync(fs.openSync(file, 'wx', 0o600));
    db = new Database(file, { readonly: opts.readonly === true, fileMustExist: !opts.create });
    db.pragma('busy_timeout = 5000');
    if (!opts.readonly) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new LedgerError('io', file, `cannot switch the ledger to WAL journaling (got ${String(mode)})`);
    }
    db.pragma('synchronous = FULL');
    if (opts.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(opts.maxPageCount)}`);
    if (opts.create) {
      db.exec(`BEGIN; ${schemaSql()}; COMMIT;`);
      fsyncDir(path.dirname(file));
    }
    const version = db.pragma('user_version', { simple: true });
    if (version !== SCHEMA_VERSION) {
      throw new LedgerError('schema', file, `ledger schema version ${String(version)} is not the version ${SCHEMA_VERSION} this software reads`);
    }
    if (!opts.readonly) {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new LedgerError('corrupt', file, `the ledger file is damaged (quick_check: ${String(check)}); the station will not write to it`);
    }
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // already failing; the first error is the one to report
    }
    throw storageError(e, file);
  }
}
