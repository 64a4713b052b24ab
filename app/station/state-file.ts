import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { replaceFileAtomically } from '../../lib/durable-fs';
import { POLLS_STATES } from './api';
import { NO_LOCKOUTS } from './pins';

/**
 * What the station keeps besides its ledgers: the polls state (so a restart resumes where it was), the PIN
 * lock-out, and counters the ledger does not hold (sheets returned or rejected before any record was made).
 * Written whole to a temporary file and renamed, so a crash leaves the old state or the new, never half.
 */
const LockoutSchema = z.strictObject({ failures: z.number().int().min(0), until: z.string().nullable() });
/**
 * The PIN lock-out of each role. A state file from before lock-outs were per role holds one shared
 * lock-out: it applies to every role, so an upgrade never lifts a lock-out in force.
 */
const RoleLockoutsSchema = z.union([
  z.strictObject({ 'poll-worker': LockoutSchema, captain: LockoutSchema, auditor: LockoutSchema }),
  LockoutSchema.transform((l) => ({ 'poll-worker': l, captain: l, auditor: l })),
]);

export const StationStateSchema = z.strictObject({
  format: z.literal('tallyproof-station-state/1'),
  /** the election hash (canonical definition) this state belongs to */
  election: z.string().regex(/^[0-9a-f]{64}$/),
  polls: z.enum(POLLS_STATES),
  lockout: RoleLockoutsSchema,
  counts: z.strictObject({ returned: z.number().int().min(0), rejected: z.number().int().min(0) }),
  /** sheets counted in test ledgers since cleared: part of the lifetime count */
  testCountedCleared: z.number().int().min(0),
  /** the last closed batch of the official ledger */
  closedBatch: z.strictObject({ batch: z.number().int(), root: z.string(), treeSize: z.number().int(), headSeq: z.number().int() }).nullable(),
});
export type StationState = z.infer<typeof StationStateSchema>;

export function stationDir(dataDir: string): string {
  return path.join(dataDir, 'station');
}

export function initialState(election: string): StationState {
  return { format: 'tallyproof-station-state/1', election, polls: 'configured', lockout: NO_LOCKOUTS, counts: { returned: 0, rejected: 0 }, testCountedCleared: 0, closedBatch: null };
}

export function readState(file: string): StationState | undefined {
  if (!fs.existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: the station state is not JSON (${(e as Error).message}); restore it from the backup or remove it to start over as "configured"`);
  }
  const parsed = StationStateSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: the station state is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function writeState(file: string, s: StationState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  replaceFileAtomically(file, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
}

/**
 * The sheet journal: which scanner sheet carries which ballot, written before the ledger's pending entry,
 * so that after a crash the station can ask the scanner about the right sheet. Only unsettled ballots stay
 * in it (sheet-journal.ts).
 */
export const SheetLineSchema = z.strictObject({ sheet: z.string(), ballot: z.string(), mode: z.enum(['official', 'test']) });
export type SheetLine = z.infer<typeof SheetLineSchema>;

export function readSheetJournal(file: string): SheetLine[] {
  if (!fs.existsSync(file)) return [];
  const out: SheetLine[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const p = SheetLineSchema.safeParse(JSON.parse(line));
      if (p.success) out.push(p.data);
    } catch {
      // a line torn by a crash mid-append: the ballot it names has no pending entry either
    }
  }
  return out;
}
