import fs from 'node:fs';
import { z } from 'zod';
import { bytesEqual, toHex } from './bytes';
import { LedgerError } from './errors';
import os from 'node:os';
import type { ChainCheck } from './chain-check';
import { chainProblemMessage, startChainCheck } from './chain-check';
import type { Problem, ReplaySummary, ReplayVisitor } from './replay';
import { ReplayProblem, replayLedger } from './replay';
import type { Db } from './storage';
import { openDb, storageError } from './storage';

/** A head printed on a tape or anchored on a chain: the ledger must still reach it, unchanged. */
export const ExternalHeadSchema = z.object({
  seq: z.number().int().min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  what: z.string().max(200).default('a recorded head'),
});
export type ExternalHead = z.infer<typeof ExternalHeadSchema>;

export interface VerifyOptions {
  readonly expectedHeads?: readonly ExternalHead[];
  /**
   * Re-hash the chain on a second thread while the main one replays it: 'auto' (the default) does so for
   * ledgers of PARALLEL_FROM entries or more on a machine with PARALLEL_CORES cores or more.
   */
  readonly parallel?: 'auto' | 'always' | 'never';
  /** the station public key from keys/station.json; the genesis entry must name the same key */
  readonly stationPublicKey?: Uint8Array;
}

export interface VerifyReport {
  readonly file: string;
  readonly ok: boolean;
  readonly problem?: Problem;
  readonly summary?: ReplaySummary;
}

/** Reads `<mode>.heads.jsonl`: one JSON head per line; a malformed line is an error, not skipped. */
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

/** Parses `<seq>:<hex hash>` as given on the command line from a printed tape. */
export function parseHeadArg(raw: string): ExternalHead {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(raw);
  if (m === null) throw new Error(`a head is "<seq>:<64 hex digits>", got "${raw}"`);
  return { seq: Number(m[1]), hash: m[2] as string, what: 'the head given on the command line' };
}

export const PARALLEL_FROM = 50_000;
export const PARALLEL_CORES = 4;

export function verifyDb(db: Db, file: string, opts: VerifyOptions = {}, visitor: ReplayVisitor = {}): VerifyReport {
  const heads = opts.expectedHeads ?? [];
  let replayed: ReplaySummary | undefined;
  let chain: ChainCheck | undefined;
  try {
    // a snapshot bound: a station appending meanwhile adds entries neither thread looks at
    const lastSeq = (db.prepare('SELECT max(seq) FROM entries').pluck().get() as number | null) ?? 0;
    const mode = opts.parallel ?? 'auto';
    // both threads read every row, so it pays only with cores to spare: on a busy 2-core machine the
    // one-thread pass measured faster (test/bench/ledger-verify.bench.ts prints both)
    const parallel = mode === 'always' || (mode === 'auto' && lastSeq >= PARALLEL_FROM && os.availableParallelism() >= PARALLEL_CORES);
    if (parallel) chain = startChainCheck(file, lastSeq);
    let replayProblem: Problem | undefined;
    try {
      replayed = replayLedger(db, visitor, new Set(heads.map((h) => h.seq)), { lastSeq, hashesCheckedElsewhere: parallel });
    } catch (e) {
      if (!(e instanceof ReplayProblem)) throw e;
      replayProblem = e.problem;
    }
    if (chain !== undefined) {
      const verdict = chain.result();
      chain = undefined;
      const p = verdict.problem;
      // the chain's verdict on an entry comes first: a replay problem at or after it follows from it
      if (p !== undefined && (replayProblem === undefined || p.seq <= replayProblem.seq)) {
        return { file, ok: false, problem: { seq: p.seq, kind: p.kind, message: chainProblemMessage(p.kind, p.seq, p.next) } };
      }
    }
    if (replayProblem !== undefined) return { file, ok: false, problem: replayProblem };
  } catch (e) {
    chain?.result();
    throw storageError(e, file);
  }
  const summary = replayed as ReplaySummary; // set: every path without it returned above
  if (opts.stationPublicKey !== undefined && !bytesEqual(Buffer.from(summary.genesis.station.publicKey, 'hex'), opts.stationPublicKey)) {
    return { file, ok: false, summary, problem: { seq: 1, kind: 'rewritten', message: 'the genesis entry names another station key than keys/station.json: the ledger was replaced or rewritten' } };
  }
  for (const h of [...heads].sort((a, b) => a.seq - b.seq)) {
    if (h.seq > summary.head.seq) {
      return {
        file,
        ok: false,
        summary,
        problem: { seq: summary.head.seq + 1, kind: 'truncated', message: `the ledger ends at entry ${summary.head.seq} but entry ${h.seq} is on ${h.what}: entries from ${summary.head.seq + 1} on were cut off` },
      };
    }
    const got = summary.hashesAt.get(h.seq);
    if (got === undefined || toHex(got) !== h.hash) {
      return { file, ok: false, summary, problem: { seq: h.seq, kind: 'rewritten', message: `entry ${h.seq} differs from ${h.what}: the ledger up to it was rewritten` } };
    }
  }
  return { file, ok: true, summary };
}

/** Opens the ledger file read-only and verifies it; never needs the station's private key. */
export function verifyLedgerFile(file: string, opts: VerifyOptions = {}, visitor: ReplayVisitor = {}): VerifyReport {
  const db = openDb(file, { readonly: true });
  try {
    return verifyDb(db, file, opts, visitor);
  } finally {
    db.close();
  }
}
