import { nodeHash, splitStoredHashIndex, storedHashIndex, TlogError, type Hash, type HashReader } from './stored-hashes';

/**
 * Tiles of the log's stored hashes (golang.org/x/mod/sumdb/tlog's tile.go, BSD-3-Clause) and their paths.
 * A tile of height H at level L, number N, lists W consecutive hashes at tree level H·L starting at hash
 * N·2^H; a full tile has W = 2^H. C2SP tlog-tiles fixes H = 8 and drops it from the path
 * (`tile/<L>/<N>[.p/<W>]`, entry bundles at `tile/entries/<N>[.p/<W>]`); Go's sumdb keeps it
 * (`tile/<H>/<L>/<N>[.p/<W>]`, `data` for level -1). Both are written and read here; the log serves C2SP's.
 */

export const HASH_SIZE = 32;
/** C2SP tlog-tiles: every tile is 2^8 = 256 hashes (or entries) wide when full. */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;

export interface Tile {
  readonly h: number;
  /** level in the tiling; -1 is the entry bundle (Go's `data`, C2SP's `entries`) */
  readonly l: number;
  readonly n: number;
  readonly w: number;
}

function tileForIndexWithRange(h: number, index: number): { tile: Tile; start: number; end: number } {
  const split = splitStoredHashIndex(index);
  let level = split.level;
  let n = split.n;
  const l = Math.floor(level / h);
  level -= l * h;
  const tn = Math.floor((n * 2 ** level) / 2 ** h);
  n -= (tn * 2 ** h) / 2 ** level;
  const w = (n + 1) * 2 ** level;
  return { tile: { h, l, n: tn, w }, start: n * 2 ** level * HASH_SIZE, end: (n + 1) * 2 ** level * HASH_SIZE };
}

/** The smallest tile holding the stored hash `index` (it may be a partial tile). */
export function tileForIndex(h: number, index: number): Tile {
  if (!(h >= 1 && h <= 30)) throw new TlogError(`invalid tile height ${h}`);
  return tileForIndexWithRange(h, index).tile;
}

function tileHash(data: Uint8Array): Hash {
  if (data.length === HASH_SIZE) return data;
  const half = data.length / 2;
  return nodeHash(tileHash(data.subarray(0, half)), tileHash(data.subarray(half)));
}

/** The stored hash `index` computed from the data of tile t (hashes above the tile's row are built from it). */
export function hashFromTile(t: Tile, data: Uint8Array, index: number): Hash {
  if (t.h < 1 || t.h > 30 || t.l < 0 || t.l >= 64 || t.w < 1 || t.w > 2 ** t.h) {
    throw new TlogError(`invalid tile ${goTilePath(t)}`);
  }
  if (data.length < t.w * HASH_SIZE) throw new TlogError(`${data.length} bytes are too few for tile ${goTilePath(t)}`);
  const { tile, start, end } = tileForIndexWithRange(t.h, index);
  if (t.l !== tile.l || t.n !== tile.n || t.w < tile.w) {
    throw new TlogError(`stored hash ${index} is in ${goTilePath(tile)}, not ${goTilePath(t)}`);
  }
  return new Uint8Array(tileHash(data.subarray(start, end)));
}

/** The tiles that change when the tree grows from oldSize to newSize records, bottom level first. */
export function newTiles(h: number, oldSize: number, newSize: number): Tile[] {
  const tiles: Tile[] = [];
  const full = 2 ** h;
  for (let level = 0; Math.floor(newSize / 2 ** (h * level)) > 0; level++) {
    const oldN = Math.floor(oldSize / 2 ** (h * level));
    const newN = Math.floor(newSize / 2 ** (h * level));
    if (oldN === newN) continue;
    for (let n = Math.floor(oldN / full); n < Math.floor(newN / full); n++) tiles.push({ h, l: level, n, w: full });
    const n = Math.floor(newN / full);
    const w = newN - n * full;
    if (w > 0) tiles.push({ h, l: level, n, w });
  }
  return tiles;
}

/** The bytes of tile t: its W hashes, read from the log's stored hashes. */
export function readTileData(t: Tile, read: HashReader): Uint8Array {
  const start = t.n * 2 ** t.h;
  const indexes: number[] = [];
  for (let i = 0; i < t.w; i++) indexes.push(storedHashIndex(t.h * t.l, start + i));
  const hashes = read(indexes);
  if (hashes.length !== indexes.length) throw new TlogError(`read ${hashes.length} hashes for tile of ${t.w}`);
  const out = new Uint8Array(t.w * HASH_SIZE);
  hashes.forEach((hash, i) => out.set(hash, i * HASH_SIZE));
  return out;
}

/** N in 3-digit groups, every group but the last prefixed with 'x' (1234067 → x001/x234/067). */
export function tileIndexPath(n: number): string {
  let s = String(n % 1000).padStart(3, '0');
  for (let m = Math.floor(n / 1000); m > 0; m = Math.floor(m / 1000)) s = `x${String(m % 1000).padStart(3, '0')}/${s}`;
  return s;
}

function partial(t: Tile): string {
  return t.w === 2 ** t.h ? '' : `.p/${t.w}`;
}

/** Go sumdb's path: tile/H/L/N[.p/W], `data` for the entry level. */
export function goTilePath(t: Tile): string {
  return `tile/${t.h}/${t.l === -1 ? 'data' : t.l}/${tileIndexPath(t.n)}${partial(t)}`;
}

/** C2SP tlog-tiles' path: tile/L/N[.p/W] for hashes, tile/entries/N[.p/W] for entry bundles (H = 8). */
export function c2spTilePath(t: Tile): string {
  if (t.h !== TILE_HEIGHT) throw new TlogError(`C2SP tiles have height ${TILE_HEIGHT}, not ${t.h}`);
  return `tile/${t.l === -1 ? 'entries' : t.l}/${tileIndexPath(t.n)}${partial(t)}`;
}

function parseIndexAndWidth(parts: string[], full: number): { n: number; w: number } | undefined {
  let w = full;
  const dotP = parts[parts.length - 2];
  if (dotP !== undefined && dotP.endsWith('.p')) {
    const ww = /^[1-9]\d*$/.test(parts[parts.length - 1] ?? '') ? Number(parts[parts.length - 1]) : NaN;
    if (!(ww > 0 && ww < full)) return undefined;
    w = ww;
    parts = [...parts.slice(0, -2), dotP.slice(0, -2)];
  }
  let n = 0;
  for (const s of parts) {
    if (!/^x?\d{3}$/.test(s)) return undefined;
    n = n * 1000 + Number(s.replace(/^x/, ''));
  }
  if (!Number.isSafeInteger(n)) return undefined;
  return { n, w };
}

/** Parses either path form; only the canonical spelling of a tile is accepted (so a cache key is unique). */
export function parseTilePath(path: string, form: 'go' | 'c2sp'): Tile | TlogError {
  const bad = new TlogError(`malformed tile path ${JSON.stringify(path)}`);
  const f = path.split('/');
  if (f[0] !== 'tile') return bad;
  let h: number;
  let rest: string[];
  if (form === 'go') {
    if (f.length < 4 || !/^[1-9]\d?$/.test(f[1] ?? '')) return bad;
    h = Number(f[1]);
    if (h > 30) return bad;
    rest = f.slice(2);
  } else {
    if (f.length < 3) return bad;
    h = TILE_HEIGHT;
    rest = f.slice(1);
  }
  const levelWord = rest[0] ?? '';
  const entryWord = form === 'go' ? 'data' : 'entries';
  const l = levelWord === entryWord ? -1 : /^(0|[1-9]\d?)$/.test(levelWord) ? Number(levelWord) : NaN;
  if (Number.isNaN(l) || l > 63) return bad;
  const nw = parseIndexAndWidth(rest.slice(1), 2 ** h);
  if (nw === undefined) return bad;
  const tile: Tile = { h, l, n: nw.n, w: nw.w };
  return (form === 'go' ? goTilePath(tile) : c2spTilePath(tile)) === path ? tile : bad;
}
