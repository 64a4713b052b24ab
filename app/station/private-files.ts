import fs from 'node:fs';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';

/**
 * The station's data directory holds ballots in casting order (PRIVACY.md): no other local user may read it.
 * The directory is 0700 and every file 0600 whatever umask the station was started with.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates the directory (and missing parents) and makes it 0700 even if it existed with a looser mode. */
export function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if ((fs.statSync(dir).mode & 0o777) !== PRIVATE_DIR_MODE) fs.chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Takes group and other permissions away from everything under `root` (directories 0700, files 0600): a data
 * directory written by an older version, or under a loose umask, is private again before the station writes to
 * it. Symbolic links are left alone and not followed. Returns what it changed, for the log.
 */
export function tightenTree(root: string): string[] {
  const changed: string[] = [];
  const visit = (p: string): void => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return; // removed meanwhile
    }
    if (st.isDirectory()) {
      if ((st.mode & 0o777) !== PRIVATE_DIR_MODE) {
        fs.chmodSync(p, PRIVATE_DIR_MODE);
        changed.push(p);
      }
      for (const name of fs.readdirSync(p)) visit(path.join(p, name));
    } else if (st.isFile() && (st.mode & 0o777) !== PRIVATE_FILE_MODE) {
      fs.chmodSync(p, PRIVATE_FILE_MODE);
      changed.push(p);
    }
  };
  visit(root);
  return changed;
}

/**
 * Files other modules create later in the session (tapes, export bundles, publication state, SQLite's -wal
 * and -shm) get 0600 too: the station process's umask takes group and other bits away from everything it
 * creates, as daemons holding private data do. Only ever tightens; a worker thread cannot set it (the
 * explicit modes and the 0700 directory still hold there).
 */
export function tightenUmask(): void {
  if (!isMainThread) return;
  const old = process.umask(0o077);
  process.umask(old | 0o077);
}

/** What the station does with its data directory before it reads or writes anything in it. */
export function makeDataDirPrivate(dataDir: string, log?: (m: string) => void): void {
  tightenUmask();
  makePrivateDir(dataDir);
  const changed = tightenTree(dataDir);
  if (changed.length > 0) log?.(`made ${changed.length} file(s) and folder(s) in ${dataDir} private (0600 / 0700)`);
}
