import type { ElectionDefinition } from '../../ballots/election';
import type { Block } from './blocks';
import { assertPrintable } from './blocks';
import { ReportError } from './errors';
import { layoutPages } from './layout';
import type { Paper } from './paper';
import { isPaper, paperSpec } from './paper';
import { renderPdf } from './render';
import type { TapeFacts } from './tape-facts';
import { total } from './tape-facts';
import { tapeTime } from './tapes';

/**
 * The short report a station prints when the polls are paused or resumed (as VxScan does): when, the
 * counts so far, station and election, and a line for the poll worker who did it. Counts come from the
 * verified ledger at that moment; no vote totals are printed while the polls can still take ballots.
 */
export interface PollsReportInput {
  readonly kind: 'polls-paused' | 'polls-resumed';
  readonly election: ElectionDefinition;
  readonly electionHash: string;
  readonly precinct: string;
  readonly stationId: string;
  readonly mode: 'official' | 'test';
  /** the time of the polls-paused / polls-resumed ledger entry */
  readonly at: string;
  readonly eventSeq: number;
  readonly ballots: { readonly cast: number; readonly castAsIs: number; readonly pending: number };
  readonly facts: TapeFacts;
  readonly ledgerHead: { readonly seq: number; readonly hash: string };
}

export async function renderPollsReport(input: PollsReportInput, paper: Paper): Promise<Buffer> {
  if (!isPaper(paper)) throw new ReportError('bad-input', `paper must be roll80 or letter, got "${String(paper)}"`);
  if (!/^[0-9a-f]{64}$/.test(input.electionHash) || !/^[0-9a-f]{64}$/.test(input.ledgerHead.hash)) throw new ReportError('bad-input', 'the election hash and ledger head hash must be 64 lowercase hex digits');
  const precinct = input.election.precincts.find((p) => p.id === input.precinct);
  if (precinct === undefined) throw new ReportError('unknown-precinct', `the election has no precinct "${input.precinct}"`);
  const when = tapeTime(input.at);
  const paused = input.kind === 'polls-paused';
  const title = paused ? 'POLLS PAUSED' : 'POLLS RESUMED';
  const test = input.mode === 'test';
  const f = input.facts;
  const blocks: Block[] = [
    ...(test ? [{ kind: 'banner', text: 'TEST — NOT AN OFFICIAL REPORT', inverse: true } as const] : []),
    { kind: 'banner', text: title, inverse: !test },
    { kind: 'text', text: paused ? 'The scanner takes no ballots until the polls are resumed.' : 'The scanner takes ballots again.', small: true, center: true },
    { kind: 'space', mm: 1 },
    { kind: 'heading', text: input.election.election.title },
    { kind: 'row', label: 'Election ID', value: input.election.election.id },
    { kind: 'hash', label: 'Election hash (SHA-256)', hex: input.electionHash },
    { kind: 'row', label: 'Precinct', value: input.precinct, note: precinct.name },
    { kind: 'row', label: 'Station', value: input.stationId },
    { kind: 'row', label: 'Mode', value: test ? 'TEST' : 'OFFICIAL', bold: true },
    { kind: 'rule' },
    { kind: 'row', label: paused ? 'Polls paused' : 'Polls resumed', value: when, bold: true },
    { kind: 'row', label: 'Ledger entry', value: String(input.eventSeq) },
    ...(f.opened === null ? [] : [{ kind: 'row', label: 'Polls opened', value: tapeTime(f.opened.at) } as const]),
    { kind: 'rule' },
    { kind: 'heading', text: 'Counts so far' },
    { kind: 'row', label: 'Ballots cast', value: String(input.ballots.cast), bold: true },
    { kind: 'row', label: 'Cast as is', value: String(input.ballots.castAsIs) },
    { kind: 'row', label: 'Returned to the voter', value: String(total(f.returnedToVoter)) },
    { kind: 'row', label: 'Rejected', value: String(total(f.rejected)) },
    { kind: 'row', label: 'Recorded, not counted', value: String(total(f.recordedNotCounted)) },
    ...(input.ballots.pending > 0 ? [{ kind: 'row', label: 'Pending, not counted', value: String(input.ballots.pending), bold: true } as const] : []),
    { kind: 'text', text: 'No vote totals are printed while the polls are not closed.', small: true },
    { kind: 'rule' },
    { kind: 'row', label: 'Ledger head entry', value: String(input.ledgerHead.seq) },
    { kind: 'hash', label: 'Head hash', hex: input.ledgerHead.hash },
    { kind: 'rule', heavy: true },
    { kind: 'signature', role: 'Poll worker' },
    { kind: 'text', text: `End of ${paused ? 'polls-paused' : 'polls-resumed'} report`, small: true, center: true },
  ];
  assertPrintable(blocks);
  const name = paused ? 'Polls paused report' : 'Polls resumed report';
  const pages = layoutPages(blocks, paperSpec(paper), { header: `${name} · ${test ? 'TEST' : 'Official'} · ${input.election.election.title}` });
  const date = new Date(input.at);
  date.setUTCSeconds(0, 0);
  return renderPdf(pages, { title: `${name}: ${input.election.election.title}, ${precinct.name}`, subject: `${name}, station ${input.stationId}, election ${input.electionHash}`, date });
}
