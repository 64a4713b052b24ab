import fs from 'node:fs';
import type { Result } from '../result';
import { err, ok } from '../result';
import { MAX_SCAN_BYTES } from './limits';

/**
 * Reads one scan file from disk for the reader, never more than the reader could use: only a regular file
 * (a symbolic link is followed to one), and only if its size is within MAX_SCAN_BYTES. A FIFO, a device such
 * as /dev/zero, a directory or a socket is refused before a byte is read, so a stray name cannot block the
 * process or grow its memory without bound. The kind and size are taken from the open descriptor (fstat), so a
 * file swapped after a first look is judged as what is actually read.
 */
export type ScanFileError =
  | { readonly code: 'not-found'; readonly message: string }
  | { readonly code: 'not-a-file'; readonly message: string }
  | { readonly code: 'too-large'; readonly message: string }
  | { readonly code: 'empty'; readonly message: string }
  | { readonly code: 'unreadable'; readonly message: string };
// Each message says why without naming the file, for the caller to put after the file's name.

export interface ReadScanOptions {
  /** A lower cap than the reader's own (a driver's setting); never raises it above MAX_SCAN_BYTES. */
  readonly maxBytes?: number;
}

/** What a stat says the thing is, in words a poll worker or an operator reads. */
export function describeKind(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function linkNote(file: string): string {
  try {
    if (!fs.lstatSync(file).isSymbolicLink()) return '';
    return ` (a symbolic link to ${fs.realpathSync(file)})`;
  } catch {
    return ' (a symbolic link)';
  }
}

function openError(e: unknown): ScanFileError {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return { code: 'not-found', message: 'no such file' };
    case 'EACCES':
    case 'EPERM':
      return { code: 'unreadable', message: 'permission denied' };
    case 'ELOOP':
      return { code: 'unreadable', message: 'too many levels of symbolic links' };
    default:
      return { code: 'unreadable', message: (e as Error).message };
  }
}

export function readScanFile(file: string, opts: ReadScanOptions = {}): Result<Uint8Array, ScanFileError> {
  const limit = Math.min(opts.maxBytes ?? MAX_SCAN_BYTES, MAX_SCAN_BYTES);
  // A look without opening first: opening some devices has effects of its own (a tape rewinds, a tty is taken).
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    return err(openError(e));
  }
  if (!st.isFile()) return err({ code: 'not-a-file', message: `it is ${describeKind(st)}${linkNote(file)}, not a scan file` });
  let fd: number;
  try {
    // O_NONBLOCK: should the name have become a FIFO since the look above, opening it does not wait for a writer.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    return err(openError(e));
  }
  try {
    const now = fs.fstatSync(fd);
    if (!now.isFile()) return err({ code: 'not-a-file', message: `it is ${describeKind(now)}${linkNote(file)}, not a scan file` });
    if (now.size === 0) return err({ code: 'empty', message: 'the file is empty' });
    if (now.size > limit) return err({ code: 'too-large', message: `it is ${now.size} bytes, more than the ${limit} bytes of the largest scan this reader accepts` });
    // One byte more than the size: a file still growing is refused rather than read past what was checked.
    const buf = Buffer.allocUnsafe(now.size + 1);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got > now.size) return err({ code: 'unreadable', message: 'it grew while it was read: it is still being written' });
    if (got === 0) return err({ code: 'empty', message: 'the file is empty' });
    return ok(new Uint8Array(buf.buffer, buf.byteOffset, got));
  } catch (e) {
    return err({ code: 'unreadable', message: (e as Error).message });
  } finally {
    fs.closeSync(fd);
  }
}
