import type { Checkpoint } from '../../ledger/checkpoint';

/**
 * What the log holds of each station: one checkpoint per batch, and the batches in one order. A station's
 * checkpoints are cumulative (app/ledger/README.md): a later batch has a tree at least as large and a later
 * ledger head, and the batch after another starts where the other's tree ended. A second checkpoint for a
 * batch is an equivocation; one that does not fit between its neighbours is a rollback (a ledger restored
 * from an old copy and signed again, or a forged history). Both are signed by the station key, so each is
 * evidence, not noise.
 */

export interface LoggedBatch {
  readonly hash: string;
  readonly treeSize: number;
  readonly batchStart: number;
  readonly headSeq: number;
}

export type HistoryConflict =
  | { readonly kind: 'equivocation'; readonly message: string }
  | { readonly kind: 'rollback'; readonly message: string };

export class StationHistory {
  private readonly byStation = new Map<string, Map<number, LoggedBatch>>();

  /** The hash logged (or claimed by a waiting submission) for this batch, if any. */
  logged(station: string, batch: number): LoggedBatch | undefined {
    return this.byStation.get(station)?.get(batch);
  }

  /** Why `c` (whose entry hashes to `hash`) cannot join the station's history, or undefined if it can. */
  conflict(c: Checkpoint, hash: string): HistoryConflict | undefined {
    const batches = this.byStation.get(c.station);
    if (batches === undefined) return undefined;
    const same = batches.get(c.batch);
    if (same !== undefined) {
      return same.hash === hash ? undefined : { kind: 'equivocation', message: `station ${c.station} already logged a different checkpoint for batch ${c.batch}` };
    }
    let below: [number, LoggedBatch] | undefined;
    let above: [number, LoggedBatch] | undefined;
    for (const [b, l] of batches) {
      if (b < c.batch && (below === undefined || b > below[0])) below = [b, l];
      if (b > c.batch && (above === undefined || b < above[0])) above = [b, l];
    }
    const rollback = (message: string): HistoryConflict => ({ kind: 'rollback', message: `station ${c.station} batch ${c.batch}: ${message}` });
    if (below !== undefined) {
      const [b, l] = below;
      if (c.treeSize < l.treeSize) return rollback(`a tree of ${c.treeSize} records, smaller than batch ${b}'s ${l.treeSize} already logged`);
      if (c.headSeq <= l.headSeq) return rollback(`ledger head ${c.headSeq}, not after batch ${b}'s head ${l.headSeq}`);
      if (b === c.batch - 1 && c.batchStart !== l.treeSize) return rollback(`starts at record ${c.batchStart}, but batch ${b} ended at ${l.treeSize}`);
    }
    if (above !== undefined) {
      const [b, l] = above;
      if (c.treeSize > l.treeSize) return rollback(`a tree of ${c.treeSize} records, larger than later batch ${b}'s ${l.treeSize} already logged`);
      if (c.headSeq >= l.headSeq) return rollback(`ledger head ${c.headSeq}, not before later batch ${b}'s head ${l.headSeq}`);
      if (b === c.batch + 1 && l.batchStart !== c.treeSize) return rollback(`ends at record ${c.treeSize}, but batch ${b} starts at ${l.batchStart}`);
    }
    return undefined;
  }

  add(c: Checkpoint, hash: string): void {
    let batches = this.byStation.get(c.station);
    if (batches === undefined) this.byStation.set(c.station, (batches = new Map()));
    batches.set(c.batch, { hash, treeSize: c.treeSize, batchStart: c.batchStart, headSeq: c.headSeq });
  }

  /** Frees a batch claimed by a submission the log could not store. */
  remove(station: string, batch: number, hash: string): void {
    const batches = this.byStation.get(station);
    if (batches?.get(batch)?.hash === hash) batches.delete(batch);
  }
}
