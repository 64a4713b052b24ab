import fs from 'node:fs';
import type { Result } from '../lib/result';
import { err, ok } from '../lib/result';

/**
 * Reads an input file whole, but only a regular file (a symbolic link is followed to one) of at most `maxBytes`.
 * A FIFO, a device such as /dev/zero, a directory or a socket is refused before a byte is read, so a stray name
 * cannot block the process or grow its memory without bound. Kind and size come from the open descriptor
 * (fstat), so a file swapped after a first look is judged as what is actually read.
 *
 * Each message says why without naming the file, for the caller to put after the file's name.
 */
export type BoundedReadError =
  | { readonly code: 'not-found'; readonly message: string }
  | { readonly code: 'not-a-file'; readonly message: string }
  | { readonly code: 'too-large'; readonly message: string }
  | { readonly code: 'empty'; readonly message: string }
  | { readonly code: 'unreadable'; readonly message: string };

export interface BoundedReadOptions {
  readonly maxBytes: number;
  /** what the file should be, with its article, for messages: "it is a directory, not a scan file" */
  readonly what: string;
  /** the limit in words, for messages: "more than the N bytes of …" (default "<what> may have") */
  readonly limitText?: string;
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

function openError(e: unknown): BoundedReadError {
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

export function readBoundedFile(file: string, opts: BoundedReadOptions): Result<Uint8Array, BoundedReadError> {
  const notAFile = (st: fs.Stats): BoundedReadError => ({ code: 'not-a-file', message: `it is ${describeKind(st)}${linkNote(file)}, not ${opts.what}` });
  // A look without opening first: opening some devices has effects of its own (a tape rewinds, a tty is taken).
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    return err(openError(e));
  }
  if (!st.isFile()) return err(notAFile(st));
  let fd: number;
  try {
    // O_NONBLOCK: should the name have become a FIFO since the look above, opening it does not wait for a writer.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    return err(openError(e));
  }
  try {
    const now = fs.fstatSync(fd);
    if (!now.isFile()) return err(notAFile(now));
    if (now.size === 0) return err({ code: 'empty', message: 'the file is empty' });
    if (now.size > opts.maxBytes) return err({ code: 'too-large', message: `it is ${now.size} bytes, more than the ${opts.maxBytes} bytes ${opts.limitText ?? `${opts.what} may have`}` });
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

/** The same for a UTF-8 text file (a JSON input): a leading byte-order mark is the caller's to drop. */
export function readBoundedText(file: string, opts: BoundedReadOptions): Result<string, BoundedReadError> {
  const r = readBoundedFile(file, opts);
  return r.ok ? ok(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length).toString('utf8')) : r;
}
