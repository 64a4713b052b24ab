import type { Statement } from 'better-sqlite3';
import type { Db } from './storage';

/**
 * Entries read for `verify` many at a time, as one BLOB per chunk that SQLite concatenates: per row,
 * better-sqlite3 allocates a row array and a Buffer or string per column, which together cost more than
 * hashing the entry. Each entry is one frame, laid out so that the bytes its entry hash covers (entries.ts
 * entryHash: 0x45, kind, seq as 8 bytes, previous hash, payload) sit contiguously and hash in place:
 *
 *   [0, 4)    payload length         [4, 8) stored previous-hash length     [8, 12) stored entry-hash length
 *   [12, 22)  0x45, kind, seq (8 bytes, big-endian)
 *   then the stored previous hash, the payload and the stored entry hash, each as long as its header says.
 *
 * The lengths are SQLite's byte counts of exactly what it concatenates, so a frame always parses as the
 * row's own bytes. A kind that is not an integer from 0 to 255, or a NULL anywhere (both impossible
 * without editing the file around the schema's CHECKs), leaves no frame at all: the reader then sees a seq
 * it did not expect and reads that entry on its own with `EntryRows`, the row-by-row reading, which gives
 * such an entry its verdict.
 */
export const FRAME_HASHED_FROM = 12;
export const FRAME_HEADER = 22;
/** entries per read: big enough that per-read costs vanish, small enough to keep each BLOB under a megabyte */
export const FRAME_CHUNK = 4_000;

export const FRAMES_SQL = `SELECT CAST(group_concat(
    unhex(printf('%08x%08x%08x45%02x%016x', octet_length(payload), octet_length(prev_hash), octet_length(entry_hash),
      iif(typeof(kind) = 'integer' AND kind BETWEEN 0 AND 255, kind, 256), seq))
    || prev_hash || payload || entry_hash, x'') AS BLOB), count(*)
  FROM (SELECT seq, kind, payload, prev_hash, entry_hash FROM entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?)`;

export interface FrameChunk {
  /** null when no entry of the chunk made a frame */
  readonly frames: Buffer | null;
  /** entries in the chunk, framed or not */
  readonly count: number;
}

export class EntryFrames {
  private readonly stmt: Statement;

  constructor(db: Db) {
    this.stmt = db.prepare(FRAMES_SQL).raw(true);
  }

  /** Up to `limit` entries after `afterSeq` up to `lastSeq`, in seq order; undefined when there are none. */
  read(afterSeq: number, lastSeq: number, limit: number): FrameChunk | undefined {
    const [frames, count] = this.stmt.get(afterSeq, lastSeq, limit) as [Buffer | null, number];
    return count === 0 ? undefined : { frames, count };
  }
}

/** The seq in the frame at `off` (ledgers stay far below 2^53 entries). */
export function frameSeq(b: Buffer, off: number): number {
  return b.readUInt32BE(off + 14) * 2 ** 32 + b.readUInt32BE(off + 18);
}

/** Where the frame at `off` ends. */
export function frameEnd(b: Buffer, off: number): number {
  return off + FRAME_HEADER + b.readUInt32BE(off) + b.readUInt32BE(off + 4) + b.readUInt32BE(off + 8);
}

/** One entry as the row-by-row reading sees it: payload and entry hash as hex text, as `verify` first read them. */
export class EntryRows {
  private readonly one: Statement;
  private readonly prev: Statement;

  constructor(db: Db) {
    this.one = db.prepare('SELECT seq, kind, hex(payload), lower(hex(entry_hash)) FROM entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 1').raw(true);
    this.prev = db.prepare('SELECT lower(hex(prev_hash)) FROM entries WHERE seq = ?').pluck();
  }

  next(afterSeq: number, lastSeq: number): [seq: number, kind: number, payloadHex: string, entryHashHex: string] | undefined {
    return this.one.get(afterSeq, lastSeq) as [number, number, string, string] | undefined;
  }

  storedPrevHex(seq: number): unknown {
    return this.prev.get(seq);
  }
}
