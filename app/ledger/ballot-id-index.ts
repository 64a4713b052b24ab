/**
 * A map from ballot ID (the 60-bit serial of an encoded record) to an entry seq, in typed arrays: `verify`
 * looks up every one of a million ballots, and a JS Map keyed by strings spent most of that time building
 * and hashing the key strings. Open addressing with linear probing and backward-shift deletion, so there are
 * no tombstones and a lookup ends at the first empty slot.
 */
const EMPTY = 0;
const MIN_CAPACITY = 64;

export class BallotIdIndex {
  /** the serial's top 28 bits plus one (0 marks an empty slot) */
  private hi: Uint32Array;
  private lo: Uint32Array;
  private seqs: Float64Array;
  private mask: number;
  private count = 0;

  constructor(expected = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < expected * 2) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.seqs = new Float64Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The seq stored for the serial of the record in `record` (bytes 1..8 without the flag bits), or -1. */
  get(record: Uint8Array): number {
    const h = serialHi(record) + 1;
    const l = serialLo(record);
    for (let i = slotOf(h, l) & this.mask; ; i = (i + 1) & this.mask) {
      const at = this.hi[i] as number;
      if (at === EMPTY) return -1;
      if (at === h && this.lo[i] === l) return this.seqs[i] as number;
    }
  }

  set(record: Uint8Array, seq: number): void {
    if ((this.count + 1) * 2 > this.hi.length) this.grow();
    this.put(serialHi(record) + 1, serialLo(record), seq);
  }

  delete(record: Uint8Array): boolean {
    const h = serialHi(record) + 1;
    const l = serialLo(record);
    const m = this.mask;
    let i = slotOf(h, l) & m;
    for (; ; i = (i + 1) & m) {
      const at = this.hi[i] as number;
      if (at === EMPTY) return false;
      if (at === h && this.lo[i] === l) break;
    }
    // shift later members of the probe run back into the hole so lookups never stop short of them
    for (let j = (i + 1) & m; this.hi[j] !== EMPTY; j = (j + 1) & m) {
      const home = slotOf(this.hi[j] as number, this.lo[j] as number) & m;
      // j's entry may move to i only if its home is not cyclically within (i, j]
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        this.hi[i] = this.hi[j] as number;
        this.lo[i] = this.lo[j] as number;
        this.seqs[i] = this.seqs[j] as number;
        i = j;
      }
    }
    this.hi[i] = EMPTY;
    this.count -= 1;
    return true;
  }

  private put(h: number, l: number, seq: number): void {
    for (let i = slotOf(h, l) & this.mask; ; i = (i + 1) & this.mask) {
      const at = this.hi[i] as number;
      if (at === EMPTY) {
        this.hi[i] = h;
        this.lo[i] = l;
        this.seqs[i] = seq;
        this.count += 1;
        return;
      }
      if (at === h && this.lo[i] === l) {
        this.seqs[i] = seq;
        return;
      }
    }
  }

  private grow(): void {
    const { hi, lo, seqs } = this;
    const cap = hi.length * 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.seqs = new Float64Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < hi.length; i++) if (hi[i] !== EMPTY) this.put(hi[i] as number, lo[i] as number, seqs[i] as number);
  }
}

// record layout (RECORD.md): version byte, then the 8-byte serial whose top 4 bits carry flags
function serialHi(r: Uint8Array): number {
  return (((r[1] as number) & 0x0f) << 24) | ((r[2] as number) << 16) | ((r[3] as number) << 8) | (r[4] as number);
}

function serialLo(r: Uint8Array): number {
  return (((r[5] as number) << 24) | ((r[6] as number) << 16) | ((r[7] as number) << 8) | (r[8] as number)) >>> 0;
}

function slotOf(h: number, l: number): number {
  return Math.imul(l ^ Math.imul(h, 0x9e3779b1), 0x85ebca6b) >>> 7;
}
