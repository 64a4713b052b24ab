import type { Contest, ElectionDefinition } from '../../ballots/election';
import { contestOptions, voteFor } from '../../ballots/election';
import type { ContestTally, Tally } from '../ledger/tally';
import type { Block } from './blocks';
import { assertPrintable } from './blocks';
import { ReportError } from './errors';
import { layoutPages } from './layout';
import type { Paper } from './paper';
import { isPaper, paperSpec } from './paper';
import { renderPdf, writePdfFile } from './render';

export type { Paper } from './paper';
/** The validated election definition (`ValidElection.definition` from ballots/election). */
export type Election = ElectionDefinition;

export interface TapeInput {
  readonly election: Election;
  /** hex; the hash the ledger and the ballots carry */
  readonly electionHash: string;
  /** precinct id */
  readonly precinct: string;
  readonly stationId: string;
  readonly mode: 'test' | 'official';
  /** null for a zero tape: every contest and option at 0, ballot count 0 */
  readonly tally: Tally | null;
  /** lines from calibration/profile.ts describeThresholds (VVSG 1.1.6-G) */
  readonly thresholds: readonly string[];
  readonly ledgerHead: { readonly seq: number; readonly hash: string };
  /** hex; a results tape prints it and a QR code of it */
  readonly batchRoot?: string;
  /** ISO time, minute precision: the tape is printed at the station and may carry the time */
  readonly printedAt: string;
}

type Kind = 'zero' | 'results';

const HEX64 = /^[0-9a-f]{64}$/;
const PRINTED_AT = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d{1,3})?)?Z$/;

/** The zero tape, printed when polls open: every contest and option of the precinct's ballots at 0. */
export async function writeZeroTape(input: TapeInput, outFile: string, paper: Paper): Promise<void> {
  writePdfFile(outFile, await renderTape('zero', input, paper));
}

/** The results tape, printed when polls close: the ledger's totals for the precinct's contests. */
export async function writeResultsTape(input: TapeInput, outFile: string, paper: Paper): Promise<void> {
  writePdfFile(outFile, await renderTape('results', input, paper));
}

/** The PDF bytes of a tape, without writing them (the station may send them straight to a printer). */
export async function renderTape(kind: Kind, input: TapeInput, paper: Paper): Promise<Buffer> {
  if (!isPaper(paper)) throw new ReportError('bad-input', `paper must be roll80 or letter, got "${String(paper)}"`);
  const checked = checkInput(kind, input);
  const blocks = tapeBlocks(kind, input, checked);
  assertPrintable(blocks);
  const name = kind === 'zero' ? 'Zero tape' : 'Results tape';
  const mode = input.mode === 'test' ? 'TEST' : 'Official';
  const pages = layoutPages(blocks, paperSpec(paper), { header: `${name} · ${mode} · ${input.election.election.title} · ${checked.precinctName} · station ${input.stationId}` });
  return renderPdf(pages, { title: `${name}: ${input.election.election.title}, ${checked.precinctName}`, subject: `${mode} ${name.toLowerCase()}, station ${input.stationId}, election ${input.electionHash}`, date: checked.printedAt });
}

interface Checked {
  readonly precinctName: string;
  readonly styles: readonly string[];
  readonly contests: readonly Contest[];
  readonly byId: ReadonlyMap<string, ContestTally>;
  readonly printedAt: Date;
  readonly printedText: string;
}

function checkInput(kind: Kind, input: TapeInput): Checked {
  const e = input.election;
  if (!HEX64.test(input.electionHash)) throw new ReportError('bad-input', `the election hash must be 64 lowercase hex digits, got "${input.electionHash}"`);
  if (!HEX64.test(input.ledgerHead.hash)) throw new ReportError('bad-input', `the ledger head hash must be 64 lowercase hex digits, got "${input.ledgerHead.hash}"`);
  if (!Number.isSafeInteger(input.ledgerHead.seq) || input.ledgerHead.seq < 1) throw new ReportError('bad-input', `the ledger head entry must be a positive whole number, got ${input.ledgerHead.seq}`);
  if (input.batchRoot !== undefined && !HEX64.test(input.batchRoot)) throw new ReportError('bad-input', `the batch root must be 64 lowercase hex digits, got "${input.batchRoot}"`);
  if (input.mode !== 'test' && input.mode !== 'official') throw new ReportError('bad-input', `mode must be test or official, got "${String(input.mode)}"`);
  const when = PRINTED_AT.exec(input.printedAt);
  const printedAt = new Date(input.printedAt);
  if (when === null || Number.isNaN(printedAt.getTime())) throw new ReportError('bad-input', `printedAt must be an ISO time in UTC such as 2026-11-03T20:05Z, got "${input.printedAt}"`);
  printedAt.setUTCSeconds(0, 0);

  const precinct = e.precincts.find((p) => p.id === input.precinct);
  if (precinct === undefined) throw new ReportError('unknown-precinct', `the election "${e.election.title}" has no precinct "${input.precinct}" (it has ${e.precincts.map((p) => p.id).join(', ')})`);
  const styles = e.ballotStyles.filter((s) => s.precincts.includes(precinct.id));
  const wanted = new Set(styles.flatMap((s) => s.contests));
  // definition order, each contest once even when several styles share it
  const contests = e.contests.filter((c) => wanted.has(c.id));

  const byId = new Map<string, ContestTally>();
  const t = input.tally;
  if (kind === 'results' && t === null) throw new ReportError('bad-input', 'a results tape needs the tally of the ledger');
  if (t !== null) {
    if (t.election.hash !== input.electionHash) throw new ReportError('wrong-election', `the tally is of election ${t.election.hash} ("${t.election.title}"), not of this election ${input.electionHash}`);
    if (t.mode !== input.mode) throw new ReportError('wrong-election', `the tally is of the ${t.mode} ledger, the tape is for ${input.mode} mode`);
    if (t.station !== input.stationId) throw new ReportError('wrong-election', `the tally is of station "${t.station}", the tape is for station "${input.stationId}"`);
    for (const c of t.contests) byId.set(c.id, c);
    for (const c of contests) {
      const ct = byId.get(c.id);
      if (ct === undefined) throw new ReportError('wrong-election', `the tally has no contest "${c.id}", which the ballots of precinct ${precinct.id} carry`);
      const want = contestOptions(c, e).map((o) => o.id);
      const got = Object.keys(ct.votes);
      if (want.join('\n') !== got.join('\n')) throw new ReportError('wrong-election', `contest "${c.id}": the tally counts options ${got.join(', ')}, the election defines ${want.join(', ')}`);
    }
    if (kind === 'zero' && (t.ballots.cast > 0 || t.ballots.pending > 0)) {
      throw new ReportError('not-zero', `a zero tape cannot be printed: the ledger already holds ${t.ballots.cast} cast and ${t.ballots.pending} pending ballot(s)`);
    }
  }
  return { precinctName: precinct.name, styles: styles.map((s) => s.id), contests, byId, printedAt, printedText: `${when[1]} ${when[2]} UTC` };
}

const n = (v: number): string => String(v);

function tapeBlocks(kind: Kind, input: TapeInput, c: Checked): Block[] {
  const e = input.election;
  const test = input.mode === 'test';
  const testBanner: Block[] = test ? [{ kind: 'banner', text: 'TEST — NOT AN OFFICIAL TAPE', inverse: true }] : [];
  const tally = kind === 'zero' ? null : input.tally;
  const ballots = tally?.ballots ?? { cast: 0, returned: 0, castAsIs: 0, marginal: 0, pending: 0 };

  const head: Block[] = [
    ...testBanner,
    { kind: 'banner', text: kind === 'zero' ? 'ZERO TAPE' : 'RESULTS TAPE', inverse: !test },
    { kind: 'text', text: kind === 'zero' ? 'Polls open: no ballot has been counted.' : 'Polls closed: totals from the verified ledger.', small: true, center: true },
    { kind: 'space', mm: 1 },
    { kind: 'heading', text: e.election.title },
    { kind: 'text', text: `${e.election.jurisdiction} · ${e.election.date}` },
    { kind: 'row', label: 'Precinct', value: input.precinct },
    { kind: 'text', text: c.precinctName, small: true },
    { kind: 'row', label: 'Ballot style', value: c.styles.join(', ') },
    { kind: 'row', label: 'Station', value: input.stationId },
    { kind: 'row', label: 'Mode', value: test ? 'TEST' : 'OFFICIAL', bold: true },
    { kind: 'row', label: 'Printed', value: c.printedText },
    { kind: 'hash', label: 'Election hash (SHA-256)', hex: input.electionHash },
    { kind: 'rule', heavy: true },
    { kind: 'heading', text: 'Ballots' },
    { kind: 'row', label: 'Ballots cast', value: n(ballots.cast), bold: true },
    { kind: 'row', label: 'Recorded, not counted', value: n(ballots.returned) },
    { kind: 'row', label: 'Cast as is', value: n(ballots.castAsIs) },
    { kind: 'row', label: 'With a marginal mark', value: n(ballots.marginal) },
    ...(ballots.pending > 0 ? [{ kind: 'row', label: 'Pending, not counted', value: n(ballots.pending), bold: true } as const] : []),
    { kind: 'rule', heavy: true },
  ];

  const contests: Block[] = c.contests.map((contest) => contestGroup(contest, e, c.byId.get(contest.id), kind));

  const tail: Block[] = [
    { kind: 'rule', heavy: true },
    { kind: 'heading', text: 'Mark thresholds in use' },
    ...(input.thresholds.length > 0 ? input.thresholds.map((t): Block => ({ kind: 'text', text: t, small: true })) : [{ kind: 'text', text: 'none given', small: true } as const]),
    { kind: 'rule' },
    { kind: 'heading', text: 'Ledger' },
    { kind: 'row', label: 'Head entry', value: n(input.ledgerHead.seq) },
    { kind: 'hash', label: 'Head hash', hex: input.ledgerHead.hash },
    ...(kind === 'results'
      ? input.batchRoot !== undefined
        ? ([{ kind: 'hash', label: 'Batch root (Merkle tree of the published records)', hex: input.batchRoot }, { kind: 'qr', text: input.batchRoot }] as const)
        : ([{ kind: 'text', text: 'Batch root: no batch closed yet.', small: true }] as const)
      : []),
    { kind: 'rule', heavy: true },
    { kind: 'heading', text: 'Signatures' },
    { kind: 'text', text: kind === 'zero' ? 'We saw this tape show zero before any ballot was cast.' : 'We saw this tape printed at the close of polls.', small: true },
    { kind: 'space', mm: 1 },
    { kind: 'signature', role: 'Precinct captain' },
    { kind: 'signature', role: 'Poll worker' },
    { kind: 'signature', role: 'Poll worker' },
    ...testBanner,
    { kind: 'text', text: `End of ${kind} tape`, small: true, center: true },
  ];
  return [...head, ...contests, ...tail];
}

function contestGroup(contest: Contest, e: Election, t: ContestTally | undefined, kind: Kind): Block {
  const v = (x: number | undefined): string => n(kind === 'zero' ? 0 : (x ?? 0));
  const parties = new Map(e.parties.map((p) => [p.id, p.name]));
  const options = contestOptions(contest, e);
  const writeIns = options.filter((o) => o.writeIn).length;
  const rows: Block[] = options.map((o, i): Block => {
    const label = o.writeIn ? (writeIns > 1 ? `Write-in ${i - (options.length - writeIns) + 1}` : 'Write-in') : o.label;
    const votes = v(t?.votes[o.id]);
    const party = contest.type === 'candidate' ? contest.candidates.find((x) => x.id === o.id)?.party : undefined;
    const note = party === undefined ? undefined : (parties.get(party) ?? party);
    return note === undefined ? { kind: 'row', label, value: votes, indent: true } : { kind: 'row', label, value: votes, note, indent: true };
  });
  return {
    kind: 'group',
    blocks: [
      { kind: 'heading', text: contest.title },
      { kind: 'text', text: `Vote for ${voteFor(contest)}`, small: true },
      ...rows,
      { kind: 'row', label: 'Ballots with this contest', value: v(t?.ballots) },
      { kind: 'row', label: 'Overvoted ballots', value: v(t?.overvotedBallots) },
      { kind: 'row', label: 'Undervoted ballots', value: v(t?.undervotedBallots) },
      { kind: 'row', label: 'Undervotes (unused votes)', value: v(t?.undervotes) },
      ...(writeIns > 0 ? [{ kind: 'row', label: 'Ballots with a write-in', value: v(t?.writeInBallots) } as const] : []),
      { kind: 'row', label: 'Ballots with a marginal mark', value: v(t?.marginalBallots) },
      { kind: 'rule' },
    ],
  };
}
