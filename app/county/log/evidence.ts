import fs from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from '../../../lib/durable-fs';

/**
 * Entries the log refused although their station signed them (an equivocation, a rollback): a station key
 * that signed two histories is the county's to investigate, so the refused entry is kept, beside what it
 * conflicts with, in `<log>/evidence/s-<station>/`. Bounded per station: a stolen station key cannot fill
 * the log's disk (past the bound the submission is still refused, only not kept again).
 */

export const MAX_EVIDENCE_PER_STATION = 16;

export class EvidenceStore {
  private readonly counts = new Map<string, number>();

  constructor(
    readonly dir: string,
    private readonly maxPerStation = MAX_EVIDENCE_PER_STATION,
  ) {}

  private stationDir(station: string): string {
    // the prefix keeps a station named "." or ".." a plain directory name
    return path.join(this.dir, `s-${station}`);
  }

  private count(station: string): number {
    let n = this.counts.get(station);
    if (n === undefined) {
      try {
        n = fs.readdirSync(this.stationDir(station)).filter((f) => f.endsWith('.entry')).length;
      } catch {
        n = 0;
      }
      this.counts.set(station, n);
    }
    return n;
  }

  /**
   * Keeps `entry` (refused for `kind` at `batch`, its SHA-256 `hash`) and, beside it, why: which logged entry
   * it conflicts with. Returns the file written, the file already there for the same entry, or undefined
   * past the bound.
   */
  keep(station: string, kind: string, batch: number, hash: string, entry: Uint8Array, why: string): string | undefined {
    const dir = this.stationDir(station);
    const file = path.join(dir, `${kind}-batch-${batch}-${hash.slice(0, 16)}.entry`);
    if (fs.existsSync(file)) return file;
    if (this.count(station) >= this.maxPerStation) return undefined;
    fs.mkdirSync(dir, { recursive: true });
    // the reason first: an entry file is what counts as kept
    writeFileDurably(`${file.slice(0, -'.entry'.length)}.why.txt`, `${why}\n`);
    writeFileDurably(file, entry, { exclusive: true });
    this.counts.set(station, this.count(station) + 1);
    return file;
  }

  /** Every entry kept for `station` (file names). */
  list(station: string): string[] {
    try {
      return fs.readdirSync(this.stationDir(station)).filter((f) => f.endsWith('.entry')).sort();
    } catch {
      return [];
    }
  }
}
