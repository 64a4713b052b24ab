import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface WriteOptions {
  /** fail if the file exists */
  readonly exclusive?: boolean;
  /**
   * mode of a new file (default 0644, less the umask: an export bundle is public; the station's own files pass
   * 0600 and the station runs with umask 0077, see app/station/PRIVACY.md)
   */
  readonly mode?: number;
}

/** Writes a file and flushes its bytes to disk; its directory entry is the caller's (one fsync per directory, or a rename after). */
export function writeFileSynced(file: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const fd = fs.openSync(file, opts.exclusive ? 'wx' : 'w', opts.mode ?? 0o644);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes a file and flushes it and its directory entry to disk before returning. */
export function writeFileDurably(file: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  writeFileSynced(file, data, opts);
  fsyncDir(path.dirname(file));
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Appends one line and flushes it (an append-only log of small records: the station's, so 0600). */
export function appendLineDurably(file: string, line: string): void {
  const existed = fs.existsSync(file);
  const fd = fs.openSync(file, 'a', 0o600);
  try {
    fs.writeSync(fd, `${line}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (!existed) fsyncDir(path.dirname(file));
}

export interface ReplaceOptions extends Pick<WriteOptions, 'mode'> {
  /**
   * flush the directory entry too (default). A caller that replaces hundreds of files in one directory
   * tree passes false and flushes each directory once itself (the county log's tiles).
   */
  readonly syncDir?: boolean;
}

/**
 * Replaces a file whole: writes a temporary sibling, flushes it, renames it over the file and flushes the
 * directory, so a crash or power cut leaves the old file or the new one, never half of one and never neither.
 * The temporary file is removed if anything fails; the error is the caller's to word.
 */
export function replaceFileAtomically(file: string, data: string | Uint8Array, opts: ReplaceOptions = {}): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSynced(tmp, data, opts.mode === undefined ? {} : { mode: opts.mode });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  if (opts.syncDir !== false) fsyncDir(path.dirname(file));
}

/** A hidden, unique path beside `target`: on the same file system, so a rename into place is atomic. */
export function siblingPath(target: string, kind: 'tmp' | 'old'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${kind}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
}

/**
 * Creates directory `dir` (it must not exist) holding `files` (paths relative to it), each file flushed, then
 * every directory flushed deepest first, so once this returns a rename of `dir` publishes all of it. The
 * caller renames it into place and removes it if anything fails.
 */
export function writeTreeSynced(dir: string, files: Iterable<readonly [string, Uint8Array]>): void {
  fs.mkdirSync(dir);
  const dirs = new Set<string>([dir]);
  for (const [rel, data] of files) {
    const target = path.join(dir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    dirs.add(path.dirname(target));
    writeFileSynced(target, data, { exclusive: true });
  }
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) fsyncDir(d);
}
