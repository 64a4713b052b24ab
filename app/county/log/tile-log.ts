import fs from 'node:fs';
import path from 'node:path';
import { formatCheckpoint, parseCheckpoint } from '../tlog/checkpoint';
import { openNote, signNote, type Signer } from '../tlog/note';
import {
  proveRecord,
  proveTree,
  recordHash,
  storedHashCount,
  storedHashesForRecordHash,
  treeHash,
  TlogError,
  type Hash,
  type HashReader,
} from '../tlog/stored-hashes';
import { newTiles, readTileData, TILE_HEIGHT, TILE_WIDTH } from '../tlog/tile';
import { bundleEntries, TileStore } from './tile-store';

/**
 * An append-only log kept as C2SP tlog-tiles files. `append` integrates a batch: the entries' bundles and
 * the changed hash tiles are written (each durably, whole), then the log signs a checkpoint of the new size
 * into `checkpoint.staged`. What the log publishes as `checkpoint` is the staged one once witnesses have
 * cosigned it (`publish`), so no reader is shown a tree no witness has checked.
 */

export const STAGED = 'checkpoint.staged';
export const PUBLISHED = 'checkpoint';

export class TileLog {
  readonly store: TileStore;
  private treeSize: number;
  private stagedNote: string;

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
    const root = treeHash(cp.size, log.store.hashReader(cp.size));
    if (!Buffer.from(root).equals(Buffer.from(cp.root))) throw new TlogError(`${dir}: the tiles do not give the root the staged checkpoint signed`);
    return log;
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

  /** Integrates entries at the end of the log; returns the index of the first. */
  append(entries: readonly Uint8Array[]): number {
    const old = this.treeSize;
    if (entries.length === 0) return old;
    const base = storedHashCount(old);
    const onDisk = this.store.hashReader(old);
    const fresh: Hash[] = [];
    const read: HashReader = (indexes) =>
      indexes.map((i) => (i >= base ? (fresh[i - base] as Hash) : (onDisk([i])[0] as Hash)));
    entries.forEach((e, k) => fresh.push(...storedHashesForRecordHash(old + k, recordHash(e), read)));
    const size = old + entries.length;

    // entry bundles first, then hash tiles, then the signed size: a crash leaves the old checkpoint valid
    for (let n = Math.floor(old / TILE_WIDTH); n * TILE_WIDTH < size; n++) {
      const start = n * TILE_WIDTH;
      const kept = start < old ? this.store.readEntries(old, n) : [];
      const added = entries.slice(Math.max(start, old) - old, Math.min(start + TILE_WIDTH, size) - old);
      const all = [...kept, ...added];
      this.store.writeTile({ h: TILE_HEIGHT, l: -1, n, w: all.length }, bundleEntries(all));
    }
    for (const tile of newTiles(TILE_HEIGHT, old, size)) this.store.writeTile(tile, readTileData(tile, read));
    this.store.sync();
    const note = this.sign(size, treeHash(size, read));
    this.store.writeAtomically(STAGED, note);
    this.treeSize = size;
    this.stagedNote = note;
    return old;
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
