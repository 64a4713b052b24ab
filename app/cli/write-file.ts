import fs from 'node:fs';
import path from 'node:path';
import { writeFileSynced } from '../ledger/durable-fs';
import { CommandFailure } from './context';

/** Writes via a temporary file, fsync and rename, so a crash leaves the old file or the new, never half of one. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    writeFileSynced(tmp, data, { mode: 0o666 });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new CommandFailure(`cannot write ${file}: ${(e as Error).message}`);
  }
}
