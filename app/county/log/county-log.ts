import { createHash } from 'node:crypto';
import { formatSignatureLine, type NoteSignature, type Signer } from '../tlog/note';
import { TlogError } from '../tlog/stored-hashes';
import { TILE_WIDTH } from '../tlog/tile';
import { WitnessClient, type WitnessEndpoint } from '../witness/witness-client';
import { parseStationEntry, readStationEntry, type EntryRefusal, type StationRegistry } from './station-entry';
import { StationHistory, type HistoryConflict } from './station-history';
import { EvidenceStore } from './evidence';
import { TileLog } from './tile-log';
import path from 'node:path';
import { err, ok, type Result } from '../../../lib/result';

/**
 * The county log's sequencer. Stations submit signed checkpoints; every round the accepted ones are
 * integrated as one batch (tiles written, staged checkpoint signed), each submitter is answered with its
 * index, and the staged checkpoint goes to the witnesses. It is published (`checkpoint`) only when a quorum
 * of them cosigned it: until then readers keep seeing the last witnessed tree.
 */

export interface CountyLogOptions {
  readonly dir: string;
  readonly origin: string;
  readonly signer: Signer;
  readonly registry: StationRegistry;
  readonly witnesses: readonly WitnessEndpoint[];
  /** how many witness cosignatures a published checkpoint carries at least */
  readonly quorum: number;
  /** a round every so often while entries arrive */
  readonly intervalMs: number;
  /** largest number of submissions waiting for a round (beyond it: refused, try again) */
  readonly maxPending?: number;
  /** where a round that failed is reported (its submitters are answered already) */
  readonly log?: (message: string) => void;
}

export type SubmitRefusal = EntryRefusal | HistoryConflict | { readonly kind: 'busy'; readonly message: string };

export interface Included {
  readonly index: number;
  readonly treeSize: number;
  /** true when this very entry was already in the log (a station sending again after a lost answer) */
  readonly duplicate: boolean;
}

export interface RoundReport {
  readonly integrated: number;
  readonly treeSize: number;
  readonly cosigned: number;
  readonly published: boolean;
  readonly failures: readonly string[];
}

interface Waiting {
  readonly entry: Uint8Array;
  readonly hash: string;
  readonly resolve: (r: Result<Included, SubmitRefusal>) => void;
}

const hashOf = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export class CountyLog {
  readonly log: TileLog;
  private readonly clients: WitnessClient[];
  private readonly indexByHash = new Map<string, number>();
  /** every station's batches, logged or claimed by a waiting submission */
  private readonly history = new StationHistory();
  readonly evidence: EvidenceStore;
  /** submissions waiting for the next round, by entry hash (the same entry sent twice waits once) */
  private waiting = new Map<string, Waiting[]>();
  private waiters = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RoundReport> | undefined;
  private stopped = false;
  /** the size of the checkpoint last published, so a round with nothing new asks no witness again */
  private publishedSize: number;

  constructor(private readonly opts: CountyLogOptions) {
    if (!(opts.quorum >= 0 && opts.quorum <= opts.witnesses.length)) {
      throw new TlogError(`a quorum of ${opts.quorum} cannot be met by ${opts.witnesses.length} witness(es)`);
    }
    this.log = TileLog.open(opts.dir, opts.origin, opts.signer);
    this.clients = opts.witnesses.map((w) => new WitnessClient(w));
    this.publishedSize = this.log.publishedSize() ?? -1;
    this.evidence = new EvidenceStore(path.join(opts.dir, 'evidence'));
    for (let n = 0; n * TILE_WIDTH < this.log.size; n++) {
      this.log.store.readEntries(this.log.size, n).forEach((e, k) => this.remember(e, n * TILE_WIDTH + k));
    }
  }

  /** The size of the checkpoint readers are shown (0 before the first is witnessed). */
  get publishedTreeSize(): number {
    return Math.max(0, this.publishedSize);
  }

  private remember(entry: Uint8Array, index: number): void {
    const hash = hashOf(entry);
    this.indexByHash.set(hash, index);
    // the log's own entries, each signature checked when it was submitted: at start-up re-checking a million
    // of them would cost ~45 s (native) for nothing the history needs, which is each station's checkpoints
    const read = readStationEntry(entry, this.opts.registry);
    if (read.ok) this.history.add(read.value.checkpoint, hash);
  }

  /** Submissions waiting for a round (each bounded by `maxPending`). */
  get pendingCount(): number {
    return this.waiters;
  }

  /** Checks a station's entry and waits for the round that integrates it. */
  submit(entry: Uint8Array): Promise<Result<Included, SubmitRefusal>> {
    const parsed = parseStationEntry(entry, this.opts.registry);
    if (!parsed.ok) return Promise.resolve(err(parsed.error));
    const hash = hashOf(entry);
    const known = this.indexByHash.get(hash);
    if (known !== undefined) return Promise.resolve(ok({ index: known, treeSize: this.log.size, duplicate: true }));
    const checkpoint = parsed.value.checkpoint;
    const conflict = this.history.conflict(checkpoint, hash);
    if (conflict !== undefined) return Promise.resolve(err(this.keepEvidence(conflict, checkpoint.station, checkpoint.batch, hash, entry)));
    // every waiting request counts, the same entry sent again too: each holds a socket and a promise
    if (this.waiters >= (this.opts.maxPending ?? 100_000)) {
      return Promise.resolve(err({ kind: 'busy', message: `the log has ${this.waiters} submissions waiting for its next round: send again shortly` }));
    }
    this.history.add(checkpoint, hash);
    return new Promise((resolve) => {
      const same = this.waiting.get(hash);
      if (same === undefined) this.waiting.set(hash, [{ entry, hash, resolve }]);
      else same.push({ entry, hash, resolve });
      this.waiters++;
      this.schedule();
    });
  }

  private keepEvidence(conflict: HistoryConflict, station: string, batch: number, hash: string, entry: Uint8Array): HistoryConflict {
    const logged = this.history.logged(station, batch);
    const against = logged === undefined ? '' : ` (logged: entry sha256 ${logged.hash}${this.indexByHash.has(logged.hash) ? ` at index ${this.indexByHash.get(logged.hash)}` : ', waiting for a round'})`;
    let kept: string | undefined;
    try {
      kept = this.evidence.keep(station, conflict.kind, batch, hash, entry, `${conflict.kind}: ${conflict.message}${against}`);
    } catch (e) {
      this.opts.log?.(`county log: could not keep the ${conflict.kind} evidence of station ${station}: ${(e as Error).message}`);
    }
    const where = kept === undefined ? '' : `; kept as evidence (${path.relative(this.opts.dir, kept)})`;
    return { kind: conflict.kind, message: `${conflict.message}${where}` };
  }

  private schedule(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.round()
        .catch((e: unknown) => this.opts.log?.(`county log: a round failed: ${(e as Error).message}`))
        .finally(() => {
          if (this.waiting.size > 0) this.schedule();
        });
    }, this.opts.intervalMs);
  }

  /** One round: integrate what waits, answer the submitters, then gather cosignatures and publish on quorum. */
  round(): Promise<RoundReport> {
    const next = (this.running ?? Promise.resolve(undefined)).then(() => this.runRound());
    this.running = next.catch(() => undefined) as Promise<RoundReport>;
    return next;
  }

  private async runRound(): Promise<RoundReport> {
    // the same entry may have been sent twice before a round: integrate it once, answer both
    const unique = this.waiting;
    this.waiting = new Map();
    this.waiters = 0;
    const entries = [...unique.values()].map((ws) => (ws[0] as Waiting).entry);
    let first: number;
    try {
      first = await this.log.append(entries);
    } catch (e) {
      // nothing of this batch is signed (the staged checkpoint is written last): every submitter hears it and
      // may send again; the batches they claimed are free again
      for (const ws of unique.values()) {
        for (const w of ws) {
          const parsed = parseStationEntry(w.entry, this.opts.registry);
          if (parsed.ok) this.history.remove(parsed.value.checkpoint.station, parsed.value.checkpoint.batch, w.hash);
          w.resolve(err({ kind: 'busy', message: `the log could not store the entry (${(e as Error).message}): send it again shortly` }));
        }
      }
      throw e;
    }
    let i = 0;
    for (const ws of unique.values()) {
      const index = first + i++;
      this.indexByHash.set((ws[0] as Waiting).hash, index);
      ws.forEach((w, k) => w.resolve(ok({ index, treeSize: this.log.size, duplicate: k > 0 })));
    }
    return { integrated: entries.length, ...(await this.witness()) };
  }

  private async witness(): Promise<Omit<RoundReport, 'integrated'>> {
    const note = this.log.staged;
    const size = this.log.size;
    if (size === this.publishedSize) return { treeSize: size, cosigned: 0, published: false, failures: [] };
    const outcomes = await Promise.all(
      this.clients.map((c) => c.cosign({ note, size, proofFrom: (old) => (old === 0 || old === size ? [] : this.log.consistencyProof(old, size)) })),
    );
    const cosignatures: NoteSignature[] = [];
    const failures: string[] = [];
    for (const o of outcomes) {
      if (o.ok) cosignatures.push(o.cosignature);
      else failures.push(o.reason);
    }
    const published = cosignatures.length >= this.opts.quorum;
    if (published) {
      this.log.publish(`${note}${cosignatures.map(formatSignatureLine).join('')}`);
      this.publishedSize = size;
    }
    return { treeSize: size, cosigned: cosignatures.length, published, failures };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.size > 0) await this.round();
    await this.running;
    // the tiles flushed, so the next start has no journal to replay
    await this.log.close();
  }
}
