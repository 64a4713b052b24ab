import fs from 'node:fs';
import path from 'node:path';
import { replaceFileAtomically } from '../../lib/durable-fs';
import { CommandFailure } from './context';

/** Writes via a temporary file, fsync and rename, so a crash leaves the old file or the new, never half of one. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dir, { recursive: true });
    replaceFileAtomically(file, data, { mode: 0o666 });
  } catch (e) {
    throw new CommandFailure(`cannot write ${file}: ${(e as Error).message}`);
  }
}
