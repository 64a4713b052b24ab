import fs from 'node:fs';
import path from 'node:path';
import { EMPTY_ROOT } from '../../ledger/merkle';
import { leafHashInto, nodeHashInto } from '../tlog/hash-into';
import { formatCheckpoint, parseCheckpoint } from '../tlog/checkpoint';
import { openNote, signNote, type Signer } from '../tlog/note';
import { proveRecord, proveTree, splitStoredHashIndex, treeHash, treeHashIndexes, TlogError, type Hash, type HashReader } from '../tlog/stored-hashes';
import { c2spTilePath, HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, type Tile } from '../tlog/tile';
import { bundlePieces, TileStore, type TileWrite } from './tile-store';

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

interface Row {
  /** room for a full tile's 256 hashes */
  readonly data: Buffer;
  w: number;
}

interface Edge {
  /** stack[32k, 32k+32): the root of the complete subtree of 2^k leaves on the right edge, when has[k] (the size has bit k) */
  readonly stack: Buffer;
  readonly has: boolean[];
  /** rows[L]: the hashes (tree level 8L) of level L's partial tile, fewer than 256 */
  readonly rows: Row[];
  /** the entries of the partial entry bundle */
  readonly bundle: Uint8Array[];
}

const ROW_BYTES = TILE_WIDTH * HASH_SIZE;

function rootOf(edge: Pick<Edge, 'stack' | 'has'>): Hash {
  let root: Buffer | undefined;
  edge.has.forEach((has, l) => {
    if (!has) return;
    if (root === undefined) root = Buffer.from(edge.stack.subarray(l * 32, l * 32 + 32));
    else nodeHashInto(edge.stack, l * 32, root, 0, root, 0);
  });
  return root ?? EMPTY_ROOT;
}

function newRow(): Row {
  return { data: Buffer.allocUnsafe(ROW_BYTES), w: 0 };
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

  private constructor(
    readonly dir: string,
    readonly origin: string,
    private readonly signer: Signer,
    size: number,
    staged: string,
  ) {
    this.store = new TileStore(dir);
    this.treeSize = size;
    this.stagedNote = staged;
    this.edge = { stack: Buffer.alloc(64 * 32), has: [], rows: [], bundle: [] };
    this.tip = { size, edge: this.edge };
  }

  /** Opens the log in dir, or starts an empty one; the staged checkpoint says how far the tiles are good. */
  static open(dir: string, origin: string, signer: Signer): TileLog {
    fs.mkdirSync(dir, { recursive: true });
    const stagedFile = path.join(dir, STAGED);
    if (!fs.existsSync(stagedFile)) {
      const log = new TileLog(dir, origin, signer, 0, '');
      log.stagedNote = log.sign(0, treeHash(0, () => []));
      log.store.writeAtomically(STAGED, log.stagedNote);
      return log;
    }
    const note = fs.readFileSync(stagedFile, 'utf8');
    const opened = openNote(note, [signer]);
    if (opened instanceof TlogError) throw new TlogError(`${stagedFile}: ${opened.message}`);
    const cp = parseCheckpoint(opened.text);
    if (cp instanceof TlogError) throw new TlogError(`${stagedFile}: ${cp.message}`);
    if (cp.origin !== origin) throw new TlogError(`${dir} holds the log ${JSON.stringify(cp.origin)}, not ${JSON.stringify(origin)}`);
    const log = new TileLog(dir, origin, signer, cp.size, note);
    log.edge = log.readEdge(cp.size);
    log.tip = { size: cp.size, edge: log.edge };
    const root = rootOf(log.edge);
    if (!Buffer.from(root).equals(Buffer.from(cp.root))) throw new TlogError(`${dir}: the tiles do not give the root the staged checkpoint signed`);
    return log;
  }

  /** The right edge of a tree of `size` records, from its tiles. */
  private readEdge(size: number): Edge {
    const read = this.store.hashReader(size);
    const stack = Buffer.alloc(64 * 32);
    const has: boolean[] = [];
    const idx = treeHashIndexes(size);
    read(idx).forEach((h, i) => {
      const level = splitStoredHashIndex(idx[i] as number).level;
      stack.set(h, level * 32);
      has[level] = true;
    });
    const rows: Row[] = [];
    for (let l = 0; Math.floor(size / TILE_WIDTH ** l) > 0; l++) {
      const count = Math.floor(size / TILE_WIDTH ** l);
      const row = newRow();
      row.w = count % TILE_WIDTH;
      if (row.w > 0) {
        const tile: Tile = { h: TILE_HEIGHT, l, n: Math.floor(count / TILE_WIDTH), w: row.w };
        const data = this.store.readTile(tile);
        if (data === undefined || data.length !== row.w * HASH_SIZE) throw new TlogError(`${this.dir}: the right-edge tile ${c2spTilePath(tile)} is missing or short`);
        row.data.set(data);
      }
      rows.push(row);
    }
    const bundle = size % TILE_WIDTH === 0 ? [] : this.store.readEntries(size, Math.floor(size / TILE_WIDTH));
    return { stack, has, rows, bundle };
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
    const { edge, writes, size } = this.integrate(this.tip, entries);
    const note = this.sign(size, rootOf(edge));
    this.tip = { size, edge };
    // the tiles are written and flushed at once; the signed size names them only once they are on disk
    const tiles = this.store.writeDurably(writes);
    const prev = this.last;
    const done = (async (): Promise<number> => {
      try {
        await prev;
      } catch (e) {
        await tiles.catch(() => undefined);
        throw new TlogError(`the batch before this one failed (${(e as Error).message}): send again shortly`);
      }
      await tiles;
      await this.store.replaceDurably(STAGED, note);
      this.treeSize = size;
      this.stagedNote = note;
      this.edge = edge;
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
      }
    });
    return done;
  }

  /** The new right edge and the files a batch writes; the log's own state is untouched until they are on disk. */
  private integrate(from: { size: number; edge: Edge }, entries: readonly Uint8Array[]): { edge: Edge; writes: TileWrite[]; size: number } {
    const old = from.size;
    const stack = Buffer.from(from.edge.stack);
    const has = [...from.edge.has];
    const rows: Row[] = from.edge.rows.map((r) => ({ data: Buffer.from(r.data), w: r.w }));
    let bundle = [...from.edge.bundle];
    const writes: TileWrite[] = [];
    // how many hashes each tile level holds, so a row that fills names its tile
    const counts = rows.map((_, l) => Math.floor(old / TILE_WIDTH ** l));
    const store = (l: number, src: Buffer, at: number): void => {
      if (rows[l] === undefined) {
        rows[l] = newRow();
        counts[l] = 0;
      }
      const row = rows[l] as Row;
      src.copy(row.data, row.w * HASH_SIZE, at, at + HASH_SIZE);
      row.w++;
      counts[l] = (counts[l] as number) + 1;
      if (row.w === TILE_WIDTH) {
        writes.push({ tile: { h: TILE_HEIGHT, l, n: (counts[l] as number) / TILE_WIDTH - 1, w: TILE_WIDTH }, data: row.data });
        rows[l] = newRow();
      }
    };
    const leaf = Buffer.allocUnsafe(HASH_SIZE);
    for (let k = 0; k < entries.length; k++) {
      const n = old + k;
      const e = entries[k] as Uint8Array;
      bundle.push(e);
      if (bundle.length === TILE_WIDTH) {
        writes.push({ tile: { h: TILE_HEIGHT, l: -1, n: (n + 1) / TILE_WIDTH - 1, w: TILE_WIDTH }, data: bundlePieces(bundle) });
        bundle = [];
      }
      leafHashInto(e, leaf, 0);
      store(0, leaf, 0);
      // carry: every subtree this leaf completes, each a node of the stack's root and the hash below
      let cur = leaf;
      let curAt = 0;
      let level = 0;
      for (let m = n; m % 2 === 1; m = (m - 1) / 2) {
        nodeHashInto(stack, level * HASH_SIZE, cur, curAt, stack, level * HASH_SIZE);
        has[level] = false;
        cur = stack;
        curAt = level * HASH_SIZE;
        level++;
        if (level % TILE_HEIGHT === 0) store(level / TILE_HEIGHT, cur, curAt);
      }
      cur.copy(stack, level * HASH_SIZE, curAt, curAt + HASH_SIZE);
      has[level] = true;
    }
    const size = old + entries.length;
    // the partial tiles of the new size, beside the full ones (older partials stay for older checkpoints);
    // copies, as the row goes on filling in later batches
    if (bundle.length > 0) writes.push({ tile: { h: TILE_HEIGHT, l: -1, n: Math.floor(size / TILE_WIDTH), w: bundle.length }, data: bundlePieces(bundle) });
    rows.forEach((row, l) => {
      const changed = Math.floor(old / TILE_WIDTH ** l) !== Math.floor(size / TILE_WIDTH ** l);
      if (changed && row.w > 0) writes.push({ tile: { h: TILE_HEIGHT, l, n: Math.floor(size / TILE_WIDTH ** (l + 1)), w: row.w }, data: Buffer.from(row.data.subarray(0, row.w * HASH_SIZE)) });
    });
    return { edge: { stack, has, rows, bundle }, writes, size };
  }

  /** Publishes a cosigned copy of the staged checkpoint (the caller checked the quorum). */
  publish(cosignedNote: string): void {
    this.store.writeAtomically(PUBLISHED, cosignedNote);
  }

  published(): string | undefined {
    try {
      return fs.readFileSync(path.join(this.dir, PUBLISHED), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
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
