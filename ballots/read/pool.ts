import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker-thread';
import type { PageReading, ReaderSetup } from './interpret';

interface Pending {
  readonly resolve: (r: PageReading) => void;
  readonly reject: (e: Error) => void;
}

class Slot {
  worker: Worker;
  /** request ids this worker holds: what fails with it if it stops */
  readonly holds = new Set<number>();
  constructor(
    readonly number: number,
    spawn: (slot: Slot) => Worker,
  ) {
    this.worker = spawn(this);
  }
}

/**
 * Reads pages on `size` worker threads (central count: every core busy). Each page goes to the worker with
 * the fewest pages in hand; results come back in any order, matched by request. A worker that stops (a
 * crash, running out of memory) fails only the pages it held, each with the reason, and is replaced: the
 * station's queue never waits on a page no thread will answer.
 */
export class ReaderPool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  private readonly file = path.join(__dirname, `pool-worker${path.extname(__filename)}`);
  private nextId = 0;
  private closing = false;
  /** workers started to replace stopped ones */
  restarts = 0;

  constructor(
    private readonly setup: ReaderSetup,
    size: number,
  ) {
    this.slots = Array.from({ length: Math.max(1, size) }, (_, i) => new Slot(i + 1, (slot) => this.spawn(slot)));
  }

  read(bytes: Uint8Array): Promise<PageReading> {
    if (this.closing) return Promise.reject(new Error('reader pool closed'));
    const slot = this.slots.reduce((a, b) => (b.holds.size < a.holds.size ? b : a));
    const id = this.nextId++;
    slot.holds.add(id);
    return new Promise<PageReading>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, bytes });
    });
  }

  /** The threads now serving reads (diagnostics; tests stop one to see the pool recover). */
  get threads(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const s of this.slots) this.failHeld(s, new Error('reader pool closed'));
  }

  private spawn(slot: Slot): Worker {
    const worker = startWorker(this.file, this.setup);
    worker.on('message', (m: { id: number; reading?: PageReading; error?: string }) => {
      slot.holds.delete(m.id);
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if (m.reading) p.resolve(m.reading);
      else p.reject(new Error(`reader worker failed: ${m.error ?? 'unknown error'}`));
    });
    let why = 'it exited';
    worker.on('error', (e) => {
      why = e.message;
    });
    worker.on('exit', (code) => {
      if (this.closing || slot.worker !== worker) return;
      this.failHeld(slot, new Error(`reader worker ${slot.number} stopped (${why}, exit code ${code}): the page was not read; feed it again`));
      this.restarts += 1;
      slot.worker = this.spawn(slot);
    });
    return worker;
  }

  private failHeld(slot: Slot, e: Error): void {
    for (const id of slot.holds) {
      this.pending.get(id)?.reject(e);
      this.pending.delete(id);
    }
    slot.holds.clear();
  }
}
