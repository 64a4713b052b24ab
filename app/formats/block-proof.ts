import { sha256 } from '@noble/hashes/sha256';
import type { OtsOp } from './ots';

/**
 * A transaction's place in its block: Bitcoin's merkle tree of txids (double SHA-256 of the two children's
 * internal-order bytes concatenated; a level of odd length pairs its last node with itself). RPC and block
 * explorers show txids and hashes byte-reversed ("display order"); the tree and the header use internal order.
 */

export class BlockProofError extends Error {
  override readonly name = 'BlockProofError';
}

export function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}

/** Display hex (RPC) to internal-order bytes. */
export function internalFromDisplay(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new BlockProofError(`a hash is 64 hex digits, got "${hex.slice(0, 80)}"`);
  return Uint8Array.from(Buffer.from(hex, 'hex').reverse());
}

export function displayFromInternal(bytes: Uint8Array): string {
  return Buffer.from(bytes).reverse().toString('hex');
}

function pair(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(64);
  buf.set(left, 0);
  buf.set(right, 32);
  return sha256d(buf);
}

function checkTxids(txids: readonly Uint8Array[]): void {
  if (txids.length === 0) throw new BlockProofError('a block has at least one transaction');
  const seen = new Set<string>();
  for (const t of txids) {
    if (t.length !== 32) throw new BlockProofError('a txid is 32 bytes');
    const k = Buffer.from(t).toString('hex');
    // a repeated txid is how the odd-duplication rule gets abused (CVE-2012-2459): no valid block has one
    if (seen.has(k)) throw new BlockProofError(`txid ${displayFromInternal(t)} appears twice in the block`);
    seen.add(k);
  }
}

/** The merkle root of a block from its txids (internal order), as the header carries it. */
export function blockMerkleRoot(txids: readonly Uint8Array[]): Uint8Array {
  checkTxids(txids);
  let level = txids.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const l = level[i] as Uint8Array;
      next.push(pair(l, level[i + 1] ?? l));
    }
    level = next;
  }
  return level[0] as Uint8Array;
}

export interface BranchStep {
  readonly sibling: Uint8Array;
  /** where the sibling goes: 'right' means ours is the left child (append), 'left' means prepend */
  readonly side: 'left' | 'right';
}

/** The path from txid `index` to the root: one sibling per level. */
export function merkleBranch(txids: readonly Uint8Array[], index: number): BranchStep[] {
  checkTxids(txids);
  if (!Number.isInteger(index) || index < 0 || index >= txids.length) throw new BlockProofError(`transaction ${index} is not in a block of ${txids.length}`);
  const steps: BranchStep[] = [];
  let level = txids.slice();
  let i = index;
  while (level.length > 1) {
    if (i % 2 === 0) steps.push({ sibling: level[i + 1] ?? (level[i] as Uint8Array), side: 'right' });
    else steps.push({ sibling: level[i - 1] as Uint8Array, side: 'left' });
    const next: Uint8Array[] = [];
    for (let k = 0; k < level.length; k += 2) {
      const l = level[k] as Uint8Array;
      next.push(pair(l, level[k + 1] ?? l));
    }
    level = next;
    i = Math.floor(i / 2);
  }
  return steps;
}

export function rootFromBranch(txid: Uint8Array, branch: readonly BranchStep[]): Uint8Array {
  let h = txid;
  for (const s of branch) h = s.side === 'right' ? pair(h, s.sibling) : pair(s.sibling, h);
  return h;
}

/** The branch as OpenTimestamps operations: append/prepend the sibling, then sha256 twice, per level. */
export function branchOps(branch: readonly BranchStep[]): OtsOp[] {
  const ops: OtsOp[] = [];
  for (const s of branch) {
    ops.push({ op: s.side === 'right' ? 'append' : 'prepend', arg: s.sibling });
    ops.push({ op: 'sha256' }, { op: 'sha256' });
  }
  return ops;
}

/** Where txid (display hex) sits in the block's txids (display hex), or a BlockProofError. */
export function txIndex(txids: readonly string[], txid: string): number {
  const i = txids.indexOf(txid);
  if (i < 0) throw new BlockProofError(`transaction ${txid} is not among the block's ${txids.length} transactions`);
  return i;
}
