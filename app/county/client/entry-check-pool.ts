import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../../ballots/worker-thread';
import type { StationRegistry } from '../log/station-entry';
import type { StationSignatureVerifier } from '../log/station-signature';

/**
 * Worker threads that check entry bundles for the monitor (entry-check-worker.ts): every entry re-hashed
 * and its station signature checked, on as many cores as the machine has. Answers come back per bundle;
 * the caller consumes them in log order.
 */

/** What every worker starts with: the registry entries are read against, and the verifier the monitor chose. */
export interface EntryCheckWorkerData {
  readonly registry: StationRegistry;
  readonly verifier: StationSignatureVerifier['kind'];
}

export interface BundleJob {
  readonly id: number;
  /** bundle number, for messages */
  readonly n: number;
  /** the bundle's bytes as the server sent them (transferred, not copied) */
  readonly bundle: ArrayBuffer;
  /** how many entries the tree has in this bundle */
  readonly w: number;
  /** the first entry to check (the ones before were checked in an earlier pass) */
  readonly from: number;
}

export type BundleOutcome =
  | { readonly id: number; readonly error: string }
  | {
      readonly id: number;
      /** the RFC 6962 leaf hash of each entry from `from` on, 32 bytes each */
      readonly leaves: ArrayBuffer;
      /** the registry index of each entry's station (Int32Array), -1 for one that is not a valid station entry */
      readonly stations: ArrayBuffer;
      readonly problems: { k: number; message: string }[];
    };

export type BundleCheck = Exclude<BundleOutcome, { error: string }>;

const WORKER_FILE = path.join(__dirname, `entry-check-worker${path.extname(__filename)}`);

export class EntryCheckPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (c: BundleCheck) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(registry: StationRegistry, verifier: StationSignatureVerifier['kind'], threads = Math.max(1, Math.min(8, os.availableParallelism()))) {
    this.workers = Array.from({ length: threads }, () => {
      const w = startWorker(WORKER_FILE, { registry, verifier } satisfies EntryCheckWorkerData);
      w.on('message', (out: BundleOutcome) => {
        const job = this.waiting.get(out.id);
        if (job === undefined) return;
        this.waiting.delete(out.id);
        if ('error' in out) job.reject(new Error(out.error));
        else job.resolve(out);
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`an entry-check worker stopped (exit ${code})`));
      });
      return w;
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const job of this.waiting.values()) job.reject(e);
    this.waiting.clear();
  }

  check(n: number, bundle: Uint8Array, w: number, from: number): Promise<BundleCheck> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    // a bundle fetched over HTTP owns its ArrayBuffer; anything else is copied so the caller keeps its bytes
    const own = bundle.byteOffset === 0 && bundle.byteLength === bundle.buffer.byteLength && bundle.buffer instanceof ArrayBuffer ? bundle.buffer : bundle.slice().buffer;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      (this.workers[id % this.workers.length] as Worker).postMessage({ id, n, bundle: own, w, from } satisfies BundleJob, [own]);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the entry-check pool is closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
