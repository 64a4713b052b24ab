import { parentPort, workerData } from 'node:worker_threads';
import type { ReaderSetup } from './interpret';
import { BallotReader } from './interpret';

/** One reader per thread: receives encoded images, answers with readings. */
const reader = new BallotReader(workerData as ReaderSetup);
parentPort?.on('message', (m: { id: number; bytes: Uint8Array }) => {
  reader.readFile(m.bytes).then(
    (reading) => parentPort?.postMessage({ id: m.id, reading }),
    (e: unknown) => parentPort?.postMessage({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
