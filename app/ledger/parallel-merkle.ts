import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { orderFlat } from './flat-merkle';
import { EMPTY_ROOT, HASH_BYTES, nodeHash } from './merkle';

/**
 * A batch root over many records using every core: workers hash the leaves into shared memory, the main
 * thread orders them by hash, and the two RFC 6962 subtrees under the root ([0, k) and [k, n), k the
 * largest power of two below n) are reduced in parallel. Same result as flat-merkle.ts (tests compare).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { hash } = require('node:crypto');
parentPort.on('message', (job) => {
  if (job.kind === 'leaves') {
    const recs = Buffer.from(job.records);
    const offsets = new Uint32Array(job.offsets);
    const out = Buffer.from(job.leaves);
    let scratch = Buffer.allocUnsafe(256);
    for (let i = job.from; i < job.to; i++) {
      const a = offsets[i], b = offsets[i + 1], len = b - a;
      if (len + 1 > scratch.length) scratch = Buffer.allocUnsafe(2 * (len + 1));
      scratch[0] = 0;
      recs.copy(scratch, 1, a, b);
      out.write(hash('sha256', scratch.subarray(0, len + 1), 'binary'), i * 32, 'latin1');
    }
    parentPort.postMessage({ done: true });
  } else {
    const src = Buffer.from(job.leaves);
    let len = job.to - job.from;
    const cur = Buffer.allocUnsafe(len * 32);
    src.copy(cur, 0, job.from * 32, job.to * 32);
    const scratch = Buffer.allocUnsafe(65);
    scratch[0] = 1;
    while (len > 1) {
      let j = 0;
      for (let i = 0; i < len; i += 2, j++) {
        if (i + 1 < len) { cur.copy(scratch, 1, i * 32, (i + 2) * 32); cur.write(hash('sha256', scratch, 'binary'), j * 32, 'latin1'); }
        else if (i !== j) cur.copy(cur, j * 32, i * 32, (i + 1) * 32);
      }
      len = j;
    }
    const root = new Uint8Array(32);
    root.set(cur.subarray(0, 32));
    parentPort.postMessage({ root });
  }
});
`;

interface Job {
  kind: 'leaves' | 'root';
  [k: string]: unknown;
}

function run(worker: Worker, job: Job): Promise<{ root?: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { root?: Uint8Array }): void => {
      worker.off('error', onError);
      resolve(m);
    };
    const onError = (e: Error): void => {
      worker.off('message', onMessage);
      reject(e);
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.postMessage(job);
  });
}

export interface BatchRoot {
  readonly root: Buffer;
  /** leaf hashes in tree order (by hash), n × 32 bytes */
  readonly sortedLeaves: Buffer;
  /** order[k] = index of the record at leaf k */
  readonly order: Uint32Array;
}

export async function parallelBatchRoot(records: readonly Uint8Array[], threads = Math.max(2, Math.min(4, os.availableParallelism()))): Promise<BatchRoot> {
  const n = records.length;
  if (n === 0) return { root: EMPTY_ROOT, sortedLeaves: Buffer.alloc(0), order: new Uint32Array(0) };
  let total = 0;
  for (const r of records) total += r.length;
  const recSab = new SharedArrayBuffer(total);
  const recBuf = Buffer.from(recSab);
  const offSab = new SharedArrayBuffer((n + 1) * 4);
  const offsets = new Uint32Array(offSab);
  let at = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = at;
    recBuf.set(records[i] as Uint8Array, at);
    at += (records[i] as Uint8Array).length;
  }
  offsets[n] = at;
  const leafSab = new SharedArrayBuffer(n * HASH_BYTES);
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true }));
  try {
    const per = Math.ceil(n / threads);
    await Promise.all(workers.map((w, t) => run(w, { kind: 'leaves', records: recSab, offsets: offSab, leaves: leafSab, from: Math.min(n, t * per), to: Math.min(n, (t + 1) * per) })));
    const leaves = Buffer.from(leafSab);
    const order = orderFlat(leaves, n);
    const sortedSab = new SharedArrayBuffer(n * HASH_BYTES);
    const sorted = Buffer.from(sortedSab);
    for (let k = 0; k < n; k++) {
      const i = order[k] as number;
      leaves.copy(sorted, k * HASH_BYTES, i * HASH_BYTES, (i + 1) * HASH_BYTES);
    }
    let root: Buffer;
    if (n === 1) root = Buffer.from(sorted.subarray(0, HASH_BYTES));
    else {
      let k = 1;
      while (k * 2 < n) k *= 2;
      const [left, right] = await Promise.all([
        run(workers[0] as Worker, { kind: 'root', leaves: sortedSab, from: 0, to: k }),
        run(workers[1 % threads] as Worker, { kind: 'root', leaves: sortedSab, from: k, to: n }),
      ]);
      root = nodeHash(left.root as Uint8Array, right.root as Uint8Array);
    }
    return { root, sortedLeaves: sorted, order };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
