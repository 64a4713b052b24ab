import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ValidElection } from '../../ballots/election';
import { contestOptions, voteFor } from '../../ballots/election';
import { DEFAULT_PROFILE, describeThresholds } from '../../calibration/profile';
import { toHex } from '../../lib/bytes';
import type { Genesis } from '../../app/ledger/entries';
import { dataLayout } from '../../app/ledger/layout';
import { Ledger } from '../../app/ledger/ledger';
import type { BallotCapture, LedgerMode } from '../../app/ledger/record';
import type { Tally } from '../../app/ledger/tally';
import { TallyCollector } from '../../app/ledger/tally';
import type { VerifyReport } from '../../app/ledger/verify';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { TapeInput } from '../../app/reports/tapes';
import type { CheckpointQr } from '../../app/reports/checkpoint-qr';
import { readLedgerForTape } from '../../app/reports/ledger-tape';
import type { TapeFacts } from '../../app/reports/tape-facts';
import { EXAMPLES, example } from '../support/ballots';
import { mulberry32, serialFrom, testSigner } from '../ledger/fixtures';

export const STATION_ID = 'station-7';

/** The ledger's view of an election definition: contest ids, option ids in ballot order, seats. */
export function genesisForElection(e: ValidElection, mode: LedgerMode, signer = testSigner()): Genesis {
  return {
    format: 'tallyproof-ledger/1',
    mode,
    election: {
      hash: e.hash,
      title: e.definition.election.title,
      contests: e.definition.contests.map((c) => ({ id: c.id, options: contestOptions(c, e.definition).map((o) => o.id), seats: voteFor(c) })),
    },
    station: { id: STATION_ID, number: 7, publicKey: Buffer.from(signer.publicKey).toString('hex') },
  };
}

/** Votes counted straight from the captures, independent of the ledger's tally: contest id → option id → votes. */
export type Expected = Map<string, Map<string, number>>;

/** A random ballot of the precinct's style: 0..seats+1 marks per contest, write-ins flagged. */
function randomBallot(rand: () => number, e: ValidElection, styleContests: readonly number[], mode: LedgerMode): BallotCapture {
  const contests = styleContests.map((index) => {
    const def = e.definition.contests[index]!;
    const options = contestOptions(def, e.definition);
    const seats = voteFor(def);
    const k = Math.floor(rand() * (seats + 2));
    const pool = options.map((_, i) => i);
    const chosen: number[] = [];
    for (let j = 0; j < k && pool.length > 0; j++) chosen.push(pool.splice(Math.floor(rand() * pool.length), 1)[0]!);
    chosen.sort((a, b) => a - b);
    return { contest: index, options: chosen, overvote: chosen.length > seats, undervote: chosen.length < seats, marginal: rand() < 0.1, writeIn: chosen.some((o) => options[o]!.writeIn) };
  });
  const ballotId = serialFrom(rand);
  return {
    ballotId,
    votingId: `${mode === 'test' ? 'T' : 'O'}:${e.hash.slice(0, 16)}:style:precinct`,
    mode,
    castAsIs: contests.some((c) => c.overvote) && rand() < 0.5,
    imageSha256: new Uint8Array(crypto.createHash('sha256').update(ballotId).digest()),
    readerVersion: 1,
    calibrationVersion: 1,
    contests,
  };
}

export interface Station {
  readonly dir: string;
  readonly election: ValidElection;
  readonly ledgerFile: string;
  readonly expected: Expected;
  readonly cast: number;
  readonly returned: number;
  /** sheets rejected, by the reason logged ('ballot-rejected' events) */
  readonly rejected: ReadonlyMap<string, number>;
  /** sheets the voter took back with no record ('ballot-returned' events) */
  readonly returnedToVoter: number;
  /** the zero tape's 'tape-printed' entry and the hash it recorded (official ledger) */
  readonly zeroTape: { seq: number; entryHash: string; sha256: string } | undefined;
}

export interface StationOptions {
  readonly election: 'municipal' | 'general';
  readonly precinct: string;
  readonly mode?: LedgerMode;
  /** ballots fed; about one in eight is returned instead of cast */
  readonly ballots: number;
  readonly seed?: number;
  /** close a batch after the ballots (a results tape prints its root) */
  readonly closeBatch?: boolean;
  /** record the precinct in an election-loaded event, as the station does (default true) */
  readonly notePrecinct?: boolean;
  /** record the events a station records around its ballots: zero tape, polls opened, paused, closed (default true) */
  readonly pollsEvents?: boolean;
}

/** The times of the events a fixture station records, as the station would. */
export const TIMES = { zeroTape: '2026-11-03T06:55:12Z', opened: '2026-11-03T07:00:03Z', paused: '2026-11-03T12:01:00Z', resumed: '2026-11-03T12:31:30Z', closed: '2026-11-03T20:00:41Z' } as const;
export const ZERO_TAPE_SHA = crypto.createHash('sha256').update('the zero tape PDF').digest('hex');
const REJECT_REASONS = ['wrong-precinct', 'duplicate', 'scanner-streaks,unreadable'] as const;

/**
 * A station data directory as the station leaves it: the election package in `election/`, a real SQLite
 * ledger whose genesis is the example election, the precinct noted in an election-loaded event, random
 * ballots of the precinct's style cast or returned, and optionally a closed batch.
 */
export function buildStation(dir: string, o: StationOptions): Station {
  const mode = o.mode ?? 'official';
  const e = example(o.election);
  fs.mkdirSync(path.join(dir, 'election'), { recursive: true });
  fs.copyFileSync(path.join(EXAMPLES, `${o.election}.json`), path.join(dir, 'election', 'election.json'));
  fs.writeFileSync(path.join(dir, 'election', 'calibration.json'), JSON.stringify({ ...DEFAULT_PROFILE, name: 'station-7 calibration' }));
  const layout = dataLayout(dir);
  fs.mkdirSync(path.dirname(layout.ledger(mode)), { recursive: true });
  const signer = testSigner();
  const ledger = Ledger.create(layout.ledger(mode), genesisForElection(e, mode, signer));
  // the station keeps every audit event in the official ledger, test mode included
  const official = mode === 'official' ? ledger : Ledger.create(layout.ledger('official'), genesisForElection(e, 'official', signer));
  official.recordEvent({ type: 'election-loaded', role: 'administrator', at: '2026-11-03T06:30:00Z', detail: o.notePrecinct === false ? {} : { precinct: o.precinct } });
  const events = o.pollsEvents !== false;
  let zeroTape: Station['zeroTape'];
  if (events) {
    if (mode === 'test') official.recordEvent({ type: 'mode-changed', role: 'captain', at: '2026-11-03T06:40:00Z', detail: { from: 'configured', to: 'testing' } });
    const z = official.recordEvent({ type: 'tape-printed', role: 'captain', at: TIMES.zeroTape, detail: { kind: 'zero', mode, headSeq: 2, sha256: ZERO_TAPE_SHA, copies: 1, printer: 'simulated', file: 'zero.pdf' } });
    zeroTape = { seq: z.seq, entryHash: toHex(z.entryHash), sha256: ZERO_TAPE_SHA };
    if (mode === 'official') official.recordEvent({ type: 'polls-opened', role: 'captain', at: TIMES.opened, detail: { from: 'configured', to: 'open' } });
  }
  const rejected = new Map<string, number>();
  let returnedToVoter = 0;
  const style = e.definition.ballotStyles.find((s) => s.precincts.includes(o.precinct));
  const styleContests = (style?.contests ?? []).map((id) => e.definition.contests.findIndex((c) => c.id === id));
  const rand = mulberry32(o.seed ?? 7);
  const expected: Expected = new Map(e.definition.contests.map((c) => [c.id, new Map(contestOptions(c, e.definition).map((x) => [x.id, 0]))]));
  let cast = 0;
  let returned = 0;
  for (let i = 0; i < o.ballots; i++) {
    if (events && mode === 'official' && i === Math.floor(o.ballots / 2)) {
      official.recordEvent({ type: 'polls-paused', role: 'poll-worker', at: TIMES.paused, detail: { from: 'open', to: 'paused' } });
      official.recordEvent({ type: 'polls-resumed', role: 'poll-worker', at: TIMES.resumed, detail: { from: 'paused', to: 'open' } });
    }
    if (events && i % 7 === 3) {
      const reason = REJECT_REASONS[i % REJECT_REASONS.length] as string;
      official.recordEvent({ type: 'ballot-rejected', role: 'system', at: '2026-11-03T09:00:00Z', detail: { reason } });
      rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
    }
    if (events && i % 11 === 5) {
      official.recordEvent({ type: 'ballot-returned', role: 'system', at: '2026-11-03T09:00:00Z', detail: { reason: 'voter-returned', warning: 'overvote' } });
      returnedToVoter++;
    }
    const capture = randomBallot(rand, e, styleContests, mode);
    const p = ledger.appendPending(capture);
    if (!p.ok) throw new Error(`append refused: ${JSON.stringify(p.error)}`);
    if (rand() < 0.125) {
      if (!ledger.markReturned(p.value.seq, 'overvote').ok) throw new Error('return refused');
      returned++;
      continue;
    }
    if (!ledger.confirmCast(p.value.seq).ok) throw new Error('cast refused');
    cast++;
    for (const sel of capture.contests) {
      if (sel.overvote) continue;
      const def = e.definition.contests[sel.contest]!;
      const ids = contestOptions(def, e.definition);
      const m = expected.get(def.id)!;
      for (const k of sel.options) m.set(ids[k]!.id, (m.get(ids[k]!.id) ?? 0) + 1);
    }
  }
  if (o.closeBatch) {
    if (events && mode === 'official') ledger.recordEvent({ type: 'polls-closed', role: 'captain', at: TIMES.closed, detail: {} });
    const closed = ledger.closeBatch(signer);
    if (!closed.ok) throw new Error('close batch refused');
  }
  ledger.close();
  if (official !== ledger) official.close();
  return { dir, election: e, ledgerFile: layout.ledger(mode), expected, cast, returned, rejected: new Map([...rejected].sort()), returnedToVoter, zeroTape };
}

export interface Verified {
  readonly report: VerifyReport;
  readonly tally: Tally;
  readonly head: { seq: number; hash: string };
  readonly batchRoot: string | undefined;
  /** polls times, zero tape, sheets given back, as the tape code reads them */
  readonly facts: TapeFacts;
  readonly checkpoint: CheckpointQr | undefined;
}

/** Verifies and tallies a ledger the way `ledger tally` does; the facts and checkpoint the way a tape reads them. */
export function verifyAndTally(file: string, network: CheckpointQr['network'] = null): Verified {
  const t = new TallyCollector();
  const report = verifyLedgerFile(file, {}, t.visitor);
  if (!report.ok || report.summary === undefined) throw new Error(`ledger does not verify: ${JSON.stringify(report.problem)}`);
  const s = report.summary;
  const last = s.batches[s.batches.length - 1];
  const read = readLedgerForTape(dataLayout(path.dirname(path.dirname(file))), s.genesis.mode, () => ({}), network);
  if (!read.ok) throw new Error(`ledger does not verify for a tape: ${JSON.stringify(read.problem)}`);
  return { report, tally: t.result(s.pending), head: { seq: s.head.seq, hash: toHex(s.head.hash) }, batchRoot: last === undefined ? undefined : toHex(last.checkpoint.root), facts: read.value.facts, checkpoint: read.value.checkpoint };
}

export function tapeInputFor(st: Station, v: Verified, precinct: string, zero = false): TapeInput {
  return {
    election: st.election.definition,
    electionHash: st.election.hash,
    precinct,
    stationId: STATION_ID,
    mode: v.tally.mode,
    tally: zero ? null : v.tally,
    thresholds: [describeThresholds(DEFAULT_PROFILE)],
    ledgerHead: v.head,
    facts: v.facts,
    ...(v.checkpoint !== undefined && !zero ? { checkpoint: v.checkpoint } : {}),
    // an official results tape prints the ledger's close of polls; the others the station's clock
    ...(zero || v.tally.mode === 'test' ? { printedAt: '2026-11-03T06:55Z' } : {}),
  };
}

/** The text of a PDF as `pdftotext -layout` gives it, one string per page. */
export function pdfText(file: string): string[] {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).split('\f').slice(0, -1);
}

/**
 * The text in reading order: a letter page's two columns one after the other (pdftotext -layout would put
 * both columns' rows on one line), the roll as it is.
 */
export function readingText(file: string, columns: number): string {
  if (columns === 1) return pdfText(file).join('\n');
  const info = pdfInfo(file);
  const wPt = (info.width * 72) / 25.4;
  const hPt = (info.height * 72) / 25.4;
  const parts: string[] = [];
  for (let page = 1; page <= info.pages; page++) {
    for (let c = 0; c < columns; c++) {
      const x = Math.floor((c * wPt) / columns);
      const args = ['-layout', '-f', String(page), '-l', String(page), '-x', String(x), '-y', '0', '-W', String(Math.floor(wPt / columns)), '-H', String(Math.ceil(hPt)), file, '-'];
      parts.push(execFileSync('pdftotext', args, { encoding: 'utf8' }));
    }
  }
  return parts.join('\n');
}

export interface PdfInfo {
  readonly pages: number;
  /** page size in mm of the first page */
  readonly width: number;
  readonly height: number;
}

export function pdfInfo(file: string): PdfInfo {
  const out = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  const pages = Number(/^Pages:\s+(\d+)/m.exec(out)?.[1]);
  const m = /^Page size:\s+([\d.]+) x ([\d.]+) pts/m.exec(out);
  const mm = (pt: string | undefined): number => (Number(pt) * 25.4) / 72;
  return { pages, width: mm(m?.[1]), height: mm(m?.[2]) };
}

/** Rows of a tape as `label ... number`, in print order. */
export function tapeRows(text: string): { label: string; value: string }[] {
  const rows: { label: string; value: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\S.*?)\s{2,}(\S+)\s*$/.exec(line);
    if (m) rows.push({ label: m[1]!, value: m[2]! });
  }
  return rows;
}
