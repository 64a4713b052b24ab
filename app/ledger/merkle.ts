import { sha256 } from './hash';

/**
 * RFC 6962 / RFC 9162 Merkle trees (leaf prefix 0x00, node prefix 0x01), so standard verifiers and the
 * published test vectors apply. Proof verification follows RFC 9162 §2.1.3.2 and §2.1.4.2, written in the
 * generalised "subtree" form of the Merkle Tree Certificates draft (§4.3.2, §4.4.3), of which the RFC forms
 * are the case start = 0.
 */
export const HASH_BYTES = 32;

let leafScratch = Buffer.allocUnsafe(512);
export function leafHash(data: Uint8Array): Buffer {
  if (data.length + 1 > leafScratch.length) leafScratch = Buffer.allocUnsafe(2 * (data.length + 1));
  leafScratch[0] = 0x00;
  leafScratch.set(data, 1);
  return sha256(leafScratch.subarray(0, data.length + 1));
}

const nodeScratch = Buffer.allocUnsafe(1 + 2 * HASH_BYTES);
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  nodeScratch[0] = 0x01;
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_BYTES);
  return sha256(nodeScratch);
}

export const EMPTY_ROOT: Buffer = sha256(new Uint8Array(0));

/** A whole tree kept level by level; a lone last node is carried up unchanged, which is RFC 6962's shape. */
export class MerkleTree {
  readonly levels: Buffer[][];

  constructor(leafHashes: readonly Buffer[]) {
    const levels: Buffer[][] = [leafHashes.slice()];
    let cur = levels[0] as Buffer[];
    while (cur.length > 1) {
      const next: Buffer[] = new Array<Buffer>(Math.ceil(cur.length / 2));
      for (let i = 0, j = 0; i < cur.length; i += 2, j++) {
        const l = cur[i] as Buffer;
        const r = cur[i + 1];
        next[j] = r === undefined ? l : nodeHash(l, r);
      }
      levels.push(next);
      cur = next;
    }
    this.levels = levels;
  }

  get size(): number {
    return (this.levels[0] as Buffer[]).length;
  }

  root(): Buffer {
    if (this.size === 0) return EMPTY_ROOT;
    return (this.levels[this.levels.length - 1] as Buffer[])[0] as Buffer;
  }

  /** The audit path of leaf `index` in this tree (RFC 9162 §2.1.3.1). */
  inclusionProof(index: number): Buffer[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`leaf ${index} is not in a tree of ${this.size}`);
    const proof: Buffer[] = [];
    let i = index;
    for (let level = 0; level < this.levels.length - 1; level++) {
      const row = this.levels[level] as Buffer[];
      const sibling = row[i ^ 1];
      if (sibling !== undefined) proof.push(sibling);
      i >>>= 1;
    }
    return proof;
  }

  /** MTH(D[lo:hi]) from the stored levels where the range is a stored node, else by splitting (RFC 9162 §2.1.1). */
  rangeHash(lo: number, hi: number): Buffer {
    const n = hi - lo;
    if (n === 1) return (this.levels[0] as Buffer[])[lo] as Buffer;
    const level = Math.ceil(Math.log2(n));
    const width = 2 ** level;
    if (lo % width === 0 && (n === width || hi === this.size)) {
      const node = this.levels[level]?.[lo / width];
      if (node !== undefined) return node;
    }
    const k = largestPowerOfTwoBelow(n);
    return nodeHash(this.rangeHash(lo, lo + k), this.rangeHash(lo + k, hi));
  }

  /** Consistency proof from the first `oldSize` leaves to this whole tree (RFC 9162 §2.1.4.1). */
  consistencyProof(oldSize: number): Buffer[] {
    if (!Number.isInteger(oldSize) || oldSize < 1 || oldSize > this.size) throw new RangeError(`cannot prove size ${oldSize} against a tree of ${this.size}`);
    const out: Buffer[] = [];
    const sub = (m: number, lo: number, hi: number, complete: boolean): void => {
      const n = hi - lo;
      if (m === n) {
        if (!complete) out.push(this.rangeHash(lo, hi));
        return;
      }
      const k = largestPowerOfTwoBelow(n);
      if (m <= k) {
        sub(m, lo, lo + k, complete);
        out.push(this.rangeHash(lo + k, hi));
      } else {
        sub(m - k, lo + k, hi, false);
        out.push(this.rangeHash(lo, lo + k));
      }
    };
    sub(oldSize, 0, this.size, true);
    return out;
  }
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The root of the tree over these leaf hashes without keeping the levels (reuses one array). */
export function merkleRoot(leafHashes: readonly Buffer[]): Buffer {
  if (leafHashes.length === 0) return EMPTY_ROOT;
  let cur = leafHashes.slice();
  let n = cur.length;
  while (n > 1) {
    let j = 0;
    for (let i = 0; i < n; i += 2) cur[j++] = i + 1 < n ? nodeHash(cur[i] as Buffer, cur[i + 1] as Buffer) : (cur[i] as Buffer);
    n = j;
    cur = cur.slice(0, n);
  }
  return cur[0] as Buffer;
}

/** Appends leaves one at a time keeping only the perfect subtrees on the right edge: O(log n) memory. */
export class MerkleAccumulator {
  private readonly stack: Buffer[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(leaf: Buffer): void {
    let h = leaf;
    let c = this.count;
    while ((c & 1) === 1) {
      h = nodeHash(this.stack.pop() as Buffer, h);
      c = Math.floor(c / 2);
    }
    this.stack.push(h);
    this.count += 1;
  }

  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let h = this.stack[this.stack.length - 1] as Buffer;
    for (let i = this.stack.length - 2; i >= 0; i--) h = nodeHash(this.stack[i] as Buffer, h);
    return h;
  }
}

export class ProofError extends Error {
  override readonly name = 'ProofError';
}

function isHash(b: Uint8Array | undefined): b is Uint8Array {
  return b !== undefined && b.length === HASH_BYTES;
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** [start, end) is a subtree if start < end and start is a multiple of the next power of two ≥ end - start. */
export function isValidSubtree(start: number, end: number): boolean {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start >= end) return false;
  let width = 1;
  while (width < end - start) width *= 2;
  return start % width === 0;
}

// Halving with Math.floor keeps the arithmetic exact past 32 bits, where JS bit operators would wrap.
const half = (x: number): number => Math.floor(x / 2);
const odd = (x: number): boolean => x % 2 === 1;

/** The root an inclusion proof leads to for leaf `index` of subtree [start, end); throws ProofError. */
export function rootFromSubtreeInclusion(index: number, start: number, end: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Buffer {
  if (!isValidSubtree(start, end)) throw new ProofError(`[${start}, ${end}) is not a subtree`);
  if (!Number.isSafeInteger(index) || index < start || index >= end) throw new ProofError(`leaf index ${index} is outside [${start}, ${end})`);
  if (!isHash(leaf)) throw new ProofError(`leaf hash must be ${HASH_BYTES} bytes`);
  let fn = index - start;
  let sn = end - start - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (!isHash(p)) throw new ProofError(`proof element must be ${HASH_BYTES} bytes, got ${(p as Uint8Array).length}`);
    if (sn === 0) throw new ProofError('proof has too many elements');
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('proof has too few elements');
  return r;
}

export function verifySubtreeInclusion(index: number, start: number, end: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  const got = rootFromSubtreeInclusion(index, start, end, leaf, proof);
  if (!sameHash(got, root)) throw new ProofError('inclusion proof leads to a different root');
}

/** RFC 9162 inclusion: leaf `index` in a tree of `treeSize` leaves with this root. Throws ProofError. */
export function verifyInclusion(index: number, treeSize: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  if (!Number.isSafeInteger(treeSize) || treeSize < 1) throw new ProofError(`no leaf is included in a tree of size ${treeSize}`);
  verifySubtreeInclusion(index, 0, treeSize, leaf, proof, root);
}

/** Subtree [start, end) with hash `subtreeRoot` is part of the tree of `size` leaves with root `root`. */
export function verifySubtreeConsistency(
  start: number,
  end: number,
  size: number,
  subtreeRoot: Uint8Array,
  root: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  if (!Number.isSafeInteger(size) || end > size) throw new ProofError(`subtree end ${end} is beyond tree size ${size}`);
  if (start === end && Number.isSafeInteger(start) && start >= 0) {
    // an empty range is vacuously part of any tree, provided it claims the empty hash and nothing more
    if (proof.length > 0) throw new ProofError('an empty subtree takes an empty proof');
    if (!sameHash(subtreeRoot, EMPTY_ROOT)) throw new ProofError('an empty subtree must have the empty-tree hash');
    return;
  }
  if (!isValidSubtree(start, end)) throw new ProofError(`[${start}, ${end}) is not a subtree`);
  for (const p of proof) if (!isHash(p)) throw new ProofError(`proof element must be ${HASH_BYTES} bytes, got ${(p as Uint8Array).length}`);
  let fn = start;
  let sn = end - 1;
  let tn = size - 1;
  const shift = (): void => {
    fn = half(fn);
    sn = half(sn);
    tn = half(tn);
  };
  if (sn === tn) {
    while (fn !== sn) shift();
  } else {
    while (fn !== sn && odd(sn)) shift();
  }
  let rest = proof;
  let fr: Buffer;
  let sr: Buffer;
  if (fn === sn) {
    fr = Buffer.from(subtreeRoot);
    sr = Buffer.from(subtreeRoot);
  } else {
    const first = proof[0];
    if (first === undefined) throw new ProofError('empty proof for a subtree that is not a node of the tree');
    fr = Buffer.from(first);
    sr = Buffer.from(first);
    rest = proof.slice(1);
  }
  for (const c of rest) {
    if (tn === 0) throw new ProofError('proof has too many elements');
    if (odd(sn) || sn === tn) {
      if (fn < sn) fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!odd(sn) && sn !== 0) shift();
    } else {
      sr = nodeHash(sr, c);
    }
    shift();
  }
  if (tn !== 0) throw new ProofError('proof has too few elements');
  if (!sameHash(fr, subtreeRoot)) throw new ProofError('proof does not lead to the first root');
  if (!sameHash(sr, root)) throw new ProofError('proof does not lead to the second root');
}

/** RFC 9162 consistency between a tree of size1 and its extension to size2. Throws ProofError. */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): void {
  if (!Number.isSafeInteger(size1) || size1 < 1) throw new ProofError(`a consistency proof from size ${size1} proves nothing`);
  if (size1 > size2) throw new ProofError(`first size ${size1} exceeds second size ${size2}`);
  if (size1 === size2) {
    if (proof.length > 0) throw new ProofError('equal sizes take an empty proof');
    if (!sameHash(root1, root2)) throw new ProofError('equal sizes but different roots');
    return;
  }
  verifySubtreeConsistency(0, size1, size2, root1, root2, proof);
}

/** Orders leaf hashes bytewise (the batch order that hides casting order); returns the permutation. */
export function orderByHash(hashes: readonly Buffer[]): number[] {
  const n = hashes.length;
  const idx = new Array<number>(n);
  if (n <= 1 << 21) {
    // sort 32-bit hash prefixes packed with the index as doubles: a native numeric sort, then fix ties
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = (hashes[i] as Buffer).readUInt32BE(0) * 2 ** 21 + i;
    keys.sort();
    for (let i = 0; i < n; i++) idx[i] = (keys[i] as number) % 2 ** 21;
    let i = 0;
    while (i < n) {
      let j = i + 1;
      const p = (hashes[idx[i] as number] as Buffer).readUInt32BE(0);
      while (j < n && (hashes[idx[j] as number] as Buffer).readUInt32BE(0) === p) j++;
      if (j - i > 1) {
        const run = idx.slice(i, j).sort((a, b) => Buffer.compare(hashes[a] as Buffer, hashes[b] as Buffer));
        for (let k = 0; k < run.length; k++) idx[i + k] = run[k] as number;
      }
      i = j;
    }
    return idx;
  }
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx.sort((a, b) => Buffer.compare(hashes[a] as Buffer, hashes[b] as Buffer));
}
