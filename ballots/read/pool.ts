import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker-thread';
import type { PageReading, ReaderSetup } from './interpret';

interface Pending {
  readonly resolve: (r: PageReading) => void;
  readonly reject: (e: Error) => void;
}

/**
 * Reads pages on `size` worker threads (central count: every core busy). Each page goes to the worker with
 * the fewest pages in hand; results come back in any order, matched by request.
 */
export class ReaderPool {
  private readonly workers: { worker: Worker; busy: number }[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(setup: ReaderSetup, size: number) {
    const file = path.join(__dirname, `pool-worker${path.extname(__filename)}`);
    this.workers = Array.from({ length: Math.max(1, size) }, () => {
      const slot = { worker: startWorker(file, setup), busy: 0 };
      slot.worker.on('message', (m: { id: number; reading?: PageReading; error?: string }) => {
        slot.busy--;
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if (m.reading) p.resolve(m.reading);
        else p.reject(new Error(`reader worker failed: ${m.error ?? 'unknown error'}`));
      });
      slot.worker.on('error', (e) => this.failAll(e));
      return slot;
    });
  }

  read(bytes: Uint8Array): Promise<PageReading> {
    const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise<PageReading>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, bytes });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.failAll(new Error('reader pool closed'));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
