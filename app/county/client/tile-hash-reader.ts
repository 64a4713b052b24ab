import { nodeHash, storedHashIndex, treeHashIndexes, TlogError, type Hash } from '../tlog/stored-hashes';
import { hashFromTile, HASH_SIZE, tileForIndex, c2spTilePath, type Tile } from '../tlog/tile';

/**
 * A reader of stored hashes from tiles fetched from an untrusted server, authenticated against a tree
 * (size and root) the caller trusts: the tiles on the tree's right edge must give its root, and every other
 * tile must hash to the entry its parent tile holds for it. A port of Go's sumdb/tlog tileHashReader
 * (BSD-3-Clause), the behaviour C2SP tlog-tiles clients follow; nothing the server sends is used unchecked.
 */

export type TileFetcher = (tiles: readonly Tile[]) => Promise<Uint8Array[]>;

const H = 8;

/** The tile `k` levels of tiles above t, cut to the width a tree of n records has (undefined if none yet). */
function tileParent(t: Tile, k: number, n: number): Tile | undefined {
  const l = t.l + k;
  const tn = Math.floor(t.n / 2 ** (k * t.h));
  let w = 2 ** t.h;
  const max = Math.floor(n / 2 ** (l * t.h));
  if (tn * 2 ** t.h + w >= max) {
    if (tn * 2 ** t.h >= max) return undefined;
    w = max - tn * 2 ** t.h;
  }
  return { h: t.h, l, n: tn, w };
}

function tileHash(data: Uint8Array): Hash {
  if (data.length === HASH_SIZE) return data;
  const half = data.length / 2;
  return nodeHash(tileHash(data.subarray(0, half)), tileHash(data.subarray(half)));
}

const key = (t: Tile): string => c2spTilePath(t);
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

export async function readAuthenticatedHashes(tree: { size: number; root: Hash }, indexes: readonly number[], fetchTiles: TileFetcher): Promise<Hash[]> {
  const order = new Map<string, number>();
  const tiles: Tile[] = [];
  const add = (t: Tile): number => {
    const k = key(t);
    const have = order.get(k);
    if (have !== undefined) return have;
    order.set(k, tiles.length);
    tiles.push(t);
    return tiles.length - 1;
  };

  // the tiles holding the right edge's subtree roots: together they must give the trusted root
  const stx = treeHashIndexes(tree.size);
  const stxOrder = stx.map((x) => add(tileParent(tileForIndex(H, x), 0, tree.size) as Tile));
  const edgeCount = tiles.length;

  const indexOrder: number[] = [];
  for (const x of indexes) {
    if (x >= storedHashIndex(0, tree.size)) throw new TlogError(`stored hash ${x} is not in a tree of ${tree.size}`);
    const tile = tileForIndex(H, x);
    // climb until a tile already wanted (ultimately an edge tile) covers this one; want each step down
    let k = 0;
    for (; ; k++) {
      const p = tileParent(tile, k, tree.size);
      if (p === undefined) throw new TlogError('bad tile arithmetic: no parent');
      if (order.has(key(p))) {
        if (k === 0) indexOrder.push(order.get(key(p)) as number);
        break;
      }
    }
    for (k--; k >= 0; k--) {
      const p = tileParent(tile, k, tree.size) as Tile;
      if (p.w !== 2 ** p.h) throw new TlogError(`bad tile arithmetic for ${x} in a tree of ${tree.size}`);
      const at = add(p);
      if (k === 0) indexOrder.push(at);
    }
  }

  const data = await fetchTiles(tiles);
  if (data.length !== tiles.length) throw new TlogError(`asked for ${tiles.length} tiles, got ${data.length}`);
  tiles.forEach((t, i) => {
    if ((data[i] as Uint8Array).length !== t.w * HASH_SIZE) throw new TlogError(`tile ${key(t)} has ${(data[i] as Uint8Array).length} bytes, not ${t.w * HASH_SIZE}`);
  });

  let th = hashFromTile(tiles[stxOrder[stx.length - 1] as number] as Tile, data[stxOrder[stx.length - 1] as number] as Uint8Array, stx[stx.length - 1] as number);
  for (let i = stx.length - 2; i >= 0; i--) {
    th = nodeHash(hashFromTile(tiles[stxOrder[i] as number] as Tile, data[stxOrder[i] as number] as Uint8Array, stx[i] as number), th);
  }
  if (!same(th, tree.root)) throw new TlogError('the server sent tiles that do not give the checkpoint\'s root');
  for (let i = edgeCount; i < tiles.length; i++) {
    const t = tiles[i] as Tile;
    const p = tileParent(t, 1, tree.size) as Tile;
    const j = order.get(key(p));
    if (j === undefined) throw new TlogError(`bad tile arithmetic: lost the parent of ${key(t)}`);
    const want = hashFromTile(p, data[j] as Uint8Array, storedHashIndex(p.l * p.h, t.n));
    if (!same(want, tileHash(data[i] as Uint8Array))) throw new TlogError(`the server sent a tile ${key(t)} its parent does not vouch for`);
  }
  return indexes.map((x, i) => hashFromTile(tiles[indexOrder[i] as number] as Tile, data[indexOrder[i] as number] as Uint8Array, x));
}
