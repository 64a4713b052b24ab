import { hash as nodeHash } from 'node:crypto';
import { toHex } from '../../lib/bytes';
import { entryHashFromHex, hexScratch, payloadIntoScratch } from './entries';
import { EntryFrames, EntryRows, FRAME_CHUNK, FRAME_HASHED_FROM, FRAME_HEADER, frameEnd, frameSeq } from './entry-frames';
import { hashChainProblemMessage } from './hash-chain-check';
import { fail } from './replay-problem';
import type { Db } from './storage';

/** A latin1 digest string against 32 bytes: a plain loop beats writing it out and calling Buffer.compare. */
function sameDigest(digest: string, b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) if (digest.charCodeAt(i) !== b[at + i]) return false;
  return true;
}

const NO_BYTES = Buffer.alloc(0);

/**
 * The first step of replay: the entries in sequence, each linked to the one before and hashing to its
 * stored hash (unless another thread checks that: `recompute` false). Entries come in chunks of frames
 * (entry-frames.ts); an entry that made no frame is read on its own, as hex text. A missing, moved or
 * changed entry throws a ReplayProblem naming it. After `next()` returns true, `seq`, `kind` and `payload`
 * are the entry's; `accept()` makes it the one the next entry must link to.
 */
export class HashChainReader {
  seq = 0;
  kind = 0;
  payload: Uint8Array = NO_BYTES;
  /** the payload lies in its chunk's buffer, which is never reused: records taken from it need no copy */
  inFrame = false;
  /** the sequence number the next entry must have */
  private expected = 1;
  // where the hash chain's hash of the entry before the current one, and of the current one, sit: usually in the
  // chunk's frames (checked equal to the recomputed hash), so nothing is copied per entry
  private prevBuf: Uint8Array = Buffer.alloc(32);
  private prevOff = 0;
  private thisBuf: Uint8Array = this.prevBuf;
  private thisOff = 0;
  private chunk: Buffer = NO_BYTES;
  private off = 0;
  private left = 0;
  private readonly frames: EntryFrames;
  private readonly rows: EntryRows;

  constructor(
    db: Db,
    private readonly lastSeq: number,
    private readonly recompute: boolean,
  ) {
    this.frames = new EntryFrames(db);
    this.rows = new EntryRows(db);
  }

  /** Reads the next entry and checks its place in the hash chain; false when there are no more. */
  next(): boolean {
    for (;;) {
      if (this.left === 0) {
        const chunk = this.frames.read(this.expected - 1, this.lastSeq, FRAME_CHUNK);
        if (chunk === undefined) return false;
        this.chunk = chunk.frames ?? NO_BYTES;
        this.off = 0;
        this.left = chunk.count;
      }
      this.left -= 1;
      if (this.nextFromFrame()) return true;
      if (this.nextFromRow()) return true;
      // no row either: read the next chunk from where the hash chain stands
      this.left = 0;
    }
  }

  /** The entry as a frame of the current chunk, if it is the expected one and well-formed. */
  private nextFromFrame(): boolean {
    const b = this.chunk;
    const off = this.off;
    if (!(off < b.length && frameSeq(b, off) === this.expected && b.readUInt32BE(off + 4) === 32 && b.readUInt32BE(off + 8) === 32)) return false;
    const end = frameEnd(b, off);
    const seq = this.expected;
    const prevAt = off + FRAME_HEADER;
    const payloadAt = prevAt + 32;
    const hashAt = end - 32;
    if (this.recompute) {
      // the hash covers the hash chain's previous hash, not the stored copy of it: hash with that (the
      // stored copy is looked at only to say what is wrong with an entry whose hash does not match)
      if (this.prevBuf === b) b.copyWithin(prevAt, this.prevOff, this.prevOff + 32);
      else b.set(this.prevBuf.subarray(this.prevOff, this.prevOff + 32), prevAt);
      if (!sameDigest(nodeHash('sha256', b.subarray(off + FRAME_HASHED_FROM, hashAt), 'binary'), b, hashAt)) {
        // tell a broken link (something removed, added or moved before it) from a changed entry
        if (this.rows.storedPrevHex(seq) !== toHex(b.subarray(prevAt, payloadAt))) fail(seq, 'out-of-order', hashChainProblemMessage('out-of-order', seq));
        fail(seq, 'changed', hashChainProblemMessage('changed', seq));
      }
    }
    this.seq = seq;
    this.kind = b[off + 13] as number;
    this.thisBuf = b;
    this.thisOff = hashAt;
    this.payload = b.subarray(payloadAt, hashAt);
    this.inFrame = true;
    this.off = end;
    return true;
  }

  /** The hash-chain checks of an entry read on its own, as hex text: for an entry that made no frame (entry-frames.ts). */
  private nextFromRow(): boolean {
    const row = this.rows.next(this.expected - 1, this.lastSeq);
    if (row === undefined) return false;
    const [seq, kind, payloadHex, storedHex] = row;
    if (seq !== this.expected) fail(this.expected, 'deleted', hashChainProblemMessage('deleted', this.expected, seq));
    const prevHex = toHex(this.prevBuf.subarray(this.prevOff, this.prevOff + 32));
    let hHex = storedHex;
    if (this.recompute) {
      hHex = entryHashFromHex(kind, seq, prevHex, payloadHex);
      if (hHex !== storedHex) {
        // tell a broken link (something removed, added or moved before it) from a changed entry
        if (this.rows.storedPrevHex(seq) !== prevHex) fail(seq, 'out-of-order', hashChainProblemMessage('out-of-order', seq));
        fail(seq, 'changed', hashChainProblemMessage('changed', seq));
      }
    } else {
      payloadIntoScratch(payloadHex);
    }
    this.seq = seq;
    this.kind = kind;
    this.thisBuf = Buffer.from(hHex, 'hex');
    this.thisOff = 0;
    this.payload = hexScratch().subarray(42, 42 + payloadHex.length / 2);
    this.inFrame = false;
    const b = this.chunk;
    if (this.off < b.length && frameSeq(b, this.off) === seq) this.off = frameEnd(b, this.off);
    return true;
  }

  /** The current entry's hash (a copy). */
  hash(): Buffer {
    return Buffer.from(this.thisBuf.subarray(this.thisOff, this.thisOff + 32));
  }

  /** The hash of the entry before the current one (a copy); after the last entry, the head's. */
  prevHash(): Buffer {
    return Buffer.from(this.prevBuf.subarray(this.prevOff, this.prevOff + 32));
  }

  /** The current entry checked: the next must link to it. */
  accept(): void {
    this.prevBuf = this.thisBuf;
    this.prevOff = this.thisOff;
    this.expected = this.seq + 1;
  }

  /** How many entries have been accepted. */
  get accepted(): number {
    return this.expected - 1;
  }
}
