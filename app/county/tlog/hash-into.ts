import { hash } from 'node:crypto';

/**
 * RFC 6962 leaf and node hashes written straight into a caller's buffer: the log integrates hundreds of
 * thousands of entries a second, and a Buffer per hash (then copied into a tile) costs as much as the hash.
 * Same function as app/ledger/merkle.ts's leafHash/nodeHash (test/county/tile-log.test.ts compares roots).
 */

let leafScratch = Buffer.allocUnsafe(1024);
const nodeScratch = Buffer.allocUnsafe(65);

/** SHA-256(0x00 ‖ data) into out[at, at+32). */
export function leafHashInto(data: Uint8Array, out: Buffer, at: number): void {
  if (data.length + 1 > leafScratch.length) leafScratch = Buffer.allocUnsafe(2 * (data.length + 1));
  leafScratch[0] = 0x00;
  leafScratch.set(data, 1);
  out.write(hash('sha256', leafScratch.subarray(0, data.length + 1), 'binary'), at, 32, 'latin1');
}

/** SHA-256 of buf[from, from+length) into out[at, at+32): a leaf hash whose input (0x00 ‖ entry) the caller laid out. */
export function leafInputHashInto(buf: Buffer, from: number, length: number, out: Buffer, at: number): void {
  out.write(hash('sha256', buf.subarray(from, from + length), 'binary'), at, 32, 'latin1');
}

/** SHA-256(0x01 ‖ left ‖ right) into out[at, at+32); left and right may lie in out. */
export function nodeHashInto(left: Buffer, leftAt: number, right: Buffer, rightAt: number, out: Buffer, at: number): void {
  nodeScratch[0] = 0x01;
  left.copy(nodeScratch, 1, leftAt, leftAt + 32);
  right.copy(nodeScratch, 33, rightAt, rightAt + 32);
  out.write(hash('sha256', nodeScratch, 'binary'), at, 32, 'latin1');
}

/**
 * The RFC 6962 root of a run of entries, hashed as the log hashes them (into one stack buffer, no Buffer per
 * hash): what "hashing the same entries alone" costs, the county log benchmark's baseline.
 */
export function rootOfEntries(entries: readonly Uint8Array[]): Buffer {
  const stack = Buffer.allocUnsafe(64 * 32);
  const has: boolean[] = [];
  const leaf = Buffer.allocUnsafe(32);
  for (let n = 0; n < entries.length; n++) {
    leafHashInto(entries[n] as Uint8Array, leaf, 0);
    let level = 0;
    let cur = leaf;
    let curAt = 0;
    for (let m = n; m % 2 === 1; m = (m - 1) / 2) {
      nodeHashInto(stack, level * 32, cur, curAt, stack, level * 32);
      has[level] = false;
      cur = stack;
      curAt = level * 32;
      level++;
    }
    cur.copy(stack, level * 32, curAt, curAt + 32);
    has[level] = true;
  }
  let root: Buffer | undefined;
  for (let l = 0; l < has.length; l++) {
    if (has[l] !== true) continue;
    if (root === undefined) root = Buffer.from(stack.subarray(l * 32, l * 32 + 32));
    else nodeHashInto(stack, l * 32, root, 0, root, 0);
  }
  return root ?? Buffer.from(hash('sha256', new Uint8Array(0), 'buffer'));
}
