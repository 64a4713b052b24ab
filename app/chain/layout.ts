import path from 'node:path';
import type { LedgerMode } from '../ledger/record';

/**
 * Where publishing keeps its files in a station data directory. The official ledger's go under
 * `<data>/publish/`, the test ledger's under `<data>/publish-test/`: batch numbers restart per ledger, and
 * test publications must never sit beside official ones (invariant 5).
 *
 *   outbox.sqlite              the durable outbox (+ -wal, -shm)
 *   signed/batch-<N>.json      every signed transaction of a batch, hex, for broadcast from anywhere
 *   publication/batch-<N>.json where the batch landed (formats.ts PublicationSchema), once confirmed
 */
export interface PublishLayout {
  readonly root: string;
  readonly outbox: string;
  readonly signedDir: string;
  readonly publicationDir: string;
  signedFile(batch: number): string;
  publicationFile(batch: number): string;
}

export function publishLayout(dataDir: string, mode: LedgerMode): PublishLayout {
  const root = path.join(dataDir, mode === 'official' ? 'publish' : 'publish-test');
  return {
    root,
    outbox: path.join(root, 'outbox.sqlite'),
    signedDir: path.join(root, 'signed'),
    publicationDir: path.join(root, 'publication'),
    signedFile: (n) => path.join(root, 'signed', `batch-${n}.json`),
    publicationFile: (n) => path.join(root, 'publication', `batch-${n}.json`),
  };
}
