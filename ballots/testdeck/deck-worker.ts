import { parentPort, workerData } from 'node:worker_threads';
import type { DeckOptions } from './deck';
import { TestDeck } from './deck';

/** Renders sheets first, first + step, … of a deck and posts each back with its images. */
interface Job {
  readonly options: DeckOptions;
  readonly first: number;
  readonly step: number;
  readonly count: number;
}

async function run(job: Job): Promise<void> {
  const deck = new TestDeck(job.options);
  for (let i = job.first; i < job.count; i += job.step) {
    const sheet = await deck.sheet(i);
    // sharp's buffers may share a pooled ArrayBuffer: copy before transferring
    const images = sheet.images.map((im) => ({ file: im.file, bytes: new Uint8Array(im.bytes) }));
    parentPort?.postMessage(
      { type: 'sheet', index: i, truth: sheet.truth, images },
      images.map((im) => im.bytes.buffer as ArrayBuffer),
    );
  }
  parentPort?.postMessage({ type: 'done' });
}

run(workerData as Job).catch((e: unknown) => parentPort?.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
