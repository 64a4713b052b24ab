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
  /** the file's bytes, or its pieces in order */
  readonly data: Uint8Array | readonly Uint8Array[];
}

/** What the store has written since it was opened (the append benchmark prints it). */
export interface StoreStats {
  files: number;
  bytes: number;
  fsyncs: number;
  /** flushes of the whole file system (`sync -f`) */
  syncs: number;
}

// The write path uses fs's callback calls on plain descriptors: a batch writes dozens of files a few
// milliseconds apart, and a FileHandle (an object tracked until closed, a promise per step) cost more of the
// main thread than the hashing of the batch's entries.
const openFd = (file: string, flags: string): Promise<number> =>
  new Promise((resolve, reject) => fs.open(file, flags, 0o644, (e, fd) => (e === null ? resolve(fd) : reject(e))));
const fsyncFd = (fd: number): Promise<void> => new Promise((resolve, reject) => fs.fsync(fd, (e) => (e === null ? resolve() : reject(e))));
const closeFd = (fd: number): Promise<void> => new Promise((resolve, reject) => fs.close(fd, (e) => (e === null ? resolve() : reject(e))));
const writeFd = (fd: number, data: Uint8Array): Promise<number> =>
  new Promise((resolve, reject) => fs.write(fd, data, 0, data.length, null, (e, n) => (e === null ? resolve(n) : reject(e))));

function byteLength(data: Uint8Array | string | readonly Uint8Array[]): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof Uint8Array) return data.length;
  let n = 0;
  for (const d of data) n += d.length;
  return n;
}

/** Writes all of data at the descriptor's position; a short write is an error (a full disk), never a short file signed. */
async function writeAll(fd: number, file: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let written = 0;
  while (written < bytes.length) {
    const n = await writeFd(fd, bytes.subarray(written));
    if (n === 0) break;
    written += n;
  }
  if (written !== bytes.length) throw new TlogError(`${file}: wrote ${written} of ${bytes.length} bytes`);
}

function writeAllSync(fd: number, file: string, data: Uint8Array | readonly Uint8Array[]): void {
  const parts = data instanceof Uint8Array ? [data] : data;
  const total = byteLength(parts);
  let written = 0;
  for (const part of parts) {
    let at = 0;
    while (at < part.length) {
      const n = fs.writeSync(fd, part, at, part.length - at);
      if (n === 0) throw new TlogError(`${file}: wrote ${written + at} of ${total} bytes`);
      at += n;
    }
    written += part.length;
  }
}

/** Writes an opened file's bytes, flushes them and closes it (closed whatever happens). */
async function fillAndFlush(fd: number, file: string, data: Uint8Array | string, stats: StoreStats): Promise<void> {
  try {
    await writeAll(fd, file, data);
    await fsyncFd(fd);
    stats.files++;
    stats.fsyncs++;
    stats.bytes += byteLength(data);
  } finally {
    await closeFd(fd);
  }
}

/** Flushes a directory's entries (a file made or renamed in it) without blocking the event loop. */
export async function flushDir(dir: string): Promise<void> {
  const fd = await openFd(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}

/** A file written and flushed under a temporary name, to be renamed over its destination later (or dropped). */
export interface StagedReplacement {
  /** renames it over the destination and flushes the directory */
  commit(): Promise<void>;
  /** removes the temporary file */
  abort(): Promise<void>;
}

export class TileStore {
  readonly stats: StoreStats = { files: 0, bytes: 0, fsyncs: 0, syncs: 0 };
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

  /** Makes dir (and its missing parents), once per directory for the life of the store. */
  private ensureDir(dir: string): void {
    if (this.knownDirs.has(dir)) return;
    fs.mkdirSync(dir, { recursive: true });
    this.knownDirs.add(dir);
  }

  /**
   * Writes a batch of tiles without flushing them: the batch's entries are in the journal, flushed, and what a
   * crash loses of these files is rebuilt from it at open (tile-log.ts). A tile is written in place, not through a
   * temporary file: every path a batch writes names a tree larger than any checkpoint signed so far (a tile's
   * content is fixed by its path once its tree is signed), so no reader of a signed tree can see one half
   * written. Synchronous: a batch writes a few dozen files, and one call each costs less of the process than
   * handing each open, write and close to the thread pool.
   */
  writeUnflushed(writes: readonly TileWrite[]): void {
    for (const w of writes) {
      const rel = c2spTilePath(w.tile);
      const file = path.join(this.dir, rel);
      this.ensureDir(path.dirname(file));
      const fd = fs.openSync(file, 'w', 0o644);
      try {
        writeAllSync(fd, file, w.data);
      } finally {
        fs.closeSync(fd);
      }
      this.stats.files++;
      this.stats.bytes += byteLength(w.data);
      // hash tiles are kept for proofs; an entry bundle's buffer is the log's to reuse, and bundles are read once
      if (w.data instanceof Uint8Array && w.tile.l >= 0) this.remember(rel, w.data);
    }
  }

  /**
   * Writes and flushes the new content of `rel` under a temporary name now (beside a batch's tiles, so it
   * costs the batch no round of flushes of its own); `commit` renames it into place once whatever it names
   * is on disk.
   */
  async stageReplacement(rel: string, data: string | Uint8Array): Promise<StagedReplacement> {
    const file = path.join(this.dir, rel);
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`);
    const abort = (): Promise<void> => fs.promises.rm(tmp, { force: true });
    try {
      await fillAndFlush(await openFd(tmp, 'w'), tmp, data, this.stats);
    } catch (e) {
      await abort();
      throw e;
    }
    return {
      commit: async () => {
        try {
          await fs.promises.rename(tmp, file);
        } catch (e) {
          await abort();
          throw e;
        }
        await flushDir(path.dirname(file));
        this.stats.fsyncs++;
      },
      abort,
    };
  }

  /** Replaces one file whole (temporary sibling, flush, rename, flush the directory) without blocking the event loop. */
  async replaceDurably(rel: string, data: string | Uint8Array): Promise<void> {
    await (await this.stageReplacement(rel, data)).commit();
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
    try {
      return splitBundle(data, tile.w);
    } catch (e) {
      throw new TlogError(`${this.dir}: the entry bundle ${c2spTilePath({ ...tile, l: -1 })} is damaged: ${(e as Error).message}`);
    }
  }
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

