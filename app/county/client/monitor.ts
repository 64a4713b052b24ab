import { MerkleAccumulator } from '../../ledger/merkle';
import type { StationRegistry } from '../log/station-entry';
import { stationSignatureVerifier, type StationSignatureVerifier, type VerifierChoice } from '../log/station-signature';
import { EntryCheckPool, type BundleCheck } from './entry-check-pool';
import { openNote, type Verifier } from '../tlog/note';
import { parseCheckpoint, type Checkpoint } from '../tlog/checkpoint';
import { treeHash, treeHashIndexes, TlogError } from '../tlog/stored-hashes';
import { TILE_WIDTH } from '../tlog/tile';
import { readAuthenticatedHashes } from './tile-hash-reader';
import type { LogClient } from './log-client';

/**
 * `tallyproof county monitor`: follows a county log and proves it honest or catches it. Every checkpoint it
 * is shown must extend the one before (consistency proof from authenticated tiles); every entry is read,
 * re-hashed into the tree and checked as a registered station's signed checkpoint; a checkpoint seen
 * anywhere else (a station's receipt, a voter's proof) is compared with the log's own tree at that size.
 * Two different trees of one size, both signed, are a split view: the alarm names every key that signed
 * both, the log's and any witness's that cosigned the lie.
 */

export type MonitorAlarm =
  | { readonly kind: 'split-view'; readonly size: number; readonly signedBoth: readonly string[]; readonly notes: readonly [string, string] }
  | { readonly kind: 'inconsistent'; readonly message: string; readonly notes: readonly string[] }
  | { readonly kind: 'bad-entry'; readonly index: number; readonly message: string }
  | { readonly kind: 'unreadable'; readonly message: string };

export interface MonitorReport {
  /** which library checks the station signatures, said because the speed (never the verdict) depends on it */
  readonly verifier: { readonly kind: StationSignatureVerifier['kind']; readonly description: string };
  readonly size: number;
  readonly entriesChecked: number;
  readonly stations: ReadonlyMap<string, number>;
  readonly alarms: readonly MonitorAlarm[];
}

/** bundles fetched ahead of the one being taken into the tree: enough to keep every worker busy while the next arrive */
const FETCH_AHEAD = 8;

/** `new Monitor(…, 'native')` where the native verifier is not built: the message says how to build it. */
export class VerifierUnavailableError extends Error {
  override readonly name = 'VerifierUnavailableError';
}

interface Seen {
  readonly checkpoint: Checkpoint;
  readonly note: string;
}

export class Monitor {
  private latest: Seen | undefined;
  private readonly acc = new MerkleAccumulator();
  private readonly stations = new Map<string, number>();
  /** checkpoints seen outside the log, waiting for the log to reach their size */
  private readonly pending: Seen[] = [];
  private readonly alarms: MonitorAlarm[] = [];
  private readonly verifier: StationSignatureVerifier;

  constructor(
    private readonly client: LogClient,
    private readonly registry: StationRegistry,
    /** worker threads checking entries (default: one per core) */
    private readonly threads?: number,
    /** `auto`: native where built, else WebAssembly, named in the report; `native` throws where not built */
    verifier: VerifierChoice = 'auto',
  ) {
    const chosen = stationSignatureVerifier(verifier);
    if (!chosen.ok) throw new VerifierUnavailableError(chosen.error);
    this.verifier = chosen.value;
  }

  private signers(note: string): string[] {
    const keys: Verifier[] = [this.client.trust.log, ...this.client.trust.witnesses];
    const opened = openNote(note, keys);
    return opened instanceof TlogError ? [] : opened.verified.map((s) => s.name);
  }

  /** Two signed notes whose trees cannot both be the log's: who signed both is who lied. */
  private splitView(a: Seen, b: Seen, size = a.checkpoint.size): MonitorAlarm {
    const inB = new Set(this.signers(b.note));
    return { kind: 'split-view', size, signedBoth: this.signers(a.note).filter((n) => inB.has(n)), notes: [a.note, b.note] };
  }

  /** One pass: the log's current checkpoint, its consistency with the last, and every new entry. */
  async poll(): Promise<MonitorReport> {
    let current: Seen;
    try {
      const cp = await this.client.checkpoint();
      current = { checkpoint: cp.checkpoint, note: cp.note };
    } catch (e) {
      // a log that has witnessed nothing yet (a monitor started before the first station reports) is no alarm;
      // one that did and no longer shows it is
      if (this.latest === undefined && /^GET checkpoint: 404\b/.test((e as Error).message)) return this.report();
      this.alarms.push({ kind: 'unreadable', message: (e as Error).message });
      return this.report();
    }
    const last = this.latest;
    if (last !== undefined) {
      if (current.checkpoint.size < last.checkpoint.size) {
        this.alarms.push({ kind: 'inconsistent', message: `the log went back from ${last.checkpoint.size} to ${current.checkpoint.size} entries`, notes: [last.note, current.note] });
        return this.report();
      }
      if (current.checkpoint.size === last.checkpoint.size) {
        if (!Buffer.from(current.checkpoint.root).equals(Buffer.from(last.checkpoint.root))) this.alarms.push(this.splitView(last, current));
        return this.report();
      }
      try {
        await this.client.consistencyProof(last.checkpoint, current.checkpoint);
      } catch (e) {
        this.alarms.push({ kind: 'inconsistent', message: `checkpoint ${current.checkpoint.size} does not extend ${last.checkpoint.size}: ${(e as Error).message}`, notes: [last.note, current.note] });
        return this.report();
      }
    }
    await this.readEntries(current.checkpoint);
    this.latest = current;
    await this.settlePending();
    return this.report();
  }

  /**
   * Reads every entry the monitor has not seen: bundles fetched several at a time, each checked on a worker
   * thread (leaf hash, station signature), results taken in log order into the tree the root is checked on.
   */
  private async readEntries(tree: Checkpoint): Promise<void> {
    if (this.acc.size >= tree.size) return;
    const pool = new EntryCheckPool(this.registry, this.verifier.kind, this.threads);
    const first = Math.floor(this.acc.size / TILE_WIDTH);
    const last = Math.floor((tree.size - 1) / TILE_WIDTH);
    const start = (n: number, from: number): Promise<BundleCheck> => {
      const p = this.client.entryBundleBytes(tree, n).then(({ bytes, w }) => pool.check(n, bytes, w, from));
      p.catch(() => undefined); // awaited in order below; this only keeps a later failure from going unhandled
      return p;
    };
    const ahead: Promise<BundleCheck>[] = [];
    // entries counted per registry index while reading, named once at the end
    const perStation = new Array<number>(this.registry.stations.length).fill(0);
    let next = first;
    try {
      while (next <= last || ahead.length > 0) {
        while (next <= last && ahead.length < FETCH_AHEAD) {
          ahead.push(start(next, next === first ? this.acc.size - first * TILE_WIDTH : 0));
          next++;
        }
        const checked = await (ahead.shift() as Promise<BundleCheck>);
        const leaves = Buffer.from(checked.leaves);
        const base = this.acc.size;
        const from = base % TILE_WIDTH;
        for (const p of checked.problems) this.alarms.push({ kind: 'bad-entry', index: base - from + p.k, message: p.message });
        const stations = new Int32Array(checked.stations);
        for (let i = 0; i < stations.length; i++) {
          this.acc.push(leaves.subarray(i * 32, i * 32 + 32));
          const s = stations[i] as number;
          if (s >= 0) perStation[s] = (perStation[s] ?? 0) + 1;
        }
      }
    } finally {
      await pool.close();
      perStation.forEach((n, i) => {
        const station = this.registry.stations[i]?.station as string;
        if (n > 0) this.stations.set(station, (this.stations.get(station) ?? 0) + n);
      });
    }
    if (!Buffer.from(this.acc.root()).equals(Buffer.from(tree.root))) {
      this.alarms.push({ kind: 'inconsistent', message: `the entries the log serves do not hash to its checkpoint's root at ${tree.size}`, notes: [] });
    }
  }

  /**
   * A checkpoint shown somewhere else (a station's receipt, a proof an auditor was handed): it must be the
   * log's own tree at that size, now or once the log has grown that far.
   */
  async observe(note: string): Promise<MonitorAlarm | undefined> {
    const byLog = openNote(note, [this.client.trust.log]);
    if (byLog instanceof TlogError) return undefined; // not this log's word: nothing it can be held to
    const checkpoint = parseCheckpoint(byLog.text);
    if (checkpoint instanceof TlogError) return undefined;
    const seen: Seen = { checkpoint, note };
    if (this.latest === undefined || checkpoint.size > this.latest.checkpoint.size) {
      this.pending.push(seen);
      return undefined;
    }
    return this.compareWithLog(seen);
  }

  private async compareWithLog(seen: Seen): Promise<MonitorAlarm | undefined> {
    const latest = this.latest as Seen;
    const size = seen.checkpoint.size;
    const idx = treeHashIndexes(size);
    const hashes = await readAuthenticatedHashes(latest.checkpoint, idx, this.client.fetchTiles);
    const byIndex = new Map(idx.map((x, i) => [x, hashes[i] as Uint8Array]));
    const root = treeHash(size, (ix) => ix.map((x) => byIndex.get(x) as Uint8Array));
    if (Buffer.from(root).equals(Buffer.from(seen.checkpoint.root))) return undefined;
    // the log signed both; any witness that cosigned both vouched for two histories
    const alarm = this.splitView(latest, seen, size);
    this.alarms.push(alarm);
    return alarm;
  }

  private async settlePending(): Promise<void> {
    const latest = this.latest as Seen;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i] as Seen;
      if (p.checkpoint.size <= latest.checkpoint.size) {
        this.pending.splice(i, 1);
        await this.compareWithLog(p);
      }
    }
  }

  /** What the monitor has checked so far and every alarm it raised. */
  report(): MonitorReport {
    return {
      verifier: { kind: this.verifier.kind, description: this.verifier.description },
      size: this.latest?.checkpoint.size ?? 0,
      entriesChecked: this.acc.size,
      stations: new Map(this.stations),
      alarms: [...this.alarms],
    };
  }
}
