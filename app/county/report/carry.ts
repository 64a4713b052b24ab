import fs from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from '../../../lib/durable-fs';
import { parseCheckpoint } from '../../ledger/checkpoint';
import { formatStationEntry } from '../log/station-entry';
import type { SignedStationCheckpoint } from './signed-checkpoint';

/**
 * The captain carrying a station's checkpoints to the county on the export device, when the station has no
 * network: `county carry` writes each signed checkpoint as the entry file the log takes
 * (`<device>/county/<station>/batch-NNNNNN.entry`), `county submit` posts the files at the county office.
 */

export class CarryError extends Error {
  override readonly name = 'CarryError';
}

export const ENTRY_SUFFIX = '.entry';

export interface Carried {
  readonly dir: string;
  readonly written: readonly string[];
  /** already on the device, byte for byte (a second carry of the same station) */
  readonly present: readonly string[];
}

/** Writes the station's checkpoints under `<out>/county/<station>/`; an existing different file is refused, never replaced. */
export function carryCheckpoints(station: string, checkpoints: readonly SignedStationCheckpoint[], out: string): Carried {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(station) || station === '.' || station === '..') throw new CarryError(`the station ID ${JSON.stringify(station)} cannot name a folder`);
  if (checkpoints.length === 0) throw new CarryError(`station ${station} has signed no checkpoint yet: the polls close first (the checkpoint is signed at close)`);
  const dir = path.join(out, 'county', station);
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const present: string[] = [];
  for (const c of checkpoints) {
    const file = path.join(dir, `batch-${String(c.batch).padStart(6, '0')}${ENTRY_SUFFIX}`);
    const entry = Buffer.from(formatStationEntry(c.body, c.signature));
    if (fs.existsSync(file)) {
      if (fs.readFileSync(file).equals(entry)) {
        present.push(file);
        continue;
      }
      // two different checkpoints for one batch of one station: the other is evidence, not something to overwrite
      throw new CarryError(`${file} holds a different checkpoint for batch ${c.batch} of station ${station}: keep that device for the election office and carry to another`);
    }
    writeFileDurably(file, entry, { exclusive: true });
    written.push(file);
  }
  return { dir, written, present };
}

export interface EntryFile {
  readonly file: string;
  readonly bytes: Uint8Array;
}

const MAX_ENTRY_FILE = 4096;

/** The entry files under `dir` (the folder `carry` wrote, or one above it), checked for shape before any is sent. */
export function readEntryFiles(dir: string): EntryFile[] {
  const found: string[] = [];
  const walk = (d: string, depth: number): void => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(d, { withFileTypes: true });
    } catch (e) {
      throw new CarryError(`${d}: cannot read the folder: ${(e as Error).message}`);
    }
    for (const n of names) {
      const p = path.join(d, n.name);
      if (n.isDirectory() && depth < 3) walk(p, depth + 1);
      else if (n.isFile() && n.name.endsWith(ENTRY_SUFFIX)) found.push(p);
    }
  };
  walk(dir, 0);
  if (found.length === 0) throw new CarryError(`${dir}: no ${ENTRY_SUFFIX} files (what \`tallyproof county carry\` writes)`);
  return found.sort().map((file) => {
    const bytes = fs.readFileSync(file);
    if (bytes.length > MAX_ENTRY_FILE) throw new CarryError(`${file}: ${bytes.length} bytes is no station checkpoint (at most ${MAX_ENTRY_FILE})`);
    const m = /^([\s\S]*\n)signature ([0-9a-f]{128})\n$/.exec(bytes.toString('utf8'));
    if (m === null) throw new CarryError(`${file}: not a signed station checkpoint (a checkpoint followed by "signature <128 hex digits>")`);
    try {
      parseCheckpoint(m[1] as string);
    } catch (e) {
      throw new CarryError(`${file}: the checkpoint is damaged: ${(e as Error).message}`);
    }
    return { file, bytes: new Uint8Array(bytes) };
  });
}
