import fs from 'node:fs';
import { z } from 'zod';
import { appendLineDurably } from '../../lib/durable-fs';
import { LedgerError } from './errors';

/**
 * `<data>/ledger/<mode>.heads.jsonl`: the heads printed on a tape or anchored on a chain, one JSON line each.
 * `ledger verify` (and every tape and publish) holds the ledger to them, so a ledger cut back below a head
 * that is on paper no longer verifies. This module is the file's one reader and one writer.
 */
export const ExternalHeadSchema = z.object({
  seq: z.number().int().min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  what: z.string().max(200).default('a recorded head'),
});
export type ExternalHead = z.infer<typeof ExternalHeadSchema>;

/** Reads the heads file: one JSON head per line; a malformed line is an error, not skipped. */
export function readHeadsFile(file: string): ExternalHead[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new LedgerError('io', file, `line ${i + 1} is not JSON`);
      }
      const parsed = ExternalHeadSchema.safeParse(json);
      if (!parsed.success) throw new LedgerError('io', file, `line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
      return parsed.data;
    });
}

/**
 * Appends a head that is now on paper (or on a chain), durably. The line is checked against the schema
 * first: a line readHeadsFile would refuse would make every later verify fail, so it is never written.
 */
export function appendHeadsFileLine(file: string, head: ExternalHead): void {
  const parsed = ExternalHeadSchema.safeParse(head);
  if (!parsed.success) throw new LedgerError('io', file, `not a head line: ${parsed.error.issues.map((x) => `${x.path.join('.') || '(line)'}: ${x.message}`).join('; ')}`);
  const h = parsed.data;
  appendLineDurably(file, JSON.stringify({ seq: h.seq, hash: h.hash, what: h.what }));
}
