import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { appendLineDurably } from '../../lib/durable-fs';
import { LedgerError } from './errors';
import type { LedgerMode } from './record';

/**
 * The second location of the station's signed heads: one JSON line per signed head, in
 * `<dir>/<station>.<mode>.signed-heads.jsonl`, where `<dir>` is the export device or the directory set as
 * `signedHeadsDir` in station.json. `entry` is the ledger entry that carries the same statement; the
 * statement and its signature are what count (the line's other fields are checked against the ledger).
 */
export function signedHeadsFile(dir: string, stationId: string, mode: LedgerMode): string {
  return path.join(dir, `${stationId}.${mode}.signed-heads.jsonl`);
}

export const SignedHeadLineSchema = z.strictObject({
  entry: z.number().int().min(2),
  statement: z.string().min(1).max(2000),
  signature: z.string().regex(/^[0-9a-f]{128}$/),
});
export type SignedHeadLine = z.infer<typeof SignedHeadLineSchema>;

/**
 * Reads the lines; a malformed line is an error, except a last line cut short without its newline (a
 * write cut by a crash or a device pulled out), which is reported as `torn` and otherwise ignored.
 */
export function readSignedHeadsFile(file: string): { lines: SignedHeadLine[]; torn: boolean } | undefined {
  if (!fs.existsSync(file)) return undefined;
  const text = fs.readFileSync(file, 'utf8');
  const raw = text.split('\n');
  const last = raw.pop() as string;
  const torn = last.trim() !== '';
  const lines = raw
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, i }) => {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new LedgerError('io', file, `line ${i + 1} is not JSON`);
      }
      const parsed = SignedHeadLineSchema.safeParse(json);
      if (!parsed.success) throw new LedgerError('io', file, `line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
      return parsed.data;
    });
  return { lines, torn };
}

/**
 * Appends one line. A last line left without its newline (the station or the device lost power mid-write)
 * is cut off first: it was never a whole statement, and a line written after it would join it into one
 * that no reader can parse.
 */
export function appendSignedHeadLine(dir: string, file: string, line: SignedHeadLine): void {
  fs.mkdirSync(dir, { recursive: true });
  if (fs.existsSync(file)) {
    const size = fs.statSync(file).size;
    if (size > 0) {
      const fd = fs.openSync(file, 'r+');
      try {
        const tail = Buffer.alloc(Math.min(size, 4096));
        fs.readSync(fd, tail, 0, tail.length, size - tail.length);
        if (tail[tail.length - 1] !== 0x0a) {
          const nl = tail.lastIndexOf(0x0a);
          // a torn line longer than the window cannot be ours (lines are a few hundred bytes): leave it for verify to name
          if (nl >= 0 || tail.length === size) {
            fs.ftruncateSync(fd, size - tail.length + nl + 1);
            fs.fsyncSync(fd);
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    }
  }
  appendLineDurably(file, JSON.stringify(line));
}
