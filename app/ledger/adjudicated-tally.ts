import { toHex } from '../../lib/bytes';
import type { AdjudicationStatement, Decision, MarginalDetail } from './adjudication';
import { applyDecisions, isWriteInOption, itemKey } from './adjudication';
import { marginalDetailOf } from './adjudication-detail';
import type { Genesis, PendingPayload } from './entries';
import { EntryKind, decodeCast, decodePending } from './entries';
import type { BallotRecord, ContestSelection } from './record';
import { decodeRecord } from './record';
import type { AdjudicationSeen } from './replay-adjudication';
import type { ReplayVisitor } from './replay';
import type { Db } from './storage';
import { openDb } from './storage';
import type { Tally } from './tally';
import { TallyCollector } from './tally';
import type { VerifyOptions, VerifyReport } from './verify';
import { verifyLedgerFile } from './verify';

/** A contest of the after-adjudication tally: the station's figures with decisions applied, and the names read on write-in lines. */
export interface AdjudicatedContestTally {
  readonly id: string;
  /** per write-in option: name as read → votes (only where the contest is not overvoted) */
  readonly writeInNames: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** write-in votes no one has named yet */
  readonly unnamedWriteIns: number;
}

export interface AdjudicatedTally {
  readonly format: 'tallyproof-adjudicated-tally/1';
  /** what the station counted: marginal marks count for nothing */
  readonly before: Tally;
  /** the same with every signed decision applied; `ballots.marginal` and `marginalBallots` are the ones still undecided */
  readonly after: Tally;
  readonly writeIns: readonly AdjudicatedContestTally[];
  /** decisions applied (adjudication entries) */
  readonly decisions: number;
  /** items still waiting for a decision */
  readonly undecided: number;
}

/** One thing waiting for (or having) a person's decision. */
export interface AdjudicationItem {
  readonly ballotId: string;
  readonly castSeq: number;
  readonly contest: string;
  /** null: the contest as a whole (recorded without per-sheet detail) */
  readonly option: string | null;
  readonly kind: 'marginal' | 'write-in' | 'contest-marginal';
  /** the options the station counted in this contest */
  readonly counted: readonly string[];
  /** SHA-256 of the ballot's scan(s), as in its pending entry */
  readonly imageSha256: string;
  readonly decision?: { readonly seq: number; readonly decision: Decision; readonly adjudicator: AdjudicationStatement['adjudicator'] };
}

interface Candidate {
  readonly castSeq: number;
  readonly record: BallotRecord;
}

/**
 * Collects, during one verifying replay, the station's tally, the ballots that may need a decision (a
 * contest with a marginal mark or a write-in) and the checked decisions; `finish` reads those few ballots'
 * pending entries for their per-sheet detail and makes the items and the after tally.
 */
export class AdjudicationCollector {
  private readonly before = new TallyCollector();
  private readonly after = new TallyCollector();
  // cast entries whose ballot has a marginal mark or a marked write-in: numbers only, the record is read again
  // at the end (a 24-contest ballot's decoded record is a few KB, and most general-election ballots have a write-in line marked or not)
  private readonly candidates: number[] = [];
  private readonly seen: AdjudicationSeen[] = [];
  private genesis: Genesis | undefined;

  readonly visitor: ReplayVisitor = {
    onGenesis: (g) => {
      this.genesis = g;
      this.before.setGenesis(g);
      this.after.setGenesis(g);
    },
    onCast: (r, castSeq) => {
      this.before.addCast(r);
      this.after.addCast(r);
      if (r.contests.some((c) => c.marginal || c.writeIn)) this.candidates.push(castSeq);
    },
    onReturned: (r, reason, seq) => {
      this.before.visitor.onReturned?.(r, reason, seq);
      this.after.visitor.onReturned?.(r, reason, seq);
    },
    onAdjudication: (a) => {
      this.seen.push(a);
    },
  };

  /** `db`: the verified ledger, for the candidates' pending entries (their per-sheet detail and image digest). */
  finish(db: Db, pending: number): { tally: AdjudicatedTally; items: AdjudicationItem[] } {
    const g = this.genesis;
    if (g === undefined) throw new Error('adjudication: the replay saw no genesis');
    const decisions = new Map<string, AdjudicationSeen>();
    const byBallot = new Map<string, AdjudicationSeen[]>();
    for (const a of this.seen) {
      decisions.set(itemKey(a.statement.ballotId, a.statement.contest, a.statement.option), a);
      const list = byBallot.get(a.statement.ballotId) ?? [];
      list.push(a);
      byBallot.set(a.statement.ballotId, list);
    }
    const entryAt = db.prepare('SELECT kind, payload FROM entries WHERE seq = ?');
    const items: AdjudicationItem[] = [];
    const names = g.election.contests.map(() => new Map<string, Map<string, number>>());
    const unnamed = g.election.contests.map(() => 0);
    for (const castSeq of this.candidates) {
      const cast = entryAt.get(castSeq) as { kind: number; payload: Buffer };
      if (cast.kind !== EntryKind.cast) throw new Error(`adjudication: entry ${castSeq} is not a cast entry`);
      const p = decodePending((entryAt.get(decodeCast(cast.payload)) as { payload: Buffer }).payload);
      const c: Candidate = { castSeq, record: decodeRecord(p.record) };
      const detail = marginalDetailOf(p);
      const mine = byBallot.get(c.record.ballotId) ?? [];
      const adjusted: ContestSelection[] = [];
      for (const sel of c.record.contests) {
        const def = g.election.contests[sel.contest];
        if (def === undefined) throw new Error(`adjudication: contest index ${sel.contest} is not in the election`);
        const own = itemsOf(c, sel, def, detail, toHex(p.imageSha256), decisions);
        items.push(...own);
        const decided = mine.filter((a) => a.statement.contest === def.id).map((a) => a.statement);
        const applied = applyDecisions(sel, def.seats, def.options, decided);
        const stillMarginal = own.some((i) => i.kind !== 'write-in' && i.decision === undefined);
        adjusted.push({ ...sel, options: applied.options, overvote: applied.overvote, undervote: applied.undervote, marginal: stillMarginal, writeIn: applied.options.some((o) => isWriteInOption(def.options[o] ?? '')) });
        if (!applied.overvote) {
          for (const o of applied.options) {
            const id = def.options[o] as string;
            if (!isWriteInOption(id)) continue;
            const name = applied.writeInNames.get(o);
            if (name === undefined) {
              unnamed[sel.contest] = (unnamed[sel.contest] ?? 0) + 1;
              continue;
            }
            const perOption = names[sel.contest] as Map<string, Map<string, number>>;
            const m = perOption.get(id) ?? new Map<string, number>();
            m.set(name, (m.get(name) ?? 0) + 1);
            perOption.set(id, m);
          }
        }
      }
      this.after.removeCast(c.record);
      this.after.addCast({ ...c.record, contests: adjusted });
    }
    return {
      items,
      tally: {
        format: 'tallyproof-adjudicated-tally/1',
        before: this.before.result(pending),
        after: this.after.result(pending),
        writeIns: g.election.contests.map((def, i) => ({
          id: def.id,
          writeInNames: Object.fromEntries([...(names[i] as Map<string, Map<string, number>>)].map(([o, m]) => [o, Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))])),
          unnamedWriteIns: unnamed[i] ?? 0,
        })),
        decisions: this.seen.length,
        undecided: items.filter((i) => i.decision === undefined).length,
      },
    };
  }
}

/** The items of one contest of one candidate ballot, each with its decision if there is one. */
function itemsOf(
  c: Candidate,
  sel: ContestSelection,
  def: Genesis['election']['contests'][number],
  detail: MarginalDetail | undefined,
  imageSha256: string,
  decisions: ReadonlyMap<string, AdjudicationSeen>,
): AdjudicationItem[] {
  const out: AdjudicationItem[] = [];
  const counted = sel.options.map((o) => def.options[o] as string);
  const add = (option: string | null, kind: AdjudicationItem['kind']): void => {
    const d = decisions.get(itemKey(c.record.ballotId, def.id, option));
    out.push({
      ballotId: c.record.ballotId,
      castSeq: c.castSeq,
      contest: def.id,
      option,
      kind,
      counted,
      imageSha256,
      ...(d === undefined ? {} : { decision: { seq: d.seq, decision: d.statement.decision, adjudicator: d.statement.adjudicator } }),
    });
  };
  const marginal = detail?.get(sel.contest) ?? [];
  def.options.forEach((id, oi) => {
    if (isWriteInOption(id) && (sel.options.includes(oi) || marginal.includes(oi))) add(id, 'write-in');
    else if (marginal.includes(oi)) add(id, 'marginal');
  });
  if (detail === undefined && sel.marginal) add(null, 'contest-marginal');
  return out;
}

export interface AdjudicationState {
  readonly report: VerifyReport;
  /** set when the ledger verifies */
  readonly tally?: AdjudicatedTally;
  readonly items?: readonly AdjudicationItem[];
}

/**
 * Verifies a ledger and, if it verifies, gives the tally before and after adjudication and every item with its
 * decision: what `ledger tally`, `tallyproof adjudicate list` and the county's results read.
 */
export function adjudicationState(file: string, opts: VerifyOptions = {}): AdjudicationState {
  const collector = new AdjudicationCollector();
  const report = verifyLedgerFile(file, opts, collector.visitor);
  if (!report.ok || report.summary === undefined) return { report };
  const db = openDb(file, { readonly: true });
  try {
    const { tally, items } = collector.finish(db, report.summary.pending);
    return { report, tally, items };
  } finally {
    db.close();
  }
}

/** The after-adjudication tally alone (the county's results use it), or the verify report that refused it. */
export function tallyAfterAdjudication(file: string, opts: VerifyOptions = {}): { ok: true; tally: Tally; adjudicated: AdjudicatedTally } | { ok: false; report: VerifyReport } {
  const s = adjudicationState(file, opts);
  if (s.tally === undefined) return { ok: false, report: s.report };
  return { ok: true, tally: s.tally.after, adjudicated: s.tally };
}

/** The pending entries of the given cast entries (their voting ID, per-sheet detail and image digest), read-only. */
export function readPendingOfCasts(file: string, castSeqs: readonly number[]): Map<number, PendingPayload> {
  const db = openDb(file, { readonly: true });
  try {
    const entryAt = db.prepare('SELECT kind, payload FROM entries WHERE seq = ?');
    const out = new Map<number, PendingPayload>();
    for (const castSeq of castSeqs) {
      if (out.has(castSeq)) continue;
      const cast = entryAt.get(castSeq) as { kind: number; payload: Buffer } | undefined;
      if (cast === undefined || cast.kind !== EntryKind.cast) continue;
      const pending = entryAt.get(decodeCast(cast.payload)) as { kind: number; payload: Buffer } | undefined;
      if (pending === undefined || pending.kind !== EntryKind.pending) continue;
      out.set(castSeq, decodePending(pending.payload));
    }
    return out;
  } finally {
    db.close();
  }
}
