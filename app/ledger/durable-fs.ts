import fs from 'node:fs';
import path from 'node:path';

/** Writes a file and flushes it and its directory entry to disk before returning. */
export function writeFileDurably(file: string, data: string | Uint8Array, opts: { exclusive?: boolean; mode?: number } = {}): void {
  const fd = fs.openSync(file, opts.exclusive ? 'wx' : 'w', opts.mode ?? 0o644);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
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

/** Appends one line and flushes it (an append-only log of small records). */
export function appendLineDurably(file: string, line: string): void {
  const existed = fs.existsSync(file);
  const fd = fs.openSync(file, 'a', 0o644);
  try {
    fs.writeSync(fd, `${line}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (!existed) fsyncDir(path.dirname(file));
}
