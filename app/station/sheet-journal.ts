import fs from 'node:fs';
import { appendLineDurably, replaceFileAtomically } from '../../lib/durable-fs';
import { PRIVATE_FILE_MODE } from './private-files';
import type { SheetLine } from './state-file';
import { readSheetJournal } from './state-file';

/**
 * `<data>/station/sheets.jsonl`: which scanner sheet carries which ballot, for the ballots whose drop is not yet
 * settled. A line is written (durably) before the ballot's pending ledger entry, so that after a power cut the
 * station can ask the scanner about the right sheet; it is needed only until the ledger says cast or returned.
 * Then it is forgotten: the file is rewritten with the lines still needed and the old bytes are overwritten in
 * place, so the disk does not keep a list of sheet IDs against ballot IDs in casting order (PRIVACY.md).
 */
export class SheetJournal {
  private lines: SheetLine[];

  constructor(private readonly file: string) {
    this.lines = readSheetJournal(file);
  }

  all(): readonly SheetLine[] {
    return this.lines;
  }

  record(line: SheetLine): void {
    appendLineDurably(this.file, JSON.stringify(line));
    this.lines.push(line);
  }

  /**
   * Keeps only the lines `needed` says are still needed. A file that holds anything else (settled lines, a
   * torn line, lines of an older version) is rewritten even when the kept lines are the same.
   */
  keepOnly(needed: (line: SheetLine) => boolean): void {
    const keep = this.lines.filter(needed);
    const expected = keep.map((l) => `${JSON.stringify(l)}\n`).join('');
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      this.lines = keep;
      return; // no file: nothing on disk to forget
    }
    if (keep.length === this.lines.length && size === Buffer.byteLength(expected)) return;
    rewriteScrubbed(this.file, expected);
    this.lines = keep;
  }
}

/**
 * Replaces the file's content with `text` and overwrites the bytes it held before, so that what was
 * dropped does not stay readable in the file's old blocks. An empty result is written in place (blank, then
 * cut to nothing); otherwise the new content is written beside it and renamed over it, and the old file,
 * still open, is blanked. A crash part way leaves either the old lines, blanked lines (skipped on reading:
 * every one of them was settled), or the new ones; never a kept line half-written.
 */
function rewriteScrubbed(file: string, text: string): void {
  const old = fs.openSync(file, 'r+');
  try {
    if (text !== '') {
      replaceFileAtomically(file, text, { mode: PRIVATE_FILE_MODE });
    }
    const size = fs.fstatSync(old).size;
    if (size > 0) {
      // spaces, not zeros: a line of blanks is skipped by the reader should a crash leave it behind
      fs.writeSync(old, Buffer.alloc(size, 0x20), 0, size, 0);
      fs.fsyncSync(old);
    }
    if (text === '') {
      fs.ftruncateSync(old, 0);
      fs.fsyncSync(old);
    }
  } finally {
    fs.closeSync(old);
  }
}
