import { leafHash, verifyConsistency, verifyInclusion } from '../../ledger/merkle';
import { splitBundle } from '../log/tile-store';
import { parseCheckpoint, type Checkpoint } from '../tlog/checkpoint';
import { formatTlogProof } from '../tlog/proof';
import { openNote, type NoteSignature, type Verifier } from '../tlog/note';
import { proveRecord, proveTree, recordProofIndexes, treeProofIndexes, TlogError, type Hash } from '../tlog/stored-hashes';
import { c2spTilePath, TILE_HEIGHT, TILE_WIDTH, type Tile } from '../tlog/tile';
import { readAuthenticatedHashes, type TileFetcher } from './tile-hash-reader';

/**
 * A reader of a county log over HTTP that trusts only keys: the log's, and the witnesses' with a quorum.
 * Checkpoints are opened with those keys; tiles are checked against the checkpoint before any hash from
 * them is used; proofs are verified with the ledger's RFC 6962 verifier.
 */

export interface TrustPolicy {
  readonly log: Verifier;
  readonly witnesses: readonly Verifier[];
  readonly quorum: number;
}

export interface WitnessedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: string;
  readonly cosignedBy: readonly string[];
}

export function openWitnessedCheckpoint(note: string, trust: TrustPolicy): WitnessedCheckpoint | TlogError {
  const byLog = openNote(note, [trust.log]);
  if (byLog instanceof TlogError) return new TlogError(`the log's signature: ${byLog.message}`);
  const checkpoint = parseCheckpoint(byLog.text);
  if (checkpoint instanceof TlogError) return checkpoint;
  if (checkpoint.origin !== trust.log.name) return new TlogError(`the checkpoint is of ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(trust.log.name)}`);
  let cosigners: NoteSignature[] = [];
  if (trust.witnesses.length > 0) {
    const byWitnesses = openNote(note, trust.witnesses);
    cosigners = byWitnesses instanceof TlogError ? [] : byWitnesses.verified;
  }
  const names = [...new Set(cosigners.map((s) => s.name))];
  if (names.length < trust.quorum) return new TlogError(`cosigned by ${names.length} known witness(es) (${names.join(', ') || 'none'}); the policy needs ${trust.quorum}`);
  return { checkpoint, note, cosignedBy: names };
}

export class LogClient {
  constructor(
    readonly url: string,
    readonly trust: TrustPolicy,
    private readonly timeoutMs = 10_000,
    /** cuts every request short (a station shutting down) */
    private readonly abort?: AbortSignal,
  ) {}

  private async get(path: string): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return fetch(`${this.url}/${path}`, { signal: this.abort === undefined ? timeout : AbortSignal.any([timeout, this.abort]) });
  }

  async checkpoint(): Promise<WitnessedCheckpoint> {
    const res = await this.get('checkpoint');
    if (res.status !== 200) throw new TlogError(`GET checkpoint: ${res.status}`);
    const opened = openWitnessedCheckpoint(await res.text(), this.trust);
    if (opened instanceof TlogError) throw opened;
    return opened;
  }

  /** Fetches tiles; a partial tile the server has since completed is read from the full one (C2SP allows pruning partials). */
  readonly fetchTiles: TileFetcher = async (tiles) =>
    Promise.all(
      tiles.map(async (t) => {
        const res = await this.get(c2spTilePath(t));
        if (res.status === 200) return new Uint8Array(await res.arrayBuffer());
        if (res.status === 404 && t.w < 2 ** t.h) {
          const full = await this.get(c2spTilePath({ ...t, w: 2 ** t.h }));
          if (full.status === 200) return new Uint8Array(await full.arrayBuffer()).subarray(0, t.w * 32);
        }
        throw new TlogError(`GET ${c2spTilePath(t)}: ${res.status}`);
      }),
    );

  private async hashes(tree: Checkpoint, indexes: number[]): Promise<(idx: readonly number[]) => Hash[]> {
    const got = await readAuthenticatedHashes(tree, indexes, this.fetchTiles);
    const byIndex = new Map(indexes.map((x, i) => [x, got[i] as Hash]));
    return (idx) => idx.map((x) => byIndex.get(x) as Hash);
  }

  /** The inclusion proof of entry `index` in `tree`, built from authenticated tiles and verified. */
  async inclusionProof(tree: Checkpoint, index: number, entry: Uint8Array): Promise<Hash[]> {
    const read = await this.hashes(tree, recordProofIndexes(tree.size, index));
    const proof = proveRecord(tree.size, index, read);
    verifyInclusion(index, tree.size, leafHash(entry), proof, tree.root);
    return proof;
  }

  /** A C2SP tlog-proof file for entry `index` against the log's current witnessed checkpoint. */
  async tlogProof(index: number, entry: Uint8Array, extra?: Uint8Array): Promise<string> {
    const cp = await this.checkpoint();
    const proof = await this.inclusionProof(cp.checkpoint, index, entry);
    return formatTlogProof(extra === undefined ? { index, proof, note: cp.note } : { extra, index, proof, note: cp.note });
  }

  /** The consistency proof from an older tree, built from authenticated tiles of the newer and verified. */
  async consistencyProof(older: Checkpoint, newer: Checkpoint): Promise<Hash[]> {
    if (older.size === 0) return [];
    const read = await this.hashes(newer, treeProofIndexes(newer.size, older.size));
    const proof = proveTree(newer.size, older.size, read);
    verifyConsistency(older.size, newer.size, older.root, newer.root, proof);
    return proof;
  }

  /** The bytes of entry bundle n as of `tree`, and how many of its entries the tree holds (unauthenticated: hash them against the tree before use). */
  async entryBundleBytes(tree: Checkpoint, n: number): Promise<{ bytes: Uint8Array; w: number }> {
    const w = Math.min(TILE_WIDTH, tree.size - n * TILE_WIDTH);
    if (w <= 0) throw new TlogError(`no entry bundle ${n} in a tree of ${tree.size}`);
    const tile: Tile = { h: TILE_HEIGHT, l: -1, n, w };
    let res = await this.get(c2spTilePath(tile));
    if (res.status === 404 && w < TILE_WIDTH) res = await this.get(c2spTilePath({ ...tile, w: TILE_WIDTH }));
    if (res.status !== 200) throw new TlogError(`GET ${c2spTilePath(tile)}: ${res.status}`);
    return { bytes: new Uint8Array(await res.arrayBuffer()), w };
  }

  /** The entries of bundle n as of `tree` (unauthenticated bytes: hash them against the tree before use). */
  async entryBundle(tree: Checkpoint, n: number): Promise<Uint8Array[]> {
    const { bytes, w } = await this.entryBundleBytes(tree, n);
    const entries = splitBundle(bytes, undefined);
    if (entries.length < w) throw new TlogError(`entry bundle ${n} holds ${entries.length} entries, fewer than ${w}`);
    return entries.slice(0, w);
  }
}
