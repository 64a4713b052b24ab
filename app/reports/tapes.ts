import type { Contest, ElectionDefinition } from '../../ballots/election';
import { contestOptions, voteFor } from '../../ballots/election';
import type { ContestTally, Tally } from '../ledger/tally';
import type { Block } from './blocks';
import { assertPrintable } from './blocks';
import type { CheckpointQr } from './checkpoint-qr';
import { formatCheckpointQr } from './checkpoint-qr';
import { ReportError } from './errors';
import { layoutPages } from './layout';
import type { Paper } from './paper';
import { isPaper, paperSpec } from './paper';
import { renderPdf, writePdfFile } from './render';
import type { TapeFacts } from './tape-facts';
import { total } from './tape-facts';

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
  /** polls times, the zero tape's entry, sheets given back: read from the verified ledger (tape-facts.ts) */
  readonly facts: TapeFacts;
  /** a results tape: the checkpoint the close of polls wrote, printed and carried by the QR code */
  readonly checkpoint?: CheckpointQr;
  /**
   * ISO time, UTC: the station's clock when it prints a zero tape (the same time goes into the tape's
   * 'tape-printed' event) or a test-mode results tape. An official results tape prints the time of the
   * ledger's own polls-closed entry and refuses one given here: nobody sets a results tape's time.
   */
  readonly printedAt?: string;
}

type Kind = 'zero' | 'results';

const HEX64 = /^[0-9a-f]{64}$/;
const PRINTED_AT = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d{1,3})?)?Z$/;

/** The zero tape, printed before the polls open: every contest and option of the precinct's ballots at 0. */
export async function writeZeroTape(input: TapeInput, outFile: string, paper: Paper): Promise<void> {
  writePdfFile(outFile, await renderTape('zero', input, paper));
}

/** The results tape, printed when polls close: the ledger's totals for the precinct's contests. */
export async function writeResultsTape(input: TapeInput, outFile: string, paper: Paper): Promise<void> {
  writePdfFile(outFile, await renderTape('results', input, paper));
}

/** The PDF bytes of a tape, without writing them (the station sends them to its printer). */
export async function renderTape(kind: Kind, input: TapeInput, paper: Paper): Promise<Buffer> {
  if (!isPaper(paper)) throw new ReportError('bad-input', `paper must be roll80 or letter, got "${String(paper)}"`);
  const checked = checkInput(kind, input);
  const blocks = tapeBlocks(kind, input, checked);
  assertPrintable(blocks);
  const name = kind === 'zero' ? 'Zero tape' : 'Results tape';
  const mode = input.mode === 'test' ? 'TEST' : 'Official';
  // station and precinct are printed once, in the tape's body; a letter page's header names the tape only
  const pages = layoutPages(blocks, paperSpec(paper), { header: `${name} · ${mode} · ${input.election.election.title}` });
  return renderPdf(pages, { title: `${name}: ${input.election.election.title}, ${checked.precinctName}`, subject: `${mode} ${name.toLowerCase()}, station ${input.stationId}, election ${input.electionHash}`, date: checked.printedAt });
}

interface Checked {
  readonly precinctName: string;
  readonly styles: readonly string[];
  readonly contests: readonly Contest[];
  readonly byId: ReadonlyMap<string, ContestTally>;
  readonly printedAt: Date;
  readonly printedText: string;
  /** what the printed time is: the close of polls, or the station's clock */
  readonly printedSource: string;
}

/** `2026-11-03T20:05:41Z` → `2026-11-03 20:05 UTC`; a tape shows minutes. */
export function tapeTime(iso: string): string {
  const when = PRINTED_AT.exec(iso);
  if (when === null || Number.isNaN(new Date(iso).getTime())) throw new ReportError('bad-input', `a tape time must be an ISO time in UTC such as 2026-11-03T20:05Z, got "${iso}"`);
  return `${when[1]} ${when[2]} UTC`;
}

function checkInput(kind: Kind, input: TapeInput): Checked {
  const e = input.election;
  if (!HEX64.test(input.electionHash)) throw new ReportError('bad-input', `the election hash must be 64 lowercase hex digits, got "${input.electionHash}"`);
  if (!HEX64.test(input.ledgerHead.hash)) throw new ReportError('bad-input', `the ledger head hash must be 64 lowercase hex digits, got "${input.ledgerHead.hash}"`);
  if (!Number.isSafeInteger(input.ledgerHead.seq) || input.ledgerHead.seq < 1) throw new ReportError('bad-input', `the ledger head entry must be a positive whole number, got ${input.ledgerHead.seq}`);
  if (input.mode !== 'test' && input.mode !== 'official') throw new ReportError('bad-input', `mode must be test or official, got "${String(input.mode)}"`);
  if (input.facts.mode !== input.mode) throw new ReportError('wrong-election', `the ledger facts are of the ${input.facts.mode} ledger, the tape is for ${input.mode} mode`);
  const cp = input.checkpoint;
  if (cp !== undefined) {
    if (kind === 'zero') throw new ReportError('bad-input', 'a zero tape carries no checkpoint');
    if (!HEX64.test(cp.root) || !HEX64.test(cp.digest) || cp.election !== input.electionHash || cp.station !== input.stationId || cp.mode !== input.mode) {
      throw new ReportError('wrong-election', `the checkpoint (batch ${cp.batch}) is not of this station, election and mode`);
    }
  }

  // the printed time: an official results tape's is the ledger's close of polls, never a caller's
  let printedIso: string;
  let printedSource: string;
  if (kind === 'results' && input.mode === 'official') {
    const closed = input.facts.closed;
    if (closed === null) throw new ReportError('not-closed', 'the ledger records no close of the polls: a results tape is printed once the polls are closed');
    if (input.printedAt !== undefined) throw new ReportError('bad-input', "an official results tape prints the time of the ledger's polls-closed entry; no other printed time is taken");
    printedIso = closed.at;
    printedSource = `time of ledger entry ${closed.seq}, polls closed`;
  } else {
    if (input.printedAt === undefined) throw new ReportError('bad-input', `a ${input.mode} ${kind} tape needs the station's clock time at printing`);
    printedIso = input.printedAt;
    printedSource = "the station's clock";
  }
  const printedText = tapeTime(printedIso);
  const printedAt = new Date(printedIso);
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
  return { precinctName: precinct.name, styles: styles.map((s) => s.id), contests, byId, printedAt, printedText, printedSource };
}

const n = (v: number): string => String(v);

/** Words for the reason codes the station logs; a code the tape does not know is printed as it is. */
const REASON_WORDS: Readonly<Record<string, string>> = {
  duplicate: 'already counted (duplicate ballot ID)',
  'unreadable-image': 'image could not be read',
  'image-too-large': 'image too large',
  'image-too-small': 'image too small',
  'blank-page': 'blank page',
  'not-a-ballot': 'not a ballot',
  unalignable: 'could not be aligned',
  'mis-scaled': 'printed at the wrong scale',
  'scanner-streaks': 'scanner streaks (glass dirty)',
  'unreadable-codes': 'ballot codes unreadable',
  'codes-disagree': 'ballot codes disagree',
  'side-missing': 'a side is missing',
  counterfeit: 'signature not valid (counterfeit)',
  'wrong-election': 'ballot of another election',
  'wrong-network': 'ballot of another network',
  'wrong-precinct': 'ballot of another precinct',
  'unknown-precinct': 'unknown precinct',
  'unknown-style': 'unknown ballot style',
  'test-ballot-in-official-mode': 'test ballot while polls are open',
  'official-ballot-in-test-mode': 'official ballot in test mode',
  'read-failed': 'could not be read',
  'record-refused': 'the ledger refused the record',
  'voter-returned': 'the voter took it back after a warning',
  overvote: 'overvote',
  'blank-ballot': 'blank ballot',
  undervote: 'undervote',
  'marginal-marks': 'marginal marks',
  'double-sheet': 'two sheets fed at once',
  unread: 'came back unread',
  'scanner-returned': 'the scanner gave it back',
  'scanner-refused': 'the scanner refused the drop',
  'scanner-stopped': 'the scanner stopped with it (jam, power)',
  reconciled: 'settled after a restart',
};

export function reasonLabel(code: string): string {
  const words = (codes: string): string =>
    codes
      .split(',')
      .map((c) => REASON_WORDS[c] ?? c)
      .join(' + ');
  // 'voter-returned:overvote': the voter's choice, by the warning the voter was shown
  const [first, warning] = code.split(/:(.*)/s);
  return first === 'voter-returned' && warning !== undefined && warning !== '' ? `the voter took it back: ${words(warning)}` : words(code);
}

/** A total row and one indented row per reason, so the parts visibly add up to the total. */
function byReason(label: string, m: ReadonlyMap<string, number>, zero: boolean): Block[] {
  const rows: Block[] = [{ kind: 'row', label, value: n(zero ? 0 : total(m)), bold: true }];
  if (!zero) for (const [code, count] of m) rows.push({ kind: 'row', label: reasonLabel(code), value: n(count), indent: true });
  return rows;
}

function tapeBlocks(kind: Kind, input: TapeInput, c: Checked): Block[] {
  const e = input.election;
  const test = input.mode === 'test';
  const zero = kind === 'zero';
  const f = input.facts;
  const testBanner: Block[] = test ? [{ kind: 'banner', text: 'TEST — NOT AN OFFICIAL TAPE', inverse: true }] : [];
  const tally = zero ? null : input.tally;
  const ballots = tally?.ballots ?? { cast: 0, returned: 0, castAsIs: 0, marginal: 0, pending: 0 };

  const polls: Block[] = [
    { kind: 'heading', text: test ? 'Test session' : 'Polls' },
    ...(zero
      ? []
      : [
          f.opened === null ? ({ kind: 'row', label: test ? 'Test mode began' : 'Polls opened', value: 'not recorded', bold: true } as const) : ({ kind: 'row', label: test ? 'Test mode began' : 'Polls opened', value: tapeTime(f.opened.at) } as const),
          ...f.pauses.map((p): Block => ({ kind: 'row', label: p.kind === 'paused' ? 'Polls paused' : 'Polls resumed', value: tapeTime(p.at), indent: true })),
          ...(test ? [] : [f.closed === null ? ({ kind: 'row', label: 'Polls closed', value: 'not recorded', bold: true } as const) : ({ kind: 'row', label: 'Polls closed', value: tapeTime(f.closed.at) } as const)]),
        ]),
    { kind: 'row', label: 'Printed', value: c.printedText, note: c.printedSource },
  ];

  const zeroRef: Block[] = zero
    ? []
    : [
        { kind: 'rule' },
        { kind: 'heading', text: 'Zero tape of this session' },
        ...(f.zeroTape === null
          ? [{ kind: 'text', text: 'No zero tape is recorded in the ledger for this session.', bold: true } as const]
          : ([
              { kind: 'row', label: 'Printed', value: tapeTime(f.zeroTape.at) },
              { kind: 'row', label: 'Ledger entry', value: n(f.zeroTape.seq) },
              { kind: 'hash', label: 'Entry hash', hex: f.zeroTape.entryHash },
              f.zeroTape.sha256 === null ? ({ kind: 'text', text: 'Tape SHA-256: not recorded (printed by an older station)', small: true } as const) : ({ kind: 'hash', label: 'Tape SHA-256 (the zero tape PDF)', hex: f.zeroTape.sha256 } as const),
            ] as const)),
      ];

  const head: Block[] = [
    ...testBanner,
    { kind: 'banner', text: zero ? 'ZERO TAPE' : 'RESULTS TAPE', inverse: !test },
    { kind: 'text', text: zero ? 'Polls open: no ballot has been counted.' : test ? 'Test session: totals from the verified test ledger.' : 'Polls closed: totals from the verified ledger.', small: true, center: true },
    { kind: 'space', mm: 1 },
    { kind: 'heading', text: e.election.title },
    { kind: 'text', text: `${e.election.jurisdiction} · ${e.election.date}` },
    { kind: 'row', label: 'Election ID', value: e.election.id },
    { kind: 'hash', label: 'Election hash (SHA-256)', hex: input.electionHash },
    { kind: 'row', label: 'Precinct', value: input.precinct, note: c.precinctName },
    { kind: 'row', label: 'Ballot style', value: c.styles.join(', ') },
    { kind: 'row', label: 'Station', value: input.stationId },
    { kind: 'row', label: 'Mode', value: test ? 'TEST' : 'OFFICIAL', bold: true },
    { kind: 'rule' },
    ...polls,
    ...zeroRef,
    { kind: 'rule', heavy: true },
    { kind: 'heading', text: 'Ballots' },
    { kind: 'row', label: 'Ballots cast', value: n(ballots.cast), bold: true },
    { kind: 'row', label: 'Cast as is', value: n(ballots.castAsIs), note: 'counted although the voter was warned (overvote, blank)' },
    { kind: 'row', label: 'With a marginal mark', value: n(ballots.marginal) },
    ...byReason('Returned to the voter', f.returnedToVoter, zero),
    ...byReason('Rejected', f.rejected, zero),
    ...byReason('Recorded, not counted', f.recordedNotCounted, zero),
    ...(ballots.pending > 0 ? [{ kind: 'row', label: 'Pending, not counted', value: n(ballots.pending), bold: true } as const] : []),
    { kind: 'text', text: 'Returned and rejected sheets are not ballots counted: the voter has them back. A sheet fed twice counts each time.', small: true },
    { kind: 'rule', heavy: true },
  ];

  const contests: Block[] = c.contests.map((contest) => contestGroup(contest, e, c.byId.get(contest.id), kind));

  const cp = input.checkpoint;
  const checkpoint: Block[] = zero
    ? []
    : cp === undefined
      ? [{ kind: 'rule' }, { kind: 'heading', text: 'Checkpoint' }, { kind: 'text', text: 'No batch closed yet: no checkpoint.', small: true }]
      : [
          { kind: 'rule' },
          { kind: 'heading', text: 'Checkpoint at the close of polls' },
          { kind: 'row', label: 'Batch', value: n(cp.batch) },
          { kind: 'row', label: 'Ballot records under the root', value: n(cp.records) },
          { kind: 'row', label: 'Ledger entries covered', value: n(cp.entries) },
          { kind: 'row', label: 'Network', value: cp.network === null ? 'none set' : cp.network.records, ...(cp.network === null ? { note: 'publish with tallyproof publish' } : { note: `anchored on ${cp.network.anchor}` }) },
          { kind: 'hash', label: 'Merkle root', hex: cp.root },
          { kind: 'hash', label: 'Checkpoint digest (SHA-256 of the signed checkpoint)', hex: cp.digest },
          { kind: 'text', text: 'The code below carries network, batch, root, counts and digest for an auditor.', small: true },
          // dense (about 330 characters): 48 mm keeps a module five thermal dots wide
          { kind: 'qr', text: formatCheckpointQr(cp), mm: 48 },
        ];

  const tail: Block[] = [
    { kind: 'rule', heavy: true },
    { kind: 'heading', text: 'Mark thresholds in use' },
    ...(input.thresholds.length > 0 ? input.thresholds.map((t): Block => ({ kind: 'text', text: t, small: true })) : [{ kind: 'text', text: 'none given', small: true } as const]),
    { kind: 'rule' },
    { kind: 'heading', text: 'Ledger' },
    { kind: 'row', label: 'Head entry', value: n(input.ledgerHead.seq) },
    { kind: 'hash', label: 'Head hash', hex: input.ledgerHead.hash },
    ...checkpoint,
    { kind: 'rule', heavy: true },
    { kind: 'heading', text: 'Signatures' },
    { kind: 'text', text: zero ? 'We saw this tape show zero before any ballot was cast.' : test ? 'We saw this tape printed at the end of the test.' : 'We saw this tape printed at the close of polls.', small: true },
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
