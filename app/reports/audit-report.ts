import { toHex } from '../../lib/bytes';
import type { Tally } from '../ledger/tally';
import type { ExternalHead, VerifyReport } from '../ledger/verify';
import type { Block } from './blocks';
import { ReportError } from './errors';
import { layoutPages } from './layout';
import type { Paper } from './paper';
import { isPaper, paperSpec } from './paper';
import { renderPdf, writePdfFile } from './render';

export interface AuditReportInput {
  /** what `verifyLedgerFile` returned for the ledger */
  readonly verify: VerifyReport;
  /** the printed or anchored heads the verification was asked to check (heads file and command line) */
  readonly expectedHeads: readonly ExternalHead[];
  /** the ledger's tally when it verified */
  readonly tally?: Tally;
  /**
   * ISO time in UTC the report is dated: `tallyproof tape audit` takes it from the ledger (its last audit
   * event, see `generatedSource`), never from a flag; fixes the PDF's dates so the same input gives the same bytes
   */
  readonly generatedAt: string;
  /** where `generatedAt` comes from, printed beside it (e.g. "time of ledger entry 41, polls-closed") */
  readonly generatedSource?: string;
}

const n = (v: number): string => String(v);

/** The auditor's record of a ledger check: verdict, what the genesis says, counts, heads, every batch. */
export async function writeAuditReport(input: AuditReportInput, outFile: string, paper: Paper = 'letter'): Promise<void> {
  writePdfFile(outFile, await renderAuditReport(input, paper));
}

export async function renderAuditReport(input: AuditReportInput, paper: Paper = 'letter'): Promise<Buffer> {
  if (!isPaper(paper)) throw new ReportError('bad-input', `paper must be roll80 or letter, got "${String(paper)}"`);
  const date = new Date(input.generatedAt);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/.test(input.generatedAt) || Number.isNaN(date.getTime())) {
    throw new ReportError('bad-input', `generatedAt must be an ISO time in UTC such as 2026-11-04T09:30Z, got "${input.generatedAt}"`);
  }
  date.setUTCMilliseconds(0);
  const v = input.verify;
  const s = v.summary;
  const test = s?.genesis.mode === 'test';
  const blocks: Block[] = [
    ...(test ? [{ kind: 'banner', text: 'TEST LEDGER — NOT OFFICIAL', inverse: true } as const] : []),
    { kind: 'banner', text: 'LEDGER AUDIT REPORT', inverse: false },
    { kind: 'row', label: 'Made', value: `${input.generatedAt.slice(0, 10)} ${input.generatedAt.slice(11, 16)} UTC`, ...(input.generatedSource !== undefined ? { note: input.generatedSource } : {}) },
    { kind: 'text', text: `Ledger file: ${v.file}`, small: true },
    { kind: 'space', mm: 2 },
    v.ok ? { kind: 'banner', text: 'VERIFIED', inverse: false } : { kind: 'banner', text: 'VERIFICATION FAILED', inverse: true },
    ...(v.ok
      ? [{ kind: 'text', text: 'Every entry re-hashed and linked, every ballot state, batch root and checkpoint signature re-derived from the entries, and every printed or anchored head below found unchanged.', small: true } as const]
      : v.problem !== undefined
        ? [
            { kind: 'row', label: 'First bad entry', value: n(v.problem.seq), bold: true } as const,
            { kind: 'row', label: 'Problem', value: v.problem.kind, bold: true } as const,
            { kind: 'text', text: v.problem.message } as const,
            ...(s !== undefined ? [{ kind: 'text', text: 'The figures below are as replayed; they are not vouched for.', small: true } as const] : []),
          ]
        : []),
    { kind: 'rule', heavy: true },
  ];
  if (s !== undefined) {
    const g = s.genesis;
    blocks.push(
      { kind: 'heading', text: 'Genesis' },
      { kind: 'text', text: g.election.title },
      { kind: 'hash', label: 'Election hash', hex: g.election.hash },
      { kind: 'row', label: 'Mode', value: g.mode === 'test' ? 'TEST' : 'OFFICIAL', bold: true },
      { kind: 'row', label: 'Station', value: `${g.station.id} (no. ${g.station.number})` },
      { kind: 'hash', label: 'Station public key (x-only secp256k1, BIP 340)', hex: g.station.publicKey },
      { kind: 'row', label: 'Contests', value: n(g.election.contests.length) },
      { kind: 'rule' },
      { kind: 'heading', text: 'Counts' },
      { kind: 'row', label: 'Entries', value: n(s.entries) },
      { kind: 'row', label: 'Ballots cast', value: n(s.cast), bold: true },
      { kind: 'row', label: 'Recorded, not counted', value: n(s.returned) },
      { kind: 'row', label: 'Pending', value: n(s.pending) },
      { kind: 'row', label: 'Audit events', value: n(s.events) },
      { kind: 'row', label: 'Closed batches', value: n(s.batches.length) },
      { kind: 'row', label: 'Open batch', value: `no. ${s.openBatch}` },
      { kind: 'row', label: 'Cast in the open batch (not yet published)', value: n(s.openBatchCast) },
      { kind: 'rule' },
      { kind: 'heading', text: 'Heads' },
      { kind: 'row', label: 'Ledger head entry', value: n(s.head.seq) },
      { kind: 'hash', label: 'Ledger head hash', hex: toHex(s.head.hash) },
    );
    if (input.expectedHeads.length === 0) blocks.push({ kind: 'text', text: 'No printed or anchored head was given to check.', small: true });
    for (const h of [...input.expectedHeads].sort((a, b) => a.seq - b.seq)) {
      blocks.push({ kind: 'group', blocks: [{ kind: 'row', label: `Entry ${h.seq}: ${h.what}`, value: v.ok ? 'matches' : '' }, { kind: 'hash', label: 'hash', hex: h.hash }] });
    }
    blocks.push({ kind: 'rule', heavy: true }, { kind: 'heading', text: 'Batches' });
    if (s.batches.length === 0) blocks.push({ kind: 'text', text: 'No batch has been closed.', small: true });
    for (const b of s.batches) {
      const c = b.checkpoint;
      blocks.push({
        kind: 'group',
        blocks: [
          { kind: 'heading', text: `Batch ${c.batch}` },
          { kind: 'row', label: 'Records in the batch', value: n(c.treeSize - c.batchStart) },
          { kind: 'row', label: 'Tree size after it', value: n(c.treeSize) },
          { kind: 'row', label: 'Checkpoint entry', value: n(b.seq) },
          { kind: 'hash', label: 'Merkle root (RFC 6962)', hex: toHex(c.root) },
          { kind: 'row', label: 'Head it commits to', value: n(c.headSeq) },
          { kind: 'hash', label: 'Head hash', hex: toHex(c.headHash) },
          { kind: 'hash', label: v.ok ? 'Checkpoint signature (BIP 340 Schnorr, verified)' : 'Checkpoint signature (BIP 340 Schnorr)', hex: toHex(b.signature) },
          { kind: 'rule' },
        ],
      });
    }
  }
  if (input.tally !== undefined && v.ok) {
    const t = input.tally;
    blocks.push({ kind: 'heading', text: 'Tally' }, { kind: 'row', label: 'Ballots cast', value: n(t.ballots.cast), bold: true }, { kind: 'row', label: 'Cast as is', value: n(t.ballots.castAsIs) }, { kind: 'row', label: 'With a marginal mark', value: n(t.ballots.marginal) });
    for (const c of t.contests) {
      blocks.push({
        kind: 'group',
        blocks: [
          { kind: 'text', text: c.id, bold: true },
          ...Object.entries(c.votes).map(([id, votes]): Block => ({ kind: 'row', label: id, value: n(votes), indent: true })),
          { kind: 'row', label: 'overvoted / undervoted ballots', value: `${c.overvotedBallots} / ${c.undervotedBallots}`, indent: true },
        ],
      });
    }
  }
  blocks.push({ kind: 'space', mm: 2 }, { kind: 'text', text: 'End of audit report', small: true, center: true });
  const title = `Ledger audit report${s !== undefined ? `: ${s.genesis.election.title}, station ${s.genesis.station.id}` : ''}`;
  const pages = layoutPages(blocks, paperSpec(paper), { header: `${title} · ${v.ok ? 'verified' : 'VERIFICATION FAILED'}` });
  return renderPdf(pages, { title, subject: v.ok ? 'verified' : `verification failed at entry ${v.problem?.seq}`, date });
}
