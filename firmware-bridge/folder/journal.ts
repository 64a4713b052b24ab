/**
 * An append-only journal of which scan files a folder driver has taken and how each ended, one JSON object per
 * line, fsynced before the driver acts on it. A torn last line (power cut mid-append) is ignored; any other
 * damage is an error naming the line, because guessing could count a ballot twice.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { err, ok, type Result } from '../../lib/result';

const outcomeSchema = z.union([
  z.object({ kind: z.literal('box') }),
  z.object({ kind: z.literal('returned'), reason: z.enum(['station', 'double-sheet', 'scan-lost']) }),
  z.object({ kind: z.literal('flagged'), reason: z.enum(['jam', 'cover-open', 'power-loss', 'lost-track']), stage: z.enum(['feeding', 'scanning', 'held', 'accepting', 'returning']) }),
]);

const entrySchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('taken'), file: z.string().min(1), sheetId: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }),
  z.object({ op: z.literal('done'), sheetId: z.string().min(1), outcome: outcomeSchema }),
]);

export type JournalEntry = z.infer<typeof entrySchema>;

export interface JournalState {
  /** file name → its sheet and, once decided, the outcome */
  readonly files: Map<string, { sheetId: string; sha256: string; size: number; outcome?: z.infer<typeof outcomeSchema> }>;
  readonly tornTail: boolean;
  /** Bytes up to the end of the last complete line: a torn tail beyond it is cut off before appending. */
  readonly validBytes: number;
}

export interface JournalError {
  readonly line: number;
  readonly message: string;
}

export function readJournal(path: string): Result<JournalState, JournalError> {
  const files: JournalState['files'] = new Map();
  if (!existsSync(path)) return ok({ files, tornTail: false, validBytes: 0 });
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const endsClean = text.endsWith('\n') || text.length === 0;
  const bySheet = new Map<string, string>();
  let tornTail = false;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] as string;
    if (line === '') continue;
    const last = i === lines.length - 1;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      if (last && !endsClean) {
        tornTail = true;
        break;
      }
      return err({ line: i + 1, message: 'not JSON' });
    }
    const parsed = entrySchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return err({ line: i + 1, message: `${issue?.path.join('.') || 'entry'}: ${issue?.message ?? 'invalid'}` });
    }
    const e = parsed.data;
    if (e.op === 'taken') {
      if (files.has(e.file)) return err({ line: i + 1, message: `file ${e.file} taken twice` });
      files.set(e.file, { sheetId: e.sheetId, sha256: e.sha256, size: e.size });
      bySheet.set(e.sheetId, e.file);
    } else {
      const file = bySheet.get(e.sheetId);
      const f = file === undefined ? undefined : files.get(file);
      if (!f) return err({ line: i + 1, message: `outcome for unknown sheet ${e.sheetId}` });
      if (f.outcome) return err({ line: i + 1, message: `second outcome for sheet ${e.sheetId}` });
      f.outcome = e.outcome;
    }
  }
  const validBytes = tornTail ? Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1), 'utf8') : Buffer.byteLength(text, 'utf8');
  return ok({ files, tornTail, validBytes });
}

export class JournalWriter {
  private fd: number;

  constructor(path: string, state: { tornTail: boolean; validBytes: number }) {
    // Cut a torn last line off, so the next entry starts on a line of its own and the file stays readable.
    if (state.tornTail) truncateSync(path, state.validBytes);
    this.fd = openSync(path, 'a');
  }

  append(entry: JournalEntry): void {
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
