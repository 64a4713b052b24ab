import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from '../../../lib/durable-fs';
import { TlogError } from '../tlog/stored-hashes';
import { flushDir, splitBundle } from './tile-store';

/**
 * The county log's write-ahead journal: each batch's entries, appended to one file and flushed once, before
 * the batch's checkpoint is renamed into place. The tiles are then written without a flush of their own: C2SP
 * gives a log two new files per 256 entries, and flushing each one cost the append more than hashing its
 * entries. Whatever tiles a crash loses after the last "tiles synced" mark are rebuilt from the journal when
 * the log opens (tile-log.ts), and the mark moves on once the whole file system is flushed (`sync -f`), which
 * lets the journal's older files go.
 *
 * A record: "TLJ1", the first entry's index (8 bytes), the entry count (4), the payload's length (4), then the
 * payload: each entry as an entry bundle holds it (a 2-byte length, the bytes), so the batch's bundle buffers
 * are written as they are. No checksum: a record beyond the staged checkpoint is dropped whatever it holds, and
 * one before it is replayed into tiles whose root must be the root the staged checkpoint signed.
 */

const MAGIC = Buffer.from('TLJ1', 'latin1');
const HEADER_BYTES = 20;
export const JOURNAL_DIR = 'journal';
const SEGMENT = /^(\d{16})\.jnl$/;

export interface JournalRecord {
  readonly first: number;
  readonly entries: Uint8Array[];
  /** the record's length in its file, header included */
  readonly bytes: number;
}

interface Segment {
  readonly name: string;
  readonly file: string;
  /** open while records may still be written to it or cut back */
  fd: number | undefined;
  /** the index after its last record (its first record's index when empty) */
  end: number;
  bytes: number;
}

const segmentName = (first: number): string => `${String(first).padStart(16, '0')}.jnl`;

function header(first: number, count: number, payloadBytes: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeUInt32BE(Math.floor(first / 2 ** 32), 4);
  h.writeUInt32BE(first % 2 ** 32, 8);
  h.writeUInt32BE(count, 12);
  h.writeUInt32BE(payloadBytes, 16);
  return h;
}

/** The records of one segment file, up to the first that is cut short or not a record; `goodBytes` is where that one starts. */
export function readSegment(data: Uint8Array): { records: JournalRecord[]; goodBytes: number } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const records: JournalRecord[] = [];
  let at = 0;
  for (;;) {
    if (at + HEADER_BYTES > buf.length || !buf.subarray(at, at + 4).equals(MAGIC)) break;
    const first = buf.readUInt32BE(at + 4) * 2 ** 32 + buf.readUInt32BE(at + 8);
    const count = buf.readUInt32BE(at + 12);
    const payload = buf.readUInt32BE(at + 16);
    const end = at + HEADER_BYTES + payload;
    if (end > buf.length) break;
    let entries: Uint8Array[];
    try {
      // the payload is an entry bundle's encoding, of exactly `count` entries
      entries = splitBundle(buf.subarray(at + HEADER_BYTES, end), count);
    } catch {
      break;
    }
    records.push({ first, entries, bytes: end - at });
    at = end;
  }
  return { records, goodBytes: at };
}

export class EntryJournal {
  private readonly dir: string;
  private segments: Segment[];
  /** the current segment's file was just made: its directory entry is flushed with its first record */
  private fresh = false;
  private rotate = false;
  /** where the last committed record ends, for a reset after a failed batch */
  private committed: { segment: string; bytes: number; end: number };
  /** where each record written and not yet committed ends, by the index after its last entry */
  private readonly pending = new Map<number, { segment: string; bytes: number }>();

  private constructor(dir: string, segments: Segment[]) {
    this.dir = dir;
    this.segments = segments;
    const last = segments[segments.length - 1] as Segment;
    this.committed = { segment: last.name, bytes: last.bytes, end: last.end };
  }

  /**
   * Reads the journal of a log whose staged checkpoint names `size` entries and whose tiles are synced up to
   * `synced`: the records that rebuild the tiles from `synced` to `size`. A record missing or cut short below
   * `size` is an error. Nothing is changed on disk until `open` is called (once the caller has checked what
   * the records rebuild): then any record beyond `size` (written, never acknowledged) is cut off, and the
   * journal is ready for the next record. A failed open so loses nothing.
   */
  static read(logDir: string, synced: number, size: number): { replay: JournalRecord[]; open: () => EntryJournal } {
    const dir = path.join(logDir, JOURNAL_DIR);
    const names = fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((n) => SEGMENT.test(n))
          .sort()
      : [];
    const segments: Segment[] = [];
    const replay: JournalRecord[] = [];
    /** files cut back (to a length) or deleted (-1) once the log opens */
    const cuts: [string, number][] = [];
    let next = synced;
    let reached = synced === size;
    for (const name of names) {
      const file = path.join(dir, name);
      if (reached) {
        // written after the staged checkpoint: never acknowledged
        cuts.push([file, -1]);
        continue;
      }
      const { records } = readSegment(fs.readFileSync(file));
      let keepBytes = 0;
      let end = Number((SEGMENT.exec(name) as RegExpExecArray)[1]);
      for (const r of records) {
        const recEnd = r.first + r.entries.length;
        if (recEnd > synced) {
          if (r.first !== next) throw new TlogError(`${file}: a record starts at entry ${r.first}, where entry ${next} was expected: the journal cannot rebuild the tiles after the last sync (${synced} entries)`);
          if (recEnd > size) break;
          replay.push(r);
          next = recEnd;
        }
        keepBytes += r.bytes;
        end = recEnd;
        if (next === size && recEnd > synced) break;
      }
      if (keepBytes < fs.statSync(file).size) cuts.push([file, keepBytes]);
      segments.push({ name, file, fd: undefined, end, bytes: keepBytes });
      if (next === size) reached = true;
    }
    if (next !== size) {
      throw new TlogError(
        `${dir}: the journal holds entries up to ${next}, but the staged checkpoint names ${size} and the tiles are synced only to ${synced}: the tiles after ${next} cannot be rebuilt`,
      );
    }
    const open = (): EntryJournal => {
      fs.mkdirSync(dir, { recursive: true });
      for (const [file, length] of cuts) {
        if (length < 0) fs.rmSync(file, { force: true });
        else fs.truncateSync(file, length);
      }
      if (segments.length === 0) {
        const name = segmentName(size);
        const file = path.join(dir, name);
        fs.closeSync(fs.openSync(file, 'w', 0o644));
        fsyncDir(dir);
        segments.push({ name, file, fd: undefined, end: size, bytes: 0 });
      }
      const last = segments[segments.length - 1] as Segment;
      last.fd = fs.openSync(last.file, 'r+');
      return new EntryJournal(dir, segments);
    };
    return { replay, open };
  }

  /** The next record goes to a new file (the previous ones can then be dropped once the tiles are synced past them). */
  startNewSegment(): void {
    this.rotate = true;
  }

  /**
   * Appends the record of a batch (`parts`: its entries in bundle encoding, in order) and flushes it; the
   * position is taken now, so batches handed in one after the other are written in that order.
   */
  append(first: number, count: number, parts: readonly Uint8Array[]): Promise<void> {
    if (this.rotate) {
      this.rotate = false;
      const name = segmentName(first);
      const file = path.join(this.dir, name);
      let fd: number;
      try {
        fd = fs.openSync(file, 'wx', 0o644);
      } catch (e) {
        return Promise.reject(new TlogError(`the journal cannot start ${file}: ${(e as Error).message}`));
      }
      // the segment before keeps its descriptor until its records are written (it is closed when dropped)
      this.segments.push({ name, file, fd, end: first, bytes: 0 });
      this.fresh = true;
    }
    const seg = this.segments[this.segments.length - 1] as Segment;
    let payload = 0;
    for (const p of parts) payload += p.length;
    const at = seg.bytes;
    seg.bytes += HEADER_BYTES + payload;
    seg.end = first + count;
    this.pending.set(seg.end, { segment: seg.name, bytes: seg.bytes });
    const fd = seg.fd as number;
    const syncDir = this.fresh;
    this.fresh = false;
    const data = [header(first, count, payload), ...parts];
    return new Promise<void>((resolve, reject) => {
      const done = (e: Error | null): void => (e === null ? resolve() : reject(e));
      writevAll(fd, data, at, (e) => {
        if (e !== null) return done(e);
        fs.fdatasync(fd, (e2) => {
          if (e2 !== null || !syncDir) return done(e2);
          // the new file's directory entry, flushed with its first record
          flushDir(this.dir).then(() => done(null), done);
        });
      });
    });
  }

  /** The record ending at `end` is behind a committed checkpoint. */
  committedTo(end: number): void {
    const at = this.pending.get(end);
    if (at === undefined) throw new TlogError(`the journal wrote no record that ends at entry ${end}`);
    this.pending.delete(end);
    this.committed = { ...at, end };
  }

  /**
   * After a failed batch (and every batch built on it) settled: the records after the last committed one are
   * cut off, so the next batch's record follows it.
   */
  reset(): void {
    this.pending.clear();
    const keep = this.segments.findIndex((s) => s.name === this.committed.segment);
    for (const s of this.segments.slice(keep + 1)) {
      if (s.fd !== undefined) fs.closeSync(s.fd);
      fs.rmSync(s.file, { force: true });
    }
    this.segments = this.segments.slice(0, keep + 1);
    const seg = this.segments[keep] as Segment;
    seg.fd ??= fs.openSync(seg.file, 'r+');
    fs.ftruncateSync(seg.fd, this.committed.bytes);
    seg.bytes = this.committed.bytes;
    seg.end = this.committed.end;
    this.rotate = false;
    this.fresh = false;
  }

  /** Drops the files every record of which is below `synced` (never the one holding the last committed record, nor the one being written). */
  dropBefore(synced: number): void {
    for (;;) {
      const first = this.segments[0] as Segment;
      if (this.segments.length < 2 || first.end > synced || first.name === this.committed.segment) return;
      if (first.fd !== undefined) fs.closeSync(first.fd);
      fs.rmSync(first.file, { force: true });
      this.segments.shift();
    }
  }

  /** The journal's files, oldest first (tests). */
  files(): string[] {
    return this.segments.map((s) => s.name);
  }

  close(): void {
    for (const s of this.segments) {
      if (s.fd !== undefined) fs.closeSync(s.fd);
      s.fd = undefined;
    }
  }
}

/** pwritev of every part at `at`, again after a short write (a full disk is an error, never a short record acknowledged). */
function writevAll(fd: number, parts: Uint8Array[], at: number, cb: (e: Error | null) => void): void {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const step = (rest: Uint8Array[], pos: number, left: number): void => {
    if (left === 0) return cb(null);
    const slice = rest.slice(0, 1024);
    fs.writev(fd, slice, pos, (e, n) => {
      if (e !== null) return cb(e);
      if (n === 0) return cb(new TlogError(`the journal took 0 of ${left} bytes (is the disk full?)`));
      // drop what was written, keeping any part only partly written
      let skip = n;
      const remaining: Uint8Array[] = [];
      for (const p of rest) {
        if (skip >= p.length) {
          skip -= p.length;
          continue;
        }
        remaining.push(skip > 0 ? p.subarray(skip) : p);
        skip = 0;
      }
      step(remaining, pos + n, left - n);
    });
  };
  step(parts, at, total);
}
