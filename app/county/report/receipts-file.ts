import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { replaceFileAtomically } from '../../../lib/durable-fs';
import { processAlive } from '../../../lib/process-alive';
import { err, ok, type Result } from '../../../lib/result';

/**
 * The station's receipts from one county log, `<data>/county/receipts-<origin>.json` (0600): for each batch
 * the log's index for the station's entry and, once proven, the C2SP tlog-proof. Two writers share it: the
 * station's reporter (answers and proofs over the network) and `county receipts` (proofs carried back on the
 * export device), possibly at the same time, so every write is a read, a merge and a replace under a lock
 * file, and a receipt never changes its index or its entry once written.
 */

export const ReceiptSchema = z.strictObject({
  batch: z.number().int().min(1),
  /** SHA-256 of the entry as sent: a receipt is for these bytes only */
  entry: z.string().regex(/^[0-9a-f]{64}$/),
  index: z.number().int().min(0),
  answeredAt: z.string(),
  /** the C2SP tlog-proof once the log published a witnessed checkpoint holding the entry */
  tlogProof: z.string().nullable(),
});
export type Receipt = z.infer<typeof ReceiptSchema>;

const ReceiptsFileSchema = z.strictObject({
  format: z.literal('tallyproof-county-receipts/1'),
  log: z.string(),
  receipts: z.array(ReceiptSchema),
});

/** The receipts file of the log `origin` in a station's data directory (an origin may hold "/" and ":"). */
export function receiptsFile(dataDir: string, origin: string): string {
  return path.join(dataDir, 'county', `receipts-${origin.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

/** The receipts by batch; an absent file is none. The error names the file and says what is wrong with it. */
export function readReceipts(file: string, origin: string): Result<Map<number, Receipt>, string> {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ok(new Map());
    return err(`${file}: cannot read it: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return err(`${file} is not a receipts file (not JSON)`);
  }
  const parsed = ReceiptsFileSchema.safeParse(json);
  if (!parsed.success) return err(`${file} is not a receipts file (${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')})`);
  if (parsed.data.log !== origin) return err(`${file} holds receipts of the log ${JSON.stringify(parsed.data.log)}, not of ${origin}`);
  const byBatch = new Map<number, Receipt>();
  for (const r of parsed.data.receipts) {
    if (byBatch.has(r.batch)) return err(`${file} holds two receipts for batch ${r.batch}`);
    byBatch.set(r.batch, r);
  }
  return ok(byBatch);
}

/**
 * `theirs` merged into `ours`, in place: a batch only they hold is taken; for a batch both hold with the
 * same entry and index, a proof only they hold is taken. A receipt for another entry or index is not taken
 * (the first one written stands): the batches so left out are returned.
 */
export function mergeReceipts(ours: Map<number, Receipt>, theirs: ReadonlyMap<number, Receipt>): number[] {
  const conflicts: number[] = [];
  for (const [batch, t] of theirs) {
    const o = ours.get(batch);
    if (o === undefined) ours.set(batch, t);
    else if (o.entry !== t.entry || o.index !== t.index) conflicts.push(batch);
    else if (o.tlogProof === null && t.tlogProof !== null) ours.set(batch, { ...o, tlogProof: t.tlogProof });
  }
  return conflicts;
}

const LOCK_WAIT_MS = 5_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `fn` holding `<file>.lock` (created exclusively, holding the owner's pid). A lock whose process is
 * gone (a crash) is taken over; a live one is waited for, briefly: each holder reads, merges and replaces
 * one small file.
 */
function withLock<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(lock, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (fd !== undefined) {
      try {
        fs.writeSync(fd, `${process.pid}\n`);
        fs.closeSync(fd);
        return fn();
      } finally {
        fs.rmSync(lock, { force: true });
      }
    }
    if (lockOwnerGone(lock)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > until) throw new Error(`${lock}: another process has held the receipts file for ${LOCK_WAIT_MS / 1000} s (pid ${readPid(lock) ?? '?'})`);
    Atomics.wait(sleeper, 0, 0, 10);
  }
}

function readPid(lock: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(lock, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function lockOwnerGone(lock: string): boolean {
  const pid = readPid(lock);
  if (pid === undefined) {
    // created but its pid not yet written, or a stray file: stale once it is old
    try {
      return Date.now() - fs.statSync(lock).mtimeMs > LOCK_WAIT_MS;
    } catch {
      return true;
    }
  }
  return pid !== process.pid && !processAlive(pid);
}

/**
 * Reads the file, lets `change` alter the receipts, writes them back (atomically, 0600) if it says so, all
 * under the lock. A file that is no receipts file of this log: `'refuse'` returns the error and writes
 * nothing; `'replace'` starts from no receipts (the reporter's way: the ledger still holds every
 * checkpoint, so a damaged file costs a re-send that the log answers with the same index).
 */
export function updateReceipts<T>(
  file: string,
  origin: string,
  damaged: 'refuse' | 'replace',
  change: (receipts: Map<number, Receipt>) => { readonly write: boolean; readonly value: T },
): Result<{ readonly receipts: Map<number, Receipt>; readonly value: T; readonly replacedDamaged: string | null }, string> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  return withLock(file, () => {
    const read = readReceipts(file, origin);
    if (!read.ok && damaged === 'refuse') return read;
    const receipts = read.ok ? read.value : new Map<number, Receipt>();
    const { write, value } = change(receipts);
    if (write) {
      const content = { format: 'tallyproof-county-receipts/1', log: origin, receipts: [...receipts.values()].sort((a, b) => a.batch - b.batch) };
      replaceFileAtomically(file, `${JSON.stringify(content, null, 1)}\n`, { mode: 0o600 });
    }
    return ok({ receipts, value, replacedDamaged: read.ok ? null : read.error });
  });
}
