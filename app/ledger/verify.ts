import fs from 'node:fs';
import path from 'node:path';
import { bytesEqual, toHex } from '../../lib/bytes';
import os from 'node:os';
import type { HashChainCheck } from './hash-chain-check';
import { hashChainProblemMessage, startHashChainCheck } from './hash-chain-check';
import type { Problem, ReplaySummary, ReplayVisitor } from './replay';
import { ReplayProblem, replayLedger } from './replay';
import type { Db } from './storage';
import { openDb, storageError } from './storage';
import { fromHex } from '../../lib/bytes';
import { parseSignedHead, signedHeadValid } from './signed-head';
import { readSignedHeadsFile, signedHeadsFile } from './signed-heads-file';
import type { CrashScan } from './wal-scan';
import { scanAfterCrash } from './wal-scan';

import type { ExternalHead } from './heads-file';

export type { ExternalHead } from './heads-file';
export { ExternalHeadSchema, readHeadsFile } from './heads-file';

export interface VerifyOptions {
  readonly expectedHeads?: readonly ExternalHead[];
  /**
   * Re-hash the chain on a second thread while the main one replays it: 'auto' (the default) does so for
   * ledgers of PARALLEL_FROM entries or more on a machine with PARALLEL_CORES cores or more.
   */
  readonly parallel?: 'auto' | 'always' | 'never';
  /** the station public key from keys/station.json; the genesis entry must name the same key */
  readonly stationPublicKey?: Uint8Array;
  /** the second location of the station's signed heads (`--heads`, station.json `signedHeadsDir`) */
  readonly signedHeadsDir?: string;
}

export interface VerifyReport {
  readonly file: string;
  readonly ok: boolean;
  readonly problem?: Problem;
  readonly summary?: ReplaySummary;
  /** what was checked, in words (once the chain replayed) */
  readonly checked?: readonly string[];
  /** what could not be checked with what was given, in words */
  readonly unchecked?: readonly string[];
}

/** Parses `<seq>:<hex hash>` as given on the command line from a printed tape. */
export function parseHeadArg(raw: string): ExternalHead {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(raw);
  if (m === null) throw new Error(`a head is "<seq>:<64 hex digits>", got "${raw}"`);
  return { seq: Number(m[1]), hash: m[2] as string, what: 'the head given on the command line' };
}

export const PARALLEL_FROM = 50_000;
export const PARALLEL_CORES = 4;

export function verifyDb(db: Db, file: string, opts: VerifyOptions = {}, visitor: ReplayVisitor = {}, crash: CrashScan = { kind: 'clean' }): VerifyReport {
  const heads = opts.expectedHeads ?? [];
  // the station's own record of lost entries it found at start-up (wal-scan.ts) stays in the report
  const damage: string[] = [];
  const seen: ReplayVisitor = {
    ...visitor,
    onEvent: (ev, seq) => {
      if (ev.type === 'ledger-damaged') damage.push(`at entry ${seq} the station found its ${String(ev.detail['mode'] ?? '')} ledger damaged at start-up (${String(ev.detail['message'] ?? ev.detail['what'] ?? '')}): entries it had recorded before then may be lost`);
      visitor.onEvent?.(ev, seq);
    },
  };
  let replayed: ReplaySummary | undefined;
  let chain: HashChainCheck | undefined;
  try {
    // a snapshot bound: a station appending meanwhile adds entries neither thread looks at
    const lastSeq = (db.prepare('SELECT max(seq) FROM entries').pluck().get() as number | null) ?? 0;
    const mode = opts.parallel ?? 'auto';
    // both threads read every row, so it pays only with cores to spare: on a busy 2-core machine the
    // one-thread pass measured faster (test/bench/ledger-verify.bench.ts prints both)
    const parallel = mode === 'always' || (mode === 'auto' && lastSeq >= PARALLEL_FROM && os.availableParallelism() >= PARALLEL_CORES);
    if (parallel) chain = startHashChainCheck(file, lastSeq);
    let replayProblem: Problem | undefined;
    try {
      replayed = replayLedger(db, seen, new Set(heads.map((h) => h.seq)), { lastSeq, hashesCheckedElsewhere: parallel });
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
        return { file, ok: false, problem: { seq: p.seq, kind: p.kind, message: hashChainProblemMessage(p.kind, p.seq, p.next) } };
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
  const checked: string[] = [
    `hashes and links of entries 1 to ${summary.head.seq}, ballot states, ${summary.batches.length} batch checkpoint(s) and ${summary.signedHeads.size} signed head(s) in the ledger against the station key`,
  ];
  const unchecked: string[] = [...damage];
  const failed = (problem: Problem): VerifyReport => ({ file, ok: false, summary, problem, checked, unchecked });
  for (const h of [...heads].sort((a, b) => a.seq - b.seq)) {
    if (h.seq > summary.head.seq) {
      return failed({ seq: summary.head.seq + 1, kind: 'truncated', message: `the ledger ends at entry ${summary.head.seq} but entry ${h.seq} is on ${h.what}: entries from ${summary.head.seq + 1} on were cut off` });
    }
    const got = summary.hashesAt.get(h.seq);
    if (got === undefined || toHex(got) !== h.hash) {
      return failed({ seq: h.seq, kind: 'rewritten', message: `entry ${h.seq} differs from ${h.what}: the ledger up to it was rewritten` });
    }
  }
  if (heads.length > 0) checked.push(`${heads.length} printed or anchored head(s), the last at entry ${Math.max(...heads.map((h) => h.seq))}`);
  if (summary.pollsEvents) checked.push('every ballot was entered while the polls were open');
  else unchecked.push('the ledger records no polls events: when its ballots were entered is not checked');
  if (summary.sealedAt !== undefined) checked.push(`sealed at entry ${summary.sealedAt} when the polls closed: only the events of a closed station follow it`);
  else if (summary.genesis.mode === 'official') unchecked.push('not sealed (the polls have not closed): entries may still be added at the end');
  const walProblem = crashCheck(crash, summary, checked, unchecked);
  if (walProblem !== undefined) return failed(walProblem);
  const second = secondLocation(summary, opts, checked, unchecked);
  if (second !== undefined) return failed(second);
  return { file, ok: true, summary, checked, unchecked };
}

/** The log a killed writer left (wal-scan.ts): lost committed frames are lost entries. */
function crashCheck(crash: CrashScan, summary: ReplaySummary, checked: string[], unchecked: string[]): Problem | undefined {
  switch (crash.kind) {
    case 'clean':
      return undefined;
    case 'writer-running':
      unchecked.push(`a station (process ${crash.pid}) has the ledger open: its write-ahead log is live and was not scanned`);
      return undefined;
    case 'scanned':
      if (crash.scan.problems.length > 0) {
        return { seq: summary.head.seq + 1, kind: 'truncated', message: `the ledger ends at entry ${summary.head.seq}, but its write-ahead log lost committed entries after it: ${crash.scan.problems.join('; ')}` };
      }
      checked.push(`the write-ahead log a stopped station left: ${crash.scan.committedFrames} committed frame(s), none lost`);
      return undefined;
  }
}

/** The signed heads in the second location: each must verify and the ledger must reach it, unchanged. */
function secondLocation(summary: ReplaySummary, opts: VerifyOptions, checked: string[], unchecked: string[]): Problem | undefined {
  const end = summary.head.seq;
  const knownTo = Math.max(0, ...(opts.expectedHeads ?? []).map((h) => h.seq));
  if (opts.signedHeadsDir === undefined) {
    unchecked.push(
      knownTo > 0
        ? `second heads location not given (--heads <dir>): shortening after entry ${knownTo} not checkable`
        : 'second heads location not given (--heads <dir>) and no printed head: shortening not checkable',
    );
    return undefined;
  }
  const g = summary.genesis;
  const file = signedHeadsFile(opts.signedHeadsDir, g.station.id, g.mode);
  const read = readSignedHeadsFile(file);
  // the ledger's own signed heads the second location lacks: each should have reached it when it was signed
  const missingFrom = (after: number): string => {
    const missing = [...summary.signedHeads.keys()].filter((e) => e > after).sort((a, b) => a - b);
    return missing.length === 0 ? '' : `; the ledger holds ${missing.length} signed head(s) after that which never reached it (at entr${missing.length === 1 ? 'y' : 'ies'} ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}): was the device away when they were signed?`;
  };
  if (read === undefined) {
    unchecked.push(`${file} does not exist: no signed heads of station ${g.station.id}'s ${g.mode} ledger there, shortening after entry ${knownTo} not checkable${missingFrom(0)}`);
    return undefined;
  }
  const publicKey = fromHex(g.station.publicKey, 'station public key', 32);
  let last: { entry: number; headSeq: number } | undefined;
  for (const [i, line] of read.lines.entries()) {
    const where = `${file} line ${i + 1}`;
    let headSeq: number;
    try {
      const st = parseSignedHead(line.statement);
      if (st.mode !== g.mode || st.election !== g.election.hash || st.station !== g.station.id) {
        return { seq: line.entry, kind: 'invalid', message: `${where}: the signed head names another mode, election or station than the ledger` };
      }
      if (st.headSeq !== line.entry - 1) return { seq: line.entry, kind: 'invalid', message: `${where}: the line says entry ${line.entry} but its statement signs entry ${st.headSeq}` };
      headSeq = st.headSeq;
    } catch (e) {
      return { seq: line.entry, kind: 'invalid', message: `${where}: ${(e as Error).message}` };
    }
    if (!signedHeadValid(line.statement, fromHex(line.signature, 'signature', 64), publicKey)) {
      return { seq: line.entry, kind: 'bad-signature', message: `${where}: the signed head does not verify with the station key` };
    }
    if (line.entry > end) {
      return {
        seq: end + 1,
        kind: 'truncated',
        message: `the ledger ends at entry ${end}; the last signed head (${where}) says entry ${headSeq}, signed at entry ${line.entry}: entries from ${end + 1} on were cut off`,
      };
    }
    if (summary.signedHeads.get(line.entry)?.body !== line.statement) {
      return { seq: line.entry, kind: 'rewritten', message: `entry ${line.entry} is not the signed head in ${where}: the ledger up to it was rewritten` };
    }
    if (last === undefined || line.entry > last.entry) last = { entry: line.entry, headSeq };
  }
  if (last === undefined) {
    unchecked.push(`${file} holds no signed head: shortening after entry ${knownTo} not checkable${missingFrom(0)}`);
    return undefined;
  }
  checked.push(`${read.lines.length} signed head(s) in ${file}: the ledger ends at entry ${end}; the last signed head says ${last.headSeq} (signed at entry ${last.entry})`);
  if (read.torn) unchecked.push(`${file} ends in a line cut short (a write cut by a crash or a pulled device): it was ignored`);
  if (end > last.entry) unchecked.push(`entries ${last.entry + 1} to ${end} come after the last signed head in the second location: a cut after entry ${Math.max(last.entry, knownTo)} is not caught${missingFrom(last.entry)}`);
  return undefined;
}

/** Opens the ledger file read-only and verifies it; never needs the station's private key. */
export function verifyLedgerFile(file: string, opts: VerifyOptions = {}, visitor: ReplayVisitor = {}): VerifyReport {
  // before SQLite opens it: a killed station's log and index, as it left them (wal-scan.ts)
  const crash = scanAfterCrash(file);
  if (crash.kind === 'scanned' && crash.scan.problems.length > 0) {
    // opening the files in place would rebuild the log's index, the evidence the station's next start must
    // see too: verify a private copy of the database and its log instead
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tallyproof-verify-'));
    try {
      const copy = path.join(dir, path.basename(file));
      fs.copyFileSync(file, copy);
      fs.copyFileSync(`${file}-wal`, `${copy}-wal`);
      const db = openDb(copy, { readonly: true });
      try {
        return { ...verifyDb(db, copy, opts, visitor, crash), file };
      } finally {
        db.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const db = openDb(file, { readonly: true });
  try {
    return verifyDb(db, file, opts, visitor, crash);
  } finally {
    db.close();
  }
}
