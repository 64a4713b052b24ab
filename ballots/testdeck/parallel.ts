import path from 'node:path';
import type { DeckOptions } from './deck';
import { TestDeck } from './deck';
import type { TruthSheet } from './truth';
import { startWorker } from '../worker-thread';

export interface SheetOutput {
  readonly index: number;
  readonly truth: TruthSheet;
  readonly images: readonly { readonly file: string; readonly bytes: Uint8Array }[];
}

type WorkerMessage =
  | { type: 'sheet'; index: number; truth: TruthSheet; images: { file: string; bytes: Uint8Array }[] }
  | { type: 'done' }
  | { type: 'error'; message: string };

/**
 * Renders sheets 0..count-1 on `jobs` worker threads (1 = in this thread) and hands each to `onSheet` as
 * it is ready, in no particular order. Every sheet is a pure function of the seed and its index, so the
 * deck is the same whatever the number of jobs.
 */
export async function renderDeck(options: DeckOptions, count: number, jobs: number, onSheet: (s: SheetOutput) => void): Promise<void> {
  if (jobs <= 1) {
    const deck = new TestDeck(options);
    for (let i = 0; i < count; i++) {
      const s = await deck.sheet(i);
      onSheet({ index: i, truth: s.truth, images: s.images });
    }
    return;
  }
  const file = path.join(__dirname, `deck-worker${path.extname(__filename)}`);
  const workers = Array.from({ length: Math.min(jobs, count) }, (_, first) => startWorker(file, { options, first, step: Math.min(jobs, count), count }));
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.on('message', (m: WorkerMessage) => {
              if (m.type === 'sheet') onSheet({ index: m.index, truth: m.truth, images: m.images });
              else if (m.type === 'done') resolve();
              else reject(new Error(`test-deck worker failed: ${m.message}`));
            });
            w.on('error', reject);
            w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`test-deck worker exited with ${code}`))));
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
