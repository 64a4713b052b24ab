import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on a sibling module of the caller. Built code runs the .js file; from TypeScript
 * sources (tests, benchmarks run with scripts/run-ts.js) the worker first installs the same swc hook.
 */
export function startWorker(file: string, workerData: unknown): Worker {
  if (file.endsWith('.ts')) {
    const hook = path.join(__dirname, '..', 'scripts', 'register-ts.js');
    return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(file)});`, { eval: true, workerData });
  }
  return new Worker(file, { workerData });
}
