import path from 'node:path';
import Database from 'better-sqlite3';
import { toHex } from '../../lib/bytes';
import { TallyCollector } from '../../app/ledger/tally';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { AuditReportInput } from '../../app/reports/audit-report';
import { renderAuditReport, writeAuditReport } from '../../app/reports/audit-report';
import { ReportError } from '../../app/reports/errors';
import { outputDir, rasterisePdf, tempDir } from '../support/ballots';
import { buildStation, pdfInfo, pdfText, readingText, verifyAndTally } from './fixtures';

const OUT = outputDir('reports');
const flat = (s: string): string => s.replace(/\s+/g, ' ');
const hexOf = (s: string): string => s.replace(/\s+/g, '');

describe('audit report', () => {
  it('states the verdict, genesis, counts, heads and every batch with its root and signature', async () => {
    const dir = tempDir('audit-report');
    const st = buildStation(dir, { election: 'general', precinct: 'p-0001', ballots: 25, closeBatch: true });
    const v = verifyAndTally(st.ledgerFile);
    const s = v.report.summary!;
    const batch = s.batches[0]!;
    const input: AuditReportInput = { verify: v.report, expectedHeads: [{ seq: v.head.seq, hash: v.head.hash, what: 'the results tape' }], tally: v.tally, generatedAt: '2026-11-04T09:30Z' };
    for (const paper of ['letter', 'roll80'] as const) {
      const file = path.join(OUT, `audit-report-${paper}.pdf`);
      await writeAuditReport(input, file, paper);
      const all = readingText(file, paper === 'letter' ? 2 : 1);
      const text = flat(all);
      expect(text).toContain('LEDGER AUDIT REPORT');
      expect(text).toContain('VERIFIED');
      expect(text).not.toContain('FAILED');
      expect(text).toContain('General Election');
      expect(text).toMatch(new RegExp(`Entries\\s+${s.entries}`));
      expect(text).toMatch(new RegExp(`Ballots cast\\s+${st.cast}`));
      expect(text).toMatch(new RegExp(`Recorded, not counted\\s+${st.returned}`));
      expect(text).toMatch(/Closed batches\s+1/);
      expect(text).toMatch(new RegExp(`Records in the batch\\s+${st.cast}`));
      expect(text).toMatch(new RegExp(`Entry ${v.head.seq}: the results tape\\s+matches`));
      expect(text).toContain('Checkpoint signature (BIP 340 Schnorr, verified)');
      const hex = hexOf(all);
      for (const h of [st.election.hash, s.genesis.station.publicKey, toHex(batch.checkpoint.root), toHex(batch.checkpoint.headHash), toHex(batch.signature), v.head.hash]) expect(hex).toContain(h);
      if (paper === 'letter') {
        const pages = pdfText(file);
        pages.forEach((p, i) => expect(p).toContain(`page ${i + 1} of ${pages.length}`));
      } else expect(pdfInfo(file).width).toBeCloseTo(80, 1);
    }
    rasterisePdf(path.join(OUT, 'audit-report-letter.pdf'), 60, OUT);
    const a = await renderAuditReport(input);
    const b = await renderAuditReport({ ...input, expectedHeads: [...input.expectedHeads] });
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('names the first bad entry of a ledger that does not verify', async () => {
    const dir = tempDir('audit-report');
    const st = buildStation(dir, { election: 'municipal', precinct: 'p-101', ballots: 10, closeBatch: true });
    const db = new Database(st.ledgerFile);
    db.exec('DROP TRIGGER entries_append_only_delete;');
    db.prepare('DELETE FROM entries WHERE seq = 5').run();
    db.close();
    const t = new TallyCollector();
    const report = verifyLedgerFile(st.ledgerFile, {}, t.visitor);
    expect(report.ok).toBe(false);
    const file = path.join(OUT, 'audit-report-failed.pdf');
    await writeAuditReport({ verify: report, expectedHeads: [], generatedAt: '2026-11-04T09:30Z' }, file);
    const text = flat(readingText(file, 2));
    expect(text).toContain('VERIFICATION FAILED');
    expect(text).toMatch(/First bad entry\s+5/);
    expect(text).toMatch(/Problem\s+deleted/);
    expect(text).not.toContain('VERIFIED');
  });

  it('refuses a malformed time', async () => {
    const dir = tempDir('audit-report');
    const st = buildStation(dir, { election: 'municipal', precinct: 'p-101', ballots: 1 });
    const v = verifyAndTally(st.ledgerFile);
    await expect(renderAuditReport({ verify: v.report, expectedHeads: [], generatedAt: 'yesterday' })).rejects.toThrow(ReportError);
  });
});
