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
