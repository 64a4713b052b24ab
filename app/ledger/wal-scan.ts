import fs from 'node:fs';
import { processAlive } from '../../lib/process-alive';

/**
 * Reads a ledger's write-ahead log, and the wal-index (`-shm`) the killed writer left, before SQLite opens
 * them. SQLite reads a log only up to its first bad frame and silently drops the rest, so a log cut short
 * or damaged after a crash loses committed entries without a word; and the first connection to open the
 * database clears the `-shm`, which is the one record of how far the log had been committed. So the
 * station looks first.
 *
 * Formats: https://www.sqlite.org/fileformat2.html (the WAL file; the wal-index header).
 */
export interface WalScan {
  /** whole frames in the file */
  readonly frames: number;
  /** frames SQLite will read: the valid prefix up to its last commit frame */
  readonly committedFrames: number;
  /** what the `-shm` says was committed (its mxFrame), when it belongs to this log */
  readonly indexSaysCommitted?: number;
  /** what is wrong, in words; empty when the log is whole */
  readonly problems: readonly string[];
}

const HEADER = 32;
const FRAME_HEADER = 24;

function checksum(b: Buffer, start: number, end: number, bigEndian: boolean, s: [number, number]): [number, number] {
  let s0 = s[0];
  let s1 = s[1];
  for (let i = start; i < end; i += 8) {
    const x0 = bigEndian ? b.readUInt32BE(i) : b.readUInt32LE(i);
    const x1 = bigEndian ? b.readUInt32BE(i + 4) : b.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

/** The wal-index header's mxFrame and salts, if the `-shm` holds a whole, initialised header. */
function readIndexHeader(shmFile: string): { mxFrame: number; salt1: number; salt2: number } | undefined {
  let b: Buffer;
  try {
    const fd = fs.openSync(shmFile, 'r');
    try {
      b = Buffer.alloc(96);
      if (fs.readSync(fd, b, 0, 96, 0) < 96) return undefined;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  // two copies of the 48-byte header; SQLite trusts them only when they agree and isInit is set
  if (!b.subarray(0, 48).equals(b.subarray(48, 96)) || b[12] !== 1) return undefined;
  // mxFrame is in the machine's own byte order; the salts are the log header's bytes, copied as they are
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  return { mxFrame: le ? b.readUInt32LE(16) : b.readUInt32BE(16), salt1: b.readUInt32BE(32), salt2: b.readUInt32BE(36) };
}

export function scanWal(walFile: string, shmFile: string): WalScan {
  // the index first: a log read after it holds at least what it says was committed
  const index = readIndexHeader(shmFile);
  const b = fs.readFileSync(walFile);
  const problems: string[] = [];
  // a log with no readable header: its index (if it says anything was committed) is the only witness
  const headerless = (what: string | undefined): WalScan => {
    const said = index?.mxFrame ?? 0;
    const p = [...(what === undefined ? [] : [what]), ...(said > 0 ? [`the write-ahead log's index says ${said} frame(s) were committed, but the log has none that can be read`] : [])];
    return { frames: 0, committedFrames: 0, ...(said > 0 ? { indexSaysCommitted: said } : {}), problems: p };
  };
  if (b.length === 0) return headerless(undefined);
  if (b.length < HEADER) return headerless(`the write-ahead log is ${b.length} bytes, shorter than its ${HEADER}-byte header`);
  const magic = b.readUInt32BE(0);
  const pageSize = b.readUInt32BE(8);
  const frameSize = FRAME_HEADER + pageSize;
  const headerSum = checksum(b, 0, 24, (magic & 1) === 1, [0, 0]);
  const headerOk = (magic === 0x377f0682 || magic === 0x377f0683) && pageSize >= 512 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0 && headerSum[0] === b.readUInt32BE(24) && headerSum[1] === b.readUInt32BE(28);
  if (!headerOk) return headerless(`the write-ahead log header is damaged: the ${b.length - HEADER} bytes after it cannot be read`);
  const bigEndian = (magic & 1) === 1;
  const salt1 = b.readUInt32BE(16);
  const salt2 = b.readUInt32BE(20);
  const frames = Math.floor((b.length - HEADER) / frameSize);
  let sum: [number, number] = headerSum;
  let validTo = 0;
  let committed = 0;
  for (let i = 0; i < frames; i++) {
    const at = HEADER + i * frameSize;
    if (b.readUInt32BE(at + 8) !== salt1 || b.readUInt32BE(at + 12) !== salt2) break;
    const next = checksum(b, at + FRAME_HEADER, at + frameSize, bigEndian, checksum(b, at, at + 8, bigEndian, sum));
    if (next[0] !== b.readUInt32BE(at + 16) || next[1] !== b.readUInt32BE(at + 20)) break;
    sum = next;
    validTo = i + 1;
    if (b.readUInt32BE(at + 4) !== 0) committed = i + 1;
  }
  // frames of this log after the first bad one: a commit among them was acknowledged and is now lost. The bad
  // frame itself is not counted: SQLite writes a frame's 24-byte header before its page, so a writer killed
  // between the two leaves a commit frame whose page is still the old bytes of a reused log, and that
  // transaction was never synced nor acknowledged (a commit lost with it shows in the index's count, below)
  let lostCommits = 0;
  for (let i = validTo + 1; i < frames; i++) {
    const at = HEADER + i * frameSize;
    if (b.readUInt32BE(at + 8) === salt1 && b.readUInt32BE(at + 12) === salt2 && b.readUInt32BE(at + 4) !== 0) lostCommits += 1;
  }
  if (validTo < frames && lostCommits > 0) {
    problems.push(`frame ${validTo + 1} of the write-ahead log is damaged: ${lostCommits} committed transaction(s) after it cannot be read`);
  }
  const ours = index !== undefined && index.salt1 === salt1 && index.salt2 === salt2;
  if (ours && index.mxFrame > committed) {
    problems.push(
      `the write-ahead log's index says ${index.mxFrame} frame(s) were committed, but only ${committed} can be read${frames < index.mxFrame ? ` (the log holds ${frames} whole frame(s): it was cut short)` : ' (a frame before them is damaged)'}`,
    );
  }
  return { frames, committedFrames: committed, ...(ours ? { indexSaysCommitted: index.mxFrame } : {}), problems };
}

export type CrashScan =
  | { readonly kind: 'clean' }
  | { readonly kind: 'writer-running'; readonly pid: number }
  | { readonly kind: 'scanned'; readonly scan: WalScan };

/**
 * After a writer stopped without closing (its `<file>.open` marker is left and its process is gone), scans
 * the log it left. `clean`: it closed properly, or there is no log to look at (openDb reports a missing
 * one). `writer-running`: the marker's process is still there, so the log is live and not looked at.
 */
export function scanAfterCrash(file: string): CrashScan {
  const marker = `${file}.open`;
  const wal = `${file}-wal`;
  if (!fs.existsSync(marker) || !fs.existsSync(wal)) return { kind: 'clean' };
  const pid = Number(fs.readFileSync(marker, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) return { kind: 'writer-running', pid };
  return { kind: 'scanned', scan: scanWal(wal, `${file}-shm`) };
}
