import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { FRAMES_SQL, FRAME_CHUNK, FRAME_HASHED_FROM, FRAME_HEADER } from './entry-frames';
import { LedgerError } from './errors';

/**
 * The hash-chain half of `verify` on a second thread, for large ledgers: it re-hashes every entry and checks
 * every link while the main thread replays what the entries mean. Same layout and the same verdicts as the
 * one-thread path in replay.ts (tests run both on the same tampered files and compare).
 */
export type HashChainProblemKind = 'deleted' | 'out-of-order' | 'changed';

export interface HashChainVerdict {
  readonly problem?: { readonly seq: number; readonly kind: HashChainProblemKind; readonly next?: number };
  readonly entries: number;
  readonly headHex: string;
}

export function hashChainProblemMessage(kind: HashChainProblemKind, seq: number, next?: number): string {
  switch (kind) {
    case 'deleted':
      return `entry ${seq} is missing (the next entry is ${next}): deleted`;
    case 'out-of-order':
      return `its previous-entry hash does not match entry ${seq - 1}: an entry was deleted, inserted or reordered here`;
    case 'changed':
      return 'its contents do not match its hash: the entry was changed';
  }
}

// Plain JavaScript: a worker cannot load the TypeScript sources. The hash layout is entries.ts's
// entryHash (0x45, kind, seq as 8 bytes, previous hash, payload); entries come in the frames of
// entry-frames.ts (its SQL and offsets are passed in), and an entry that makes no frame is read row by row.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const { file, lastSeq, sqlitePath, port, flag, framesSql, chunk, header, hashedFrom } = workerData;
const done = new Int32Array(flag);
const seqAt = (b, off) => b.readUInt32BE(off + 14) * 2 ** 32 + b.readUInt32BE(off + 18);
const endAt = (b, off) => off + header + b.readUInt32BE(off) + b.readUInt32BE(off + 4) + b.readUInt32BE(off + 8);
let message;
try {
  const Database = require(sqlitePath);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const frames = db.prepare(framesSql).raw(true);
  const one = db.prepare('SELECT seq, kind, hex(payload), lower(hex(prev_hash)), lower(hex(entry_hash)) FROM entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 1').raw(true);
  let expected = 1;
  let prev = Buffer.alloc(32);
  let buf = Buffer.allocUnsafe(4096);
  let problem;
  outer: for (;;) {
    const [framed, count] = frames.get(expected - 1, lastSeq, chunk);
    if (count === 0) break;
    const b = framed || Buffer.alloc(0);
    let off = 0;
    for (let k = 0; k < count; k++) {
      if (off < b.length && seqAt(b, off) === expected && b.readUInt32BE(off + 4) === 32 && b.readUInt32BE(off + 8) === 32) {
        const end = endAt(b, off);
        const prevAt = off + header;
        const linked = prev.compare(b, prevAt, prevAt + 32) === 0;
        prev.copy(b, prevAt);
        const h = hash('sha256', b.subarray(off + hashedFrom, end - 32), 'buffer');
        if (h.compare(b, end - 32, end) !== 0) { problem = { seq: expected, kind: linked ? 'changed' : 'out-of-order' }; break outer; }
        prev = h;
        expected += 1;
        off = end;
        continue;
      }
      const row = one.get(expected - 1, lastSeq);
      if (row === undefined) break outer;
      const [seq, kind, payloadHex, storedPrev, storedHash] = row;
      if (seq !== expected) { problem = { seq: expected, kind: 'deleted', next: seq }; break outer; }
      const prevHex = prev.toString('hex');
      const n = 42 + payloadHex.length / 2;
      if (n > buf.length) buf = Buffer.allocUnsafe(n * 2);
      buf[0] = 0x45;
      buf[1] = kind;
      buf.writeUInt32BE(Math.floor(seq / 2 ** 32), 2);
      buf.writeUInt32BE(seq >>> 0, 6);
      buf.write(prevHex, 10, 32, 'hex');
      buf.write(payloadHex, 42, 'hex');
      const h = hash('sha256', buf.subarray(0, n), 'hex');
      if (h !== storedHash) { problem = { seq, kind: storedPrev !== prevHex ? 'out-of-order' : 'changed' }; break outer; }
      prev = Buffer.from(h, 'hex');
      expected = seq + 1;
      if (off < b.length && seqAt(b, off) === seq) off = endAt(b, off);
    }
  }
  db.close();
  message = { problem, entries: expected - 1, headHex: prev.toString('hex') };
} catch (e) {
  message = { error: String(e && e.message ? e.message : e) };
}
port.postMessage(message);
Atomics.store(done, 0, 1);
Atomics.notify(done, 0);
`;

export interface HashChainCheck {
  /** Blocks until the worker is done (the replay has usually finished by then) and returns its verdict. */
  result(): HashChainVerdict;
}

export function startHashChainCheck(file: string, lastSeq: number): HashChainCheck {
  const flag = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, lastSeq, sqlitePath: require.resolve('better-sqlite3'), port: port2, flag, framesSql: FRAMES_SQL, chunk: FRAME_CHUNK, header: FRAME_HEADER, hashedFrom: FRAME_HASHED_FROM },
    transferList: [port2],
  });
  return {
    result(): HashChainVerdict {
      const done = new Int32Array(flag);
      // a generous bound so a dead worker cannot hang the command for ever
      for (let waited = 0; Atomics.load(done, 0) === 0; waited += 1) {
        if (waited > 1200) {
          void worker.terminate();
          throw new LedgerError('io', file, 'the chain check thread did not finish in 10 minutes');
        }
        Atomics.wait(done, 0, 0, 500);
      }
      const m = receiveMessageOnPort(port1)?.message as (HashChainVerdict & { error?: string }) | undefined;
      port1.close();
      void worker.terminate();
      if (m === undefined) throw new LedgerError('io', file, 'the chain check thread ended without a verdict');
      if (m.error !== undefined) throw new LedgerError('io', file, `the chain check thread failed: ${m.error}`);
      return m;
    },
  };
}
