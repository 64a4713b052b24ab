import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { replaceFileAtomically } from '../../../lib/durable-fs';
import { splitStoredHashIndex, TlogError, type HashReader } from '../tlog/stored-hashes';
import { c2spTilePath, hashFromTile, HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, type Tile } from '../tlog/tile';

/**
 * The log's tiles as files laid out exactly as C2SP tlog-tiles serves them (`tile/<L>/<N>[.p/<W>]`,
 * `tile/entries/<N>[.p/<W>]`), so the directory can be served by any static web server or copied to an
 * object store. Full tiles never change once written; a partial tile is written beside its wider
 * successors, so a client holding an older checkpoint still finds the width it needs.
 */
export interface TileWrite {
  readonly tile: Tile;
  /** the file's bytes, or its pieces in order (an entry bundle: length prefixes and entries, never copied into one buffer) */
  readonly data: Uint8Array | readonly Uint8Array[];
}

async function writeAndFlush(file: string, data: Uint8Array | string | readonly Uint8Array[]): Promise<void> {
  const handle = await fs.promises.open(file, 'w', 0o644);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
    else {
      const total = data.reduce((n, d) => n + d.length, 0);
      // at most IOV_MAX (1024) pieces a call; a bundle has 512
      for (let i = 0, written = 0; i < data.length; i += 1024) {
        const part = data.slice(i, i + 1024);
        const want = part.reduce((n, d) => n + d.length, 0);
        const { bytesWritten } = await handle.writev(part as Uint8Array[]);
        if (bytesWritten !== want) throw new TlogError(`${file}: wrote ${written + bytesWritten} of ${total} bytes`);
        written += bytesWritten;
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function flushDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class TileStore {
  private readonly cache = new Map<string, Uint8Array>();
  /** directories known to exist, so a batch does not ask the file system again for each tile */
  private readonly knownDirs = new Set<string>();

  constructor(readonly dir: string) {}

  /** Replaces a single file such as a checkpoint whole (temporary file, flush, rename, flush the directory). */
  writeAtomically(rel: string, data: Uint8Array | string): void {
    const file = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    replaceFileAtomically(file, data);
  }

  private remember(rel: string, data: Uint8Array): void {
    this.cache.set(rel, data);
    if (this.cache.size > 4096) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** Makes dir (and its missing parents); every directory whose entries changed is added to `changed`. */
  private ensureDir(dir: string, changed: Set<string>): void {
    if (this.knownDirs.has(dir)) return;
    const first = fs.mkdirSync(dir, { recursive: true });
    if (first !== undefined) {
      changed.add(path.dirname(first));
      for (let d = dir; d.length >= first.length; d = path.dirname(d)) changed.add(d);
    }
    this.knownDirs.add(dir);
  }

  /**
   * Writes a batch of tiles and flushes them and their directory entries, every flush of a step at once (the
   * file system commits them together: one journal commit rather than one per tile). A tile is written in
   * place, not through a temporary file: every path a batch writes names a tree larger than any checkpoint
   * signed so far (a tile's content is fixed by its path once its tree is signed), so no reader of a signed
   * tree can see one half written, and a half-written one left by a crash is rewritten whole by the next
   * batch before any checkpoint names it.
   */
  async writeDurably(writes: readonly TileWrite[]): Promise<void> {
    const dirs = new Set<string>();
    const files = writes.map((w) => {
      const rel = c2spTilePath(w.tile);
      const file = path.join(this.dir, rel);
      this.ensureDir(path.dirname(file), dirs);
      dirs.add(path.dirname(file));
      return { rel, file, data: w.data };
    });
    await Promise.all(files.map((f) => writeAndFlush(f.file, f.data)));
    await Promise.all([...dirs].map(flushDir));
    for (const f of files) if (f.data instanceof Uint8Array) this.remember(f.rel, f.data);
  }

  /** Replaces one file whole (temporary sibling, flush, rename, flush the directory) without blocking the event loop. */
  async replaceDurably(rel: string, data: string | Uint8Array): Promise<void> {
    const file = path.join(this.dir, rel);
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`);
    try {
      await writeAndFlush(tmp, data);
      await fs.promises.rename(tmp, file);
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
    await flushDir(path.dirname(file));
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

/** An entry bundle as the pieces a vectored write takes: each entry's 2-byte length, then the entry itself. */
export function bundlePieces(entries: readonly Uint8Array[]): Uint8Array[] {
  const lengths = Buffer.allocUnsafe(2 * entries.length);
  const out: Uint8Array[] = [];
  entries.forEach((e, i) => {
    if (e.length > 0xffff) throw new TlogError(`an entry of ${e.length} bytes is longer than an entry bundle allows (65,535)`);
    lengths.writeUInt16BE(e.length, 2 * i);
    out.push(lengths.subarray(2 * i, 2 * i + 2), e);
  });
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

