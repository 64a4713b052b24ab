import fs from 'node:fs';
import path from 'node:path';
import { replaceFileAtomically } from '../../../lib/durable-fs';
import { EMPTY_ROOT } from '../../ledger/merkle';
import { leafInputHashInto, nodeHashInto } from '../tlog/hash-into';
import { formatCheckpoint, parseCheckpoint } from '../tlog/checkpoint';
import { openNote, signNote, type Signer } from '../tlog/note';
import { proveRecord, proveTree, splitStoredHashIndex, treeHash, treeHashIndexes, TlogError, type Hash, type HashReader } from '../tlog/stored-hashes';
import { c2spTilePath, HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, type Tile } from '../tlog/tile';
import { EntryJournal, JOURNAL_DIR } from './entry-journal';
import { FileSystemFlusher } from './fs-flusher';
import { LogLock } from './log-lock';
import { splitBundle, TileStore, type StagedReplacement, type TileWrite } from './tile-store';

/**
 * An append-only log kept as C2SP tlog-tiles files. `append` integrates a batch: the entries' bundles and
 * the changed hash tiles are written and flushed, then the log signs a checkpoint of the new size into
 * `checkpoint.staged`. What the log publishes as `checkpoint` is the staged one once witnesses have
 * cosigned it (`publish`), so no reader is shown a tree no witness has checked.
 *
 * The log keeps its right edge in memory (the root of each complete subtree on it, the hashes of each
 * level's partial tile, the entries of the partial bundle), read back from the tiles at open: an append
 * hashes each entry once and each new node once, as an RFC 6962 root of the same entries alone would, and
 * reads nothing from disk.
 */

export const STAGED = 'checkpoint.staged';
export const PUBLISHED = 'checkpoint';
/** how many entries the tiles are known to be on disk for (the journal holds the rest) */
export const SYNCED = 'tiles.synced';

export interface TileLogOptions {
  /** flush the file system (and drop the journal's older files) once this many entries are past the last flush; default 131,072 */
  readonly syncEvery?: number;
}

const DEFAULT_SYNC_EVERY = 131_072;

interface Row {
  /** room for a full tile's 256 hashes */
  readonly data: Buffer;
  w: number;
}

interface Edge {
  /** stack[32k, 32k+32): the root of the complete subtree of 2^k leaves on the right edge, when the size has bit k */
  readonly stack: Buffer;
  /** rows[L]: the hashes (tree level 8L) of level L's partial tile, fewer than 256 */
  readonly rows: Row[];
  /** the partial entry bundle's bytes (each entry's 2-byte length, then the entry), fewer than 256 entries */
  readonly bundle: Bundle;
}

interface Bundle {
  data: Buffer;
  bytes: number;
  count: number;
}

const ROW_BYTES = TILE_WIDTH * HASH_SIZE;
/** room for a bundle of 256 entries of 1 KB (a station checkpoint is about 500 bytes); a larger one grows */
const BUNDLE_BYTES = TILE_WIDTH * 1024;
/** the full bundles' buffers kept for reuse once written (a fresh 256 KB buffer is 64 page faults) */
const SPARE_BUNDLES = 64;
/** an entry bundle gives each entry a 2-byte length */
export const MAX_ENTRY_BYTES = 0xffff;

function rootOf(stack: Buffer, size: number): Hash {
  let root: Buffer | undefined;
  for (let l = 0; 2 ** l <= size; l++) {
    if (Math.floor(size / 2 ** l) % 2 === 0) continue;
    if (root === undefined) root = Buffer.from(stack.subarray(l * 32, l * 32 + 32));
    else nodeHashInto(stack, l * 32, root, 0, root, 0);
  }
  return root ?? EMPTY_ROOT;
}

/**
 * The size the tiles are known to be on disk for. A log without the file was written before the journal, when
 * every tile was flushed before its checkpoint: all of it (`legacy`: the file is written once the log opens).
 * A journal without the file is replayed from the start.
 */
function readSynced(dir: string, staged: number): { synced: number; legacy: boolean } {
  const file = path.join(dir, SYNCED);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (fs.existsSync(path.join(dir, JOURNAL_DIR))) return { synced: 0, legacy: false };
    return { synced: staged, legacy: true };
  }
  const m = /^(0|[1-9]\d{0,15})\n$/.exec(text);
  const synced = m === null ? NaN : Number(m[1]);
  if (!(Number.isSafeInteger(synced) && synced <= staged)) {
    throw new TlogError(`${file}: ${JSON.stringify(text.slice(0, 40))} is not a size of at most ${staged} (the staged checkpoint's)`);
  }
  return { synced, legacy: false };
}

/** rows are cut from slabs of this many */
const ROWS_PER_SLAB = 128;
let rowSlab = Buffer.alloc(0);
let rowSlabAt = 0;

/**
 * A row's 8 KB is cut from a shared slab, not allocated alone: an allocation of that size makes glibc's malloc
 * consolidate its small free chunks, and then every hash's own small allocations (OpenSSL's digest context) take
 * the slow path (measured: about 6% of the append's main thread with a row allocated per full tile).
 */
function newRow(): Row {
  if (rowSlabAt + ROW_BYTES > rowSlab.length) {
    rowSlab = Buffer.allocUnsafeSlow(ROW_BYTES * ROWS_PER_SLAB);
    rowSlabAt = 0;
  }
  const data = rowSlab.subarray(rowSlabAt, rowSlabAt + ROW_BYTES);
  rowSlabAt += ROW_BYTES;
  return { data, w: 0 };
}

function copyRow(r: Row): Row {
  const row = newRow();
  r.data.copy(row.data, 0, 0, r.w * HASH_SIZE);
  row.w = r.w;
  return row;
}

/**
 * A hash was written at the end of level l's row: the row's count grows and, once full, the row is a full tile
 * to write and a fresh row takes its place. (A module function over plain arrays, not a closure made per batch:
 * the append loop then keeps one optimized form for the life of the process.)
 */
function grow(rows: Row[], counts: number[], writes: TileWrite[], l: number): void {
  const row = rows[l] as Row;
  row.w++;
  const count = (counts[l] as number) + 1;
  counts[l] = count;
  if (row.w === TILE_WIDTH) {
    writes.push({ tile: { h: TILE_HEIGHT, l, n: count / TILE_WIDTH - 1, w: TILE_WIDTH }, data: row.data });
    rows[l] = newRow();
  }
}

export class TileLog {
  readonly store: TileStore;
  private treeSize: number;
  private stagedNote: string;
  private edge: Edge;
  /** what the next batch builds on: the durable state, or a batch still being written */
  private tip: { size: number; edge: Edge };
  /** the last batch handed in; the next one's checkpoint waits for it */
  private last: Promise<number> = Promise.resolve(0);
  private inFlight = 0;
  private poisoned = false;
  /** full bundles' buffers whose writes have settled, for the next batches' bundles */
  private readonly spareBundles: Buffer[] = [];
  /** set by open, before the log is handed out */
  private journal!: EntryJournal;
  /** the size up to which every tile is known to be on disk */
  private syncedSize = 0;
  private readonly syncEvery: number;
  private syncing: Promise<void> | undefined;
  /** the size at which the next flush is due (a failed one is not retried after every batch) */
  private syncDue: number;
  /** why the last flush of the file system failed (the journal keeps every entry meanwhile) */
  lastSyncError: string | undefined;
  private lock: LogLock | undefined;
  /** runs `sync -f` without forking this process each time */
  private readonly flusher: FileSystemFlusher;

  private constructor(
    readonly dir: string,
    readonly origin: string,
    private readonly signer: Signer,
    size: number,
    staged: string,
    opts: TileLogOptions,
  ) {
    this.syncEvery = opts.syncEvery ?? DEFAULT_SYNC_EVERY;
    if (!(Number.isSafeInteger(this.syncEvery) && this.syncEvery > 0)) throw new TlogError(`syncEvery: a whole number of entries above 0, not ${this.syncEvery}`);
    this.syncDue = this.syncEvery;
    this.store = new TileStore(dir);
    this.flusher = new FileSystemFlusher(dir);
    this.treeSize = size;
    this.stagedNote = staged;
    this.edge = { stack: Buffer.alloc(64 * 32), rows: [], bundle: { data: Buffer.alloc(0), bytes: 0, count: 0 } };
    this.tip = { size, edge: this.edge };
  }

  /**
   * Opens the log in dir, or starts an empty one. The staged checkpoint says how far the log goes; `tiles.synced`
   * how far its tiles are known to be on disk; the tiles after that are written again from the journal (what a
   * crash lost of them comes back), and must give the root the staged checkpoint signed. Only the log's own
   * server opens it: a command that reads it while the server runs uses `readPublished`.
   */
  static open(dir: string, origin: string, signer: Signer, opts: TileLogOptions = {}): TileLog {
    fs.mkdirSync(dir, { recursive: true });
    const lock = LogLock.acquire(dir);
    try {
      const log = TileLog.openLocked(dir, origin, signer, opts);
      log.lock = lock;
      return log;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  private static openLocked(dir: string, origin: string, signer: Signer, opts: TileLogOptions): TileLog {
    const stagedFile = path.join(dir, STAGED);
    if (!fs.existsSync(stagedFile)) {
      const log = new TileLog(dir, origin, signer, 0, '', opts);
      replaceFileAtomically(path.join(dir, SYNCED), '0\n');
      log.journal = EntryJournal.read(dir, 0, 0).open();
      log.stagedNote = log.sign(0, treeHash(0, () => []));
      log.store.writeAtomically(STAGED, log.stagedNote);
      return log;
    }
    const note = fs.readFileSync(stagedFile, 'utf8');
    // a checkpoint a crash left under its temporary name was never renamed in: nothing names it
    for (const name of fs.readdirSync(dir)) if (name.startsWith(`.${STAGED}.`) && name.endsWith('.tmp')) fs.rmSync(path.join(dir, name), { force: true });
    const opened = openNote(note, [signer]);
    if (opened instanceof TlogError) throw new TlogError(`${stagedFile}: ${opened.message}`);
    const cp = parseCheckpoint(opened.text);
    if (cp instanceof TlogError) throw new TlogError(`${stagedFile}: ${cp.message}`);
    if (cp.origin !== origin) throw new TlogError(`${dir} holds the log ${JSON.stringify(cp.origin)}, not ${JSON.stringify(origin)}`);
    const log = new TileLog(dir, origin, signer, cp.size, note, opts);
    const { synced, legacy } = readSynced(dir, cp.size);
    log.checkFullTiles(synced);
    let edge = log.readEdge(synced);
    const { replay, open } = EntryJournal.read(dir, synced, cp.size);
    log.syncedSize = synced;
    log.syncDue = synced + log.syncEvery;
    let size = synced;
    // each batch again, as it was written: the partial tiles of every checkpoint in between come back too.
    // Written only once they give the signed root: an edited journal must not overwrite good tiles.
    const rebuilt: TileWrite[][] = [];
    for (const r of replay) {
      const batch = log.integrate({ size, edge }, r.entries);
      rebuilt.push(batch.writes);
      edge = batch.edge;
      size = batch.size;
    }
    log.edge = edge;
    log.tip = { size: cp.size, edge };
    const root = rootOf(edge.stack, cp.size);
    if (!Buffer.from(root).equals(Buffer.from(cp.root))) {
      throw new TlogError(
        replay.length === 0
          ? `${dir}: the tiles do not give the root the staged checkpoint signed`
          : `${dir}: the tiles (on disk to ${synced} entries) and the journal (from ${synced} to ${cp.size}) do not give the root the staged checkpoint signed`,
      );
    }
    // only now is anything changed on disk: the tiles written again, a record past the staged checkpoint cut off
    for (const writes of rebuilt) log.store.writeUnflushed(writes);
    if (legacy) replaceFileAtomically(path.join(dir, SYNCED), `${synced}\n`);
    log.journal = open();
    return log;
  }

  /** The published (cosigned) checkpoint of the log in dir, read without opening the log (its server may be running). */
  static readPublished(dir: string): string | undefined {
    try {
      return fs.readFileSync(path.join(dir, PUBLISHED), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /**
   * Every full hash tile of a tree of `size` records is there whole. A batch's tiles are all on disk before its
   * checkpoint names them, so a short one under the staged checkpoint is a disk or an operator that lost
   * bytes: the log stops rather than sign new trees over hashes it cannot serve.
   */
  private checkFullTiles(size: number): void {
    for (let l = 0; Math.floor(size / TILE_WIDTH ** (l + 1)) > 0; l++) {
      for (let n = 0; n < Math.floor(size / TILE_WIDTH ** (l + 1)); n++) {
        const rel = c2spTilePath({ h: TILE_HEIGHT, l, n, w: TILE_WIDTH });
        let bytes: number;
        try {
          bytes = fs.statSync(path.join(this.dir, rel)).size;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          throw new TlogError(`${this.dir}: the tile ${rel} of the staged tree (${size} entries) is missing`);
        }
        if (bytes !== ROW_BYTES) throw new TlogError(`${this.dir}: the tile ${rel} of the staged tree (${size} entries) is short: ${bytes} bytes, not ${ROW_BYTES}`);
      }
    }
  }

  /** The right edge of a tree of `size` records, from its tiles. */
  private readEdge(size: number): Edge {
    // the right edge's partial tiles first: a short one is named, rather than failing the root's reading
    const rows: Row[] = [];
    for (let l = 0; Math.floor(size / TILE_WIDTH ** l) > 0; l++) {
      const count = Math.floor(size / TILE_WIDTH ** l);
      const row = newRow();
      row.w = count % TILE_WIDTH;
      if (row.w > 0) {
        const tile: Tile = { h: TILE_HEIGHT, l, n: Math.floor(count / TILE_WIDTH), w: row.w };
        const data = this.store.readTile(tile);
        if (data === undefined) throw new TlogError(`${this.dir}: the right-edge tile ${c2spTilePath(tile)} of the staged tree (${size} entries) is missing`);
        if (data.length !== row.w * HASH_SIZE) throw new TlogError(`${this.dir}: the right-edge tile ${c2spTilePath(tile)} of the staged tree (${size} entries) is short: ${data.length} bytes, not ${row.w * HASH_SIZE}`);
        row.data.set(data);
      }
      rows.push(row);
    }
    const read = this.store.hashReader(size);
    const stack = Buffer.alloc(64 * 32);
    const idx = treeHashIndexes(size);
    read(idx).forEach((h, i) => {
      const level = splitStoredHashIndex(idx[i] as number).level;
      stack.set(h, level * 32);
    });
    const bundle: Bundle = { data: Buffer.alloc(0), bytes: 0, count: size % TILE_WIDTH };
    if (bundle.count > 0) {
      const tile: Tile = { h: TILE_HEIGHT, l: -1, n: Math.floor(size / TILE_WIDTH), w: bundle.count };
      const data = this.store.readTile(tile);
      if (data === undefined) throw new TlogError(`${this.dir}: the right-edge entry bundle ${c2spTilePath(tile)} is missing`);
      try {
        splitBundle(data, bundle.count);
      } catch (e) {
        throw new TlogError(`${this.dir}: the right-edge entry bundle ${c2spTilePath(tile)} is damaged: ${(e as Error).message}`);
      }
      bundle.data = Buffer.from(data);
      bundle.bytes = data.length;
    }
    return { stack, rows, bundle };
  }

  get size(): number {
    return this.treeSize;
  }

  /** The signed checkpoint of everything integrated so far (not yet cosigned). */
  get staged(): string {
    return this.stagedNote;
  }

  reader(): HashReader {
    return this.store.hashReader(this.treeSize);
  }

  private sign(size: number, root: Hash): string {
    return signNote(formatCheckpoint({ origin: this.origin, size, root, extensions: [] }), [this.signer]);
  }

  /**
   * Integrates entries at the end of the log; resolves to the index of the first once every file is on disk
   * and the new size is signed into `checkpoint.staged`. A second batch may be handed in while the first is
   * still being flushed (its hashing overlaps the disk's work); checkpoints are written in order, each only
   * after its own tiles and the checkpoint before it. If a batch fails, so does every batch built on it, and
   * the log goes on from the last checkpoint on disk. The entries' bytes are written as handed in (not
   * copied): they must not change until the append settles.
   */
  append(entries: readonly Uint8Array[]): Promise<number> {
    if (this.poisoned) return Promise.reject(new TlogError('an earlier batch failed and batches built on it are still settling: send again shortly'));
    const old = this.tip.size;
    if (entries.length === 0) return this.last.then(() => old);
    const long = entries.findIndex((e) => e.length > MAX_ENTRY_BYTES);
    if (long >= 0) return Promise.reject(new TlogError(`entry ${long} of the batch has ${(entries[long] as Uint8Array).length} bytes, more than an entry bundle allows (65,535): nothing of the batch was written`));
    const { edge, writes, size, spent, journal } = this.integrate(this.tip, entries);
    const note = this.sign(size, rootOf(edge.stack, size));
    try {
      // into the page cache only: the journal record below is what is flushed before the checkpoint names them
      this.store.writeUnflushed(writes);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    this.tip = { size, edge };
    const journaled = this.journal.append(old, entries.length, journal).then(() => {
      this.store.stats.fsyncs++;
    });
    const staging = this.store.stageReplacement(STAGED, note);
    // settled (and so handled) whatever happens before they are awaited below
    const written = Promise.allSettled([journaled, staging]).then((outcomes) => {
      this.spareBundles.push(...spent.slice(0, SPARE_BUNDLES - this.spareBundles.length));
      return outcomes;
    });
    const prev = this.last;
    const done = (async (): Promise<number> => {
      let failure: Error | undefined;
      try {
        await prev;
      } catch (e) {
        failure = new TlogError(`the batch before this one failed (${(e as Error).message}): send again shortly`);
      }
      const [tileOutcome, stagedOutcome] = await written;
      failure ??= tileOutcome.status === 'rejected' ? (tileOutcome.reason as Error) : stagedOutcome.status === 'rejected' ? (stagedOutcome.reason as Error) : undefined;
      if (failure !== undefined) {
        if (stagedOutcome.status === 'fulfilled') await stagedOutcome.value.abort();
        throw failure;
      }
      await (stagedOutcome as PromiseFulfilledResult<StagedReplacement>).value.commit();
      this.treeSize = size;
      this.stagedNote = note;
      this.edge = edge;
      this.journal.committedTo(size);
      if (size >= this.syncDue) void this.sync();
      return old;
    })();
    this.inFlight++;
    this.last = done;
    void done.then(
      () => undefined,
      () => {
        this.poisoned = true;
      },
    ).then(() => {
      this.inFlight--;
      if (this.inFlight === 0 && this.poisoned) {
        this.poisoned = false;
        this.tip = { size: this.treeSize, edge: this.edge };
        this.last = Promise.resolve(this.treeSize);
        this.journal.reset();
      }
    });
    return done;
  }

  /**
   * Flushes the whole file system (`sync -f`, run by fs-flusher.ts's helper: one syncfs, done by the kernel's
   * writeback, rather than a flush per tile), then records the size every tile is on disk for and drops the journal files below it. The
   * journal's next record starts a new file, so the older ones can go. A failure leaves the journal as it is
   * (nothing is lost) and is kept in `lastSyncError`.
   */
  sync(): Promise<void> {
    if (this.syncing !== undefined) return this.syncing;
    const size = this.treeSize;
    if (size === this.syncedSize) return Promise.resolve();
    const journal = this.journal;
    this.syncDue = size + this.syncEvery;
    journal.startNewSegment();
    this.syncing = this.flusher.flush().then(
      () => {
        replaceFileAtomically(path.join(this.dir, SYNCED), `${size}\n`);
        this.syncedSize = size;
        this.store.stats.syncs++;
        this.lastSyncError = undefined;
        journal.dropBefore(size);
      },
      (e: Error) => {
        throw new TlogError(`flushing the file system under ${this.dir} failed (the journal keeps every entry): ${e.message.trim()}`);
      },
    ).catch((err: Error) => {
      this.lastSyncError = err.message;
    }).finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** The size every tile is known to be on disk for (the journal holds the entries after it). */
  get synced(): number {
    return this.syncedSize;
  }

  /** The journal's files, oldest first. */
  journalFiles(): string[] {
    return this.journal.files();
  }

  /** Waits for every batch handed in, flushes the tiles, closes the journal and gives up the directory's lock. */
  async close(): Promise<void> {
    await this.last.catch(() => undefined);
    await this.sync();
    this.flusher.close();
    this.journal.close();
    this.lock?.release();
  }

  private bundleBuffer(min: number): Buffer {
    const spare = this.spareBundles.pop();
    return spare !== undefined && spare.length >= min ? spare : Buffer.allocUnsafe(Math.max(min, BUNDLE_BYTES));
  }

  /**
   * The new right edge and the files a batch writes; the log's own state is untouched until they are on disk.
   * `spent`: the full bundles' buffers, free again once the batch's writes have settled.
   */
  private integrate(from: { size: number; edge: Edge }, entries: readonly Uint8Array[]): { edge: Edge; writes: TileWrite[]; size: number; spent: Buffer[]; journal: Buffer[] } {
    const old = from.size;
    const stack = Buffer.from(from.edge.stack);
    const rows: Row[] = from.edge.rows.map(copyRow);
    // the partial bundle goes on filling in a copy: the edge's own stays as it is until this batch is on disk
    const prior = from.edge.bundle;
    let bundle: Bundle = { data: this.bundleBuffer(prior.bytes), bytes: prior.bytes, count: prior.count };
    prior.data.copy(bundle.data, 0, 0, prior.bytes);
    const spent: Buffer[] = [];
    const writes: TileWrite[] = [];
    // the batch's entries in bundle encoding, as the journal records them: the bundles' own bytes, from where
    // this batch began filling them
    const journal: Buffer[] = [];
    let journalFrom = prior.bytes;
    const size = old + entries.length;
    // every level the new size reaches has its row, and counts[L] how many hashes level L holds, so a row that
    // fills names its tile
    const counts: number[] = [];
    for (let l = 0; Math.floor(size / TILE_WIDTH ** l) > 0; l++) {
      if (rows[l] === undefined) rows[l] = newRow();
      counts.push(Math.floor(old / TILE_WIDTH ** l));
    }
    for (let k = 0; k < entries.length; k++) {
      const n = old + k;
      const e = entries[k] as Uint8Array;
      const len = e.length;
      if (bundle.bytes + 2 + len > bundle.data.length) {
        const bigger = Buffer.allocUnsafe(Math.max(2 * bundle.data.length, bundle.bytes + 2 + len));
        bundle.data.copy(bigger, 0, 0, bundle.bytes);
        bundle.data = bigger;
      }
      // the entry goes into the bundle after its length's two bytes; the second, for now 0x00, makes the bundle's
      // bytes the leaf hash's input (0x00 ‖ entry) without a copy of its own
      const at = bundle.bytes;
      bundle.data[at + 1] = 0x00;
      bundle.data.set(e, at + 2);
      // the leaf hash goes straight into its place in the level-0 tile
      const row0 = rows[0] as Row;
      let cur = row0.data;
      let curAt = row0.w * HASH_SIZE;
      leafInputHashInto(bundle.data, at + 1, len + 1, cur, curAt);
      bundle.data[at] = len >>> 8;
      bundle.data[at + 1] = len & 0xff;
      bundle.bytes += 2 + len;
      bundle.count++;
      if (bundle.count === TILE_WIDTH) {
        writes.push({ tile: { h: TILE_HEIGHT, l: -1, n: (n + 1) / TILE_WIDTH - 1, w: TILE_WIDTH }, data: bundle.data.subarray(0, bundle.bytes) });
        journal.push(bundle.data.subarray(journalFrom, bundle.bytes));
        journalFrom = 0;
        spent.push(bundle.data);
        bundle = { data: this.bundleBuffer(0), bytes: 0, count: 0 };
      }
      grow(rows, counts, writes, 0);
      // carry: every subtree this leaf completes, each a node of the stack's root and the hash below
      let level = 0;
      for (let m = n; m % 2 === 1; m = (m - 1) / 2) {
        nodeHashInto(stack, level * HASH_SIZE, cur, curAt, stack, level * HASH_SIZE);
        cur = stack;
        curAt = level * HASH_SIZE;
        level++;
        if (level % TILE_HEIGHT === 0) {
          const l = level / TILE_HEIGHT;
          const row = rows[l] as Row;
          cur.copy(row.data, row.w * HASH_SIZE, curAt, curAt + HASH_SIZE);
          grow(rows, counts, writes, l);
        }
      }
      cur.copy(stack, level * HASH_SIZE, curAt, curAt + HASH_SIZE);
    }
    // the partial tiles of the new size, beside the full ones (older partials stay for older checkpoints). The
    // partial bundle's bytes are never changed (the next batch fills a copy); a partial row is copied, as it
    // goes on filling in this batch's edge.
    if (bundle.count > 0) writes.push({ tile: { h: TILE_HEIGHT, l: -1, n: Math.floor(size / TILE_WIDTH), w: bundle.count }, data: bundle.data.subarray(0, bundle.bytes) });
    if (bundle.bytes > journalFrom) journal.push(bundle.data.subarray(journalFrom, bundle.bytes));
    rows.forEach((row, l) => {
      const changed = Math.floor(old / TILE_WIDTH ** l) !== Math.floor(size / TILE_WIDTH ** l);
      if (changed && row.w > 0) writes.push({ tile: { h: TILE_HEIGHT, l, n: Math.floor(size / TILE_WIDTH ** (l + 1)), w: row.w }, data: Buffer.from(row.data.subarray(0, row.w * HASH_SIZE)) });
    });
    return { edge: { stack, rows, bundle }, writes, size, spent, journal };
  }

  /** Publishes a cosigned copy of the staged checkpoint (the caller checked the quorum). */
  publish(cosignedNote: string): void {
    this.store.writeAtomically(PUBLISHED, cosignedNote);
  }

  published(): string | undefined {
    return TileLog.readPublished(this.dir);
  }

  /** The size of the published checkpoint (signed by this log), if one is published. */
  publishedSize(): number | undefined {
    const note = this.published();
    if (note === undefined) return undefined;
    const opened = openNote(note, [this.signer]);
    const cp = opened instanceof TlogError ? opened : parseCheckpoint(opened.text);
    if (cp instanceof TlogError) throw new TlogError(`${path.join(this.dir, PUBLISHED)}: ${cp.message}`);
    return cp.size;
  }

  inclusionProof(index: number, size = this.treeSize): Hash[] {
    return proveRecord(size, index, this.store.hashReader(size));
  }

  consistencyProof(oldSize: number, size = this.treeSize): Hash[] {
    return oldSize === 0 ? [] : proveTree(size, oldSize, this.store.hashReader(size));
  }
}
