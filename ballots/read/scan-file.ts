import type { BoundedReadError } from '../bounded-file';
import { readBoundedFile } from '../bounded-file';
import type { Result } from '../../lib/result';
import { MAX_SCAN_BYTES } from './limits';

export { describeKind } from '../bounded-file';

/**
 * Reads one scan file from disk for the reader, never more than the reader could use: only a regular file
 * (a symbolic link is followed to one), and only if its size is within MAX_SCAN_BYTES (limits.ts). A FIFO, a
 * device such as /dev/zero, a directory or a socket is refused before a byte is read (bounded-file.ts).
 */
export type ScanFileError = BoundedReadError;

export interface ReadScanOptions {
  /** A lower cap than the reader's own (a driver's setting); never raises it above MAX_SCAN_BYTES. */
  readonly maxBytes?: number;
}

export function readScanFile(file: string, opts: ReadScanOptions = {}): Result<Uint8Array, ScanFileError> {
  const maxBytes = Math.min(opts.maxBytes ?? MAX_SCAN_BYTES, MAX_SCAN_BYTES);
  return readBoundedFile(file, { maxBytes, what: 'a scan file', limitText: 'of the largest scan this reader accepts' });
}
