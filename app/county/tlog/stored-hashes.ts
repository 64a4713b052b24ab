import { leafHash, nodeHash, EMPTY_ROOT } from '../../ledger/merkle';

/**
 * The tiled log's storage arithmetic, after golang.org/x/mod/sumdb/tlog (BSD-3-Clause), which C2SP
 * tlog-tiles is built on. Every hash of the tree that will never change (a complete subtree's root) gets one
 * "stored hash index"; tiles are runs of those hashes. Proofs are computed from stored hashes only, so a log
 * served as static tiles can answer any inclusion or consistency question, and the proofs are RFC 6962's
 * (the ledger's verifier checks them: test/county/tlog.test.ts).
 */

export type Hash = Uint8Array;

/** Reads stored hashes by index; a tile-backed reader fetches the tiles that hold them. */
export type HashReader = (indexes: readonly number[]) => Hash[];

export class TlogError extends Error {
  override readonly name = 'TlogError';
}

export function recordHash(data: Uint8Array): Hash {
  return leafHash(data);
}

export { nodeHash };

/** The stored hash index of the level-`level` hash number `n` (n-th subtree of 2^level leaves). */
export function storedHashIndex(level: number, n: number): number {
  // The hashes are stored in the order they become final: after leaf n, every subtree it completes.
  for (let l = level; l > 0; l--) n = 2 * n + 1;
  let i = 0;
  for (; n > 0; n = Math.floor(n / 2)) i += n;
  return i + level;
}

function trailingZeros(n: number): number {
  if (n === 0) return 53;
  let z = 0;
  while (n % 2 === 0) {
    n /= 2;
    z++;
  }
  return z;
}

/** The inverse of storedHashIndex. */
export function splitStoredHashIndex(index: number): { level: number; n: number } {
  let n = Math.floor(index / 2);
  let indexN = storedHashIndex(0, n);
  if (indexN > index) throw new TlogError('bad stored hash index arithmetic');
  for (;;) {
    const x = indexN + 1 + trailingZeros(n + 1);
    if (x > index) break;
    n++;
    indexN = x;
  }
  const level = index - indexN;
  return { level, n: Math.floor(n / 2 ** level) };
}

/** How many hashes a tree of n records stores. */
export function storedHashCount(n: number): number {
  if (n === 0) return 0;
  let count = storedHashIndex(0, n - 1) + 1;
  for (let i = n - 1; i % 2 === 1; i = Math.floor(i / 2)) count++;
  return count;
}

/** The hashes to store when record n (hash h) is appended: h, then every subtree it completes. */
export function storedHashesForRecordHash(n: number, h: Hash, read: HashReader): Hash[] {
  const out: Hash[] = [h];
  const m = trailingZeros(n + 1);
  const indexes: number[] = new Array<number>(m);
  for (let i = 0; i < m; i++) indexes[m - 1 - i] = storedHashIndex(i, Math.floor(n / 2 ** i) - 1);
  const old = readExactly(read, indexes);
  let cur = h;
  for (let i = 0; i < m; i++) {
    cur = nodeHash(old[m - 1 - i] as Hash, cur);
    out.push(cur);
  }
  return out;
}

function readExactly(read: HashReader, indexes: readonly number[]): Hash[] {
  if (indexes.length === 0) return [];
  const hashes = read(indexes);
  if (hashes.length !== indexes.length) throw new TlogError(`read ${hashes.length} hashes for ${indexes.length} indexes`);
  return hashes;
}

/** Largest power of two smaller than n (n ≥ 2), with its exponent. */
function maxpow2(n: number): { k: number; level: number } {
  let level = 0;
  while (2 ** (level + 1) < n) level++;
  return { k: 2 ** level, level };
}

function subTreeIndex(lo: number, hi: number, need: number[]): number[] {
  while (lo < hi) {
    const { k, level } = maxpow2(hi - lo + 1);
    if (lo % k !== 0) throw new TlogError('bad subtree arithmetic');
    need.push(storedHashIndex(level, lo / k));
    lo += k;
  }
  return need;
}

function subTreeHash(lo: number, hi: number, hashes: Hash[]): [Hash, Hash[]] {
  let numTree = 0;
  while (lo < hi) {
    const { k } = maxpow2(hi - lo + 1);
    numTree++;
    lo += k;
  }
  if (hashes.length < numTree) throw new TlogError('bad subtree hash arithmetic');
  let h = hashes[numTree - 1] as Hash;
  for (let i = numTree - 2; i >= 0; i--) h = nodeHash(hashes[i] as Hash, h);
  return [h, hashes.slice(numTree)];
}

/** The stored hashes treeHash(n) reads. */
export function treeHashIndexes(n: number): number[] {
  return n === 0 ? [] : subTreeIndex(0, n, []);
}

/** The stored hashes proveRecord(t, n) reads. */
export function recordProofIndexes(t: number, n: number): number[] {
  return n >= 0 && n < t ? leafProofIndex(0, t, n, []) : [];
}

/** The stored hashes proveTree(t, n) reads. */
export function treeProofIndexes(t: number, n: number): number[] {
  return n >= 1 && n <= t ? treeProofIndex(0, t, n, []) : [];
}

/** The root of the first n records. */
export function treeHash(n: number, read: HashReader): Hash {
  if (n === 0) return EMPTY_ROOT;
  const hashes = readExactly(read, subTreeIndex(0, n, []));
  const [h, rest] = subTreeHash(0, n, hashes);
  if (rest.length !== 0) throw new TlogError('bad tree hash arithmetic');
  return h;
}

function leafProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
  if (lo + 1 === hi) return need;
  const { k } = maxpow2(hi - lo);
  if (n < lo + k) {
    leafProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    leafProofIndex(lo + k, hi, n, need);
  }
  return need;
}

function leafProof(lo: number, hi: number, n: number, hashes: Hash[]): [Hash[], Hash[]] {
  if (lo + 1 === hi) return [[], hashes];
  const { k } = maxpow2(hi - lo);
  let p: Hash[];
  let th: Hash;
  if (n < lo + k) {
    [p, hashes] = leafProof(lo, lo + k, n, hashes);
    [th, hashes] = subTreeHash(lo + k, hi, hashes);
  } else {
    [th, hashes] = subTreeHash(lo, lo + k, hashes);
    [p, hashes] = leafProof(lo + k, hi, n, hashes);
  }
  return [[...p, th], hashes];
}

/** RFC 6962 inclusion proof of record n in the tree of t records. */
export function proveRecord(t: number, n: number, read: HashReader): Hash[] {
  if (!(Number.isSafeInteger(t) && Number.isSafeInteger(n) && n >= 0 && n < t)) {
    throw new TlogError(`no record ${n} in a tree of ${t}`);
  }
  const indexes = leafProofIndex(0, t, n, []);
  const [p, rest] = leafProof(0, t, n, readExactly(read, indexes));
  if (rest.length !== 0) throw new TlogError('bad record proof arithmetic');
  return p;
}

function treeProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
  if (n === hi) return lo === 0 ? need : subTreeIndex(lo, hi, need);
  const { k } = maxpow2(hi - lo);
  if (n <= lo + k) {
    treeProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    treeProofIndex(lo + k, hi, n, need);
  }
  return need;
}

function treeProof(lo: number, hi: number, n: number, hashes: Hash[]): [Hash[], Hash[]] {
  if (n === hi) {
    if (lo === 0) return [[], hashes];
    const [th, rest] = subTreeHash(lo, hi, hashes);
    return [[th], rest];
  }
  const { k } = maxpow2(hi - lo);
  let p: Hash[];
  let th: Hash;
  if (n <= lo + k) {
    [p, hashes] = treeProof(lo, lo + k, n, hashes);
    [th, hashes] = subTreeHash(lo + k, hi, hashes);
  } else {
    [th, hashes] = subTreeHash(lo, lo + k, hashes);
    [p, hashes] = treeProof(lo + k, hi, n, hashes);
  }
  return [[...p, th], hashes];
}

/** RFC 6962 consistency proof that the tree of n records is a prefix of the tree of t records. */
export function proveTree(t: number, n: number, read: HashReader): Hash[] {
  if (!(Number.isSafeInteger(t) && Number.isSafeInteger(n) && n >= 1 && n <= t)) {
    throw new TlogError(`no consistency proof from ${n} to ${t} records`);
  }
  const indexes = treeProofIndex(0, t, n, []);
  const [p, rest] = treeProof(0, t, n, readExactly(read, indexes));
  if (rest.length !== 0) throw new TlogError('bad tree proof arithmetic');
  return p;
}
