import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, replaceFileAtomically } from '../../../lib/durable-fs';
import { splitStoredHashIndex, TlogError, type HashReader } from '../tlog/stored-hashes';
import { c2spTilePath, hashFromTile, HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, type Tile } from '../tlog/tile';

/**
 * The log's tiles as files laid out exactly as C2SP tlog-tiles serves them (`tile/<L>/<N>[.p/<W>]`,
 * `tile/entries/<N>[.p/<W>]`), so the directory can be served by any static web server or copied to an
 * object store. Full tiles never change once written; a partial tile is written beside its wider
 * successors, so a client holding an older checkpoint still finds the width it needs.
 */
export class TileStore {
  private readonly cache = new Map<string, Uint8Array>();

  constructor(readonly dir: string) {}

  private readonly unsyncedDirs = new Set<string>();

  /**
   * Writes a file whole (temp, fsync, rename): a reader never sees half a tile. The directory entry is made
   * durable by `sync()`, once per directory for a whole batch (a batch touches hundreds of tiles).
   */
  writeWhole(rel: string, data: Uint8Array | string): void {
    const file = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    replaceFileAtomically(file, data, { syncDir: false });
    for (let d = path.dirname(file); d.length >= this.dir.length; d = path.dirname(d)) this.unsyncedDirs.add(d);
  }

  /** Flushes the directory entries of everything written since the last sync. */
  sync(): void {
    for (const d of this.unsyncedDirs) fsyncDir(d);
    this.unsyncedDirs.clear();
  }

  /** writeWhole, then sync: for a single file such as a checkpoint. */
  writeAtomically(rel: string, data: Uint8Array | string): void {
    this.writeWhole(rel, data);
    this.sync();
  }

  writeTile(tile: Tile, data: Uint8Array): void {
    const rel = c2spTilePath(tile);
    this.writeWhole(rel, data);
    this.cache.set(rel, data);
    if (this.cache.size > 4096) this.cache.delete(this.cache.keys().next().value as string);
  }

  readTile(tile: Tile): Uint8Array | undefined {
    const rel = c2spTilePath(tile);
    const hit = this.cache.get(rel);
    if (hit !== undefined) return hit;
    try {
      const data = new Uint8Array(fs.readFileSync(path.join(this.dir, rel)));
      this.cache.set(rel, data);
      return data;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** The tile of level l, number n, as it stands in a tree of `size` records (full, or partial at that width). */
  tileAt(size: number, l: number, n: number): Tile {
    const row = Math.floor(size / 2 ** (TILE_HEIGHT * l));
    const w = Math.min(TILE_WIDTH, row - n * TILE_WIDTH);
    if (w <= 0) throw new TlogError(`tile ${l}/${n} is beyond a tree of ${size}`);
    return { h: TILE_HEIGHT, l, n, w };
  }

  /** Stored hashes of a tree of `size` records, read from its tiles. */
  hashReader(size: number): HashReader {
    return (indexes) =>
      indexes.map((index) => {
        const { level, n } = splitStoredHashIndex(index);
        const l = Math.floor(level / TILE_HEIGHT);
        const tn = Math.floor((n * 2 ** (level - l * TILE_HEIGHT)) / TILE_WIDTH);
        const tile = this.tileAt(size, l, tn);
        const data = this.readTile(tile);
        if (data === undefined) throw new TlogError(`tile ${c2spTilePath(tile)} is missing from ${this.dir}`);
        if (data.length !== tile.w * HASH_SIZE) throw new TlogError(`tile ${c2spTilePath(tile)} has ${data.length} bytes, not ${tile.w * HASH_SIZE}`);
        return hashFromTile(tile, data, index);
      });
  }

  /** The entries of bundle n as it stands in a tree of `size` records (each entry a 2-byte length and its bytes). */
  readEntries(size: number, n: number): Uint8Array[] {
    const tile = this.tileAt(size, 0, n);
    const data = this.readTile({ ...tile, l: -1 });
    if (data === undefined) throw new TlogError(`entry bundle ${n} is missing from ${this.dir}`);
    return splitBundle(data, tile.w);
  }
}

export function bundleEntries(entries: readonly Uint8Array[]): Uint8Array {
  const out = Buffer.alloc(entries.reduce((s, e) => s + 2 + e.length, 0));
  let at = 0;
  for (const e of entries) {
    if (e.length > 0xffff) throw new TlogError(`an entry of ${e.length} bytes is longer than an entry bundle allows (65,535)`);
    out.writeUInt16BE(e.length, at);
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/** The entries of a bundle; `count` (when known) is how many it must hold. */
export function splitBundle(data: Uint8Array, count: number | undefined): Uint8Array[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 2 > buf.length) throw new TlogError('an entry bundle ends inside a length');
    const len = buf.readUInt16BE(at);
    if (at + 2 + len > buf.length) throw new TlogError('an entry bundle ends inside an entry');
    out.push(new Uint8Array(buf.subarray(at + 2, at + 2 + len)));
    at += 2 + len;
  }
  if (count !== undefined && out.length !== count) throw new TlogError(`an entry bundle holds ${out.length} entries, not ${count}`);
  return out;
}

