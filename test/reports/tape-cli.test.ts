import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { dataLayout } from '../../app/ledger/layout';
import { readHeadsFile } from '../../app/ledger/verify';
import { runCli } from '../support/cli';
import { parseEscpos } from '../support/escpos-parse';
import { EXAMPLES, tempDir } from '../support/ballots';
import { TIMES, buildStation, pdfInfo, pdfText, readingText, tapeRows, verifyAndTally } from './fixtures';

/** A second connection, as an attacker with the file would use; the append-only triggers go first. */
function tamper(file: string, fn: (db: Database.Database) => void): void {
  const db = new Database(file);
  db.exec('DROP TRIGGER entries_append_only_update; DROP TRIGGER entries_append_only_delete;');
  fn(db);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

describe('tallyproof tape', () => {
  it('results: verifies, prints the tally, and remembers the printed head', async () => {
    const dir = tempDir('tape-cli');
    const st = buildStation(dir, { election: 'municipal', precinct: 'p-102', ballots: 30, closeBatch: true });
    const v = verifyAndTally(st.ledgerFile);
    const out = path.join(dir, 'results.pdf');
    const r = await runCli(['tape', 'results', '--data', dir, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(out)).digest('hex');
    expect(JSON.parse(r.stdout)).toEqual({ file: out, tape: 'results', paper: 'roll80', mode: 'official', precinct: 'p-102', station: 'station-7', head: v.head, batchRoot: v.batchRoot, cast: st.cast, printedAt: TIMES.closed, sha256, printed: null });
    const rows = tapeRows(pdfText(out).join('\n'));
    expect(rows.find((x) => x.label === 'Ballots cast')?.value).toBe(String(st.cast));
    expect(rows.find((x) => x.label === 'Precinct')?.value).toBe('p-102');
    expect(pdfText(out).join('\n')).toContain('station-7 calibration');
    expect(pdfInfo(out).width).toBeCloseTo(80, 1);
    // the head on the tape is now one `ledger verify` holds the ledger to
    expect(readHeadsFile(dataLayout(dir).heads('official'))).toEqual([{ seq: v.head.seq, hash: v.head.hash, what: `the results tape printed ${TIMES.closed}` }]);
    expect((await runCli(['ledger', 'verify', '--data', dir])).code).toBe(0);

    const letter = await runCli(['tape', 'results', '--data', dir, '--out', path.join(dir, 'results-letter.pdf'), '--paper', 'letter']);
    expect(letter.code).toBe(0);
    expect(pdfInfo(path.join(dir, 'results-letter.pdf')).width).toBeCloseTo(215.9, 1);

    // cutting the ledger back below a printed head is caught before the next tape
    tamper(st.ledgerFile, (db) => db.prepare('DELETE FROM entries WHERE seq > 10').run());
    const again = await runCli(['tape', 'results', '--data', dir, '--out', path.join(dir, 'again.pdf')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/the ledger does not verify, so no tape is printed: entry 11: truncated: .*the results tape printed 2026-11-03T20:00:41Z/);
    expect(fs.existsSync(path.join(dir, 'again.pdf'))).toBe(false);
  });

  it('results --printer: the tape also goes to the printer, as many copies as asked; a printer of other paper is refused', async () => {
    const dir = tempDir('tape-cli');
    buildStation(dir, { election: 'municipal', precinct: 'p-101', ballots: 6, closeBatch: true });
    const printed = path.join(dir, 'printed');
    const out = path.join(dir, 'results.pdf');
    const r = await runCli(['tape', 'results', '--data', dir, '--out', out, '--printer', `simulated:${printed}`, '--copies', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [job] = fs.readdirSync(printed);
    expect(JSON.parse(r.stdout).printed).toBe(`simulated ${path.join(printed, job!)}`);
    const parsed = parseEscpos(fs.readFileSync(path.join(printed, job!)));
    expect(parsed.cuts).toHaveLength(2);
    expect(parsed.cuts.every((c) => c.width === 576 && c.rows.length > 1000)).toBe(true);
    const wrong = await runCli(['tape', 'results', '--data', dir, '--out', path.join(dir, 'l.pdf'), '--paper', 'letter', '--printer', 'escpos:/dev/usb/lp0']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--printer escpos:/dev/usb/lp0 prints on roll80 paper: give --paper roll80');
    expect(fs.existsSync(path.join(dir, 'l.pdf'))).toBe(false);
  });

  it('results: a changed entry is refused, naming the entry, and nothing is written', async () => {
    const dir = tempDir('tape-cli');
    const st = buildStation(dir, { election: 'municipal', precinct: 'p-101', ballots: 12, closeBatch: true });
    tamper(st.ledgerFile, (db) => {
      const row = db.prepare('SELECT payload FROM entries WHERE seq = 6').get() as { payload: Buffer };
      const p = Buffer.from(row.payload);
      p[p.length - 1] = (p[p.length - 1] as number) ^ 1;
      db.prepare('UPDATE entries SET payload = ? WHERE seq = 6').run(p);
    });
    const out = path.join(dir, 'results.pdf');
    const r = await runCli(['tape', 'results', '--data', dir, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/official\.sqlite: the ledger does not verify, so no tape is printed: entry 6: changed/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(dataLayout(dir).heads('official'))).toBe(false);
  });

  it('zero: prints from an empty ledger and refuses one with ballots', async () => {
    const dir = tempDir('tape-cli');
    buildStation(dir, { election: 'general', precinct: 'p-0001', ballots: 0, mode: 'test' });
    const out = path.join(dir, 'zero.pdf');
    const r = await runCli(['tape', 'zero', '--data', dir, '--mode', 'test', '--out', out, '--paper', 'letter']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tape: 'zero', mode: 'test', precinct: 'p-0001', batchRoot: null, cast: 0 });
    const text = readingText(out, 2).replace(/\s+/g, ' ');
    expect(text).toContain('TEST — NOT AN OFFICIAL TAPE');
    expect(text).toContain('Zero tape · TEST · General Election');
    expect(text).not.toContain('Batch root');

    const busy = tempDir('tape-cli');
    buildStation(busy, { election: 'municipal', precinct: 'p-101', ballots: 4 });
    const refused = await runCli(['tape', 'zero', '--data', busy, '--out', path.join(busy, 'zero.pdf')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/a zero tape cannot be printed: the ledger already holds \d+ cast and 0 pending ballot\(s\)/);
    expect(fs.existsSync(path.join(busy, 'zero.pdf'))).toBe(false);
  });

  it('audit: writes the report, and exits 1 naming the entry when the ledger does not verify', async () => {
    const dir = tempDir('tape-cli');
    const st = buildStation(dir, { election: 'municipal', precinct: 'p-101', ballots: 8, closeBatch: true });
    const out = path.join(dir, 'audit.pdf');
    const ok = await runCli(['tape', 'audit', '--data', dir, '--out', out]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ file: out, report: 'audit', ok: true, problem: null });
    const okText = readingText(out, 2).replace(/\s+/g, ' ');
    expect(okText).toMatch(/VERIFIED .*Batch 1 Records in the batch \d+/);
    // dated by the ledger's own last event (the close of polls), the same however late it is printed
    expect(okText).toMatch(/Made 2026-11-03 20:00 UTC time of ledger entry \d+, polls-closed/);
    const reprinted = path.join(dir, 'audit-again.pdf');
    expect((await runCli(['tape', 'audit', '--data', dir, '--out', reprinted])).code).toBe(0);
    expect(fs.readFileSync(reprinted).equals(fs.readFileSync(out))).toBe(true);

    tamper(st.ledgerFile, (db) => db.prepare('DELETE FROM entries WHERE seq = 4').run());
    const bad = await runCli(['tape', 'audit', '--data', dir, '--out', out]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/official\.sqlite: entry 4: deleted/);
    expect(readingText(out, 2).replace(/\s+/g, ' ')).toMatch(/VERIFICATION FAILED First bad entry 4 Problem deleted/);
  });

  describe('bad inputs', () => {
    let dir: string;
    beforeAll(() => {
      dir = tempDir('tape-cli');
      buildStation(dir, { election: 'municipal', precinct: 'p-101', ballots: 3, notePrecinct: false, closeBatch: true });
    });
    const tape = (...args: string[]) => runCli(['tape', 'results', '--data', dir, '--out', path.join(dir, 'out.pdf'), ...args]);

    it('no precinct recorded and several in the election: a usage error listing them', async () => {
      const r = await tape();
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('give --precinct (one of p-101, p-102, p-201)');
      expect((await tape('--precinct', 'p-101')).code).toBe(0);
    });

    it('an unknown precinct', async () => {
      const r = await tape('--precinct', 'p-999');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('has no precinct "p-999" (it has p-101, p-102, p-201)');
    });

    it('an election file that is not the ledger’s', async () => {
      const r = await tape('--precinct', 'p-101', '--election', path.join(EXAMPLES, 'general.json'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/general\.json is not this ledger's election: the ledger is for election [0-9a-f]{64} \("Springfield Municipal Election"\)/);
    });

    it('an --out that cannot be written', async () => {
      const r = await runCli(['tape', 'results', '--data', dir, '--out', path.join(dir, 'no-such-dir', 'out.pdf'), '--precinct', 'p-101']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot write .*out\.pdf: the directory .*no-such-dir does not exist/);
    });

    it('a missing data directory, ledger or election package', async () => {
      expect((await runCli(['tape', 'zero', '--data', path.join(dir, 'nope'), '--out', 'x.pdf'])).stderr).toContain('no such station data directory');
      expect((await tape('--precinct', 'p-101', '--mode', 'test')).stderr).toContain('no test ledger in this data directory');
      const bare = tempDir('tape-cli');
      const r = await runCli(['tape', 'zero', '--data', bare, '--out', path.join(bare, 'z.pdf')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the station has no election package here; give --election <file>');
    });

    it('a bad calibration profile, paper or time', async () => {
      fs.writeFileSync(path.join(dir, 'bad-profile.json'), '{"format": "nope"}');
      const r = await tape('--precinct', 'p-101', '--calibration', path.join(dir, 'bad-profile.json'));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('is not a valid calibration profile');
      expect((await tape('--precinct', 'p-101', '--paper', 'a4')).code).toBe(2);
      // nobody sets a tape's printed time: a valid time is refused as much as a malformed one
      for (const when of ['2026-11-03T23:59Z', 'noon']) {
        for (const kind of ['results', 'zero']) {
          const t = await runCli(['tape', kind, '--data', dir, '--out', path.join(dir, 'out-at.pdf'), '--precinct', 'p-101', '--printed-at', when]);
          expect(t.code).toBe(2);
          expect(t.stderr).toContain("--printed-at is no longer accepted: the printed time comes from the ledger's own events (a results tape prints the time of the ledger's polls-closed entry)");
        }
        // the audit report and the signed tape are dated by the ledger too (issue 13)
        const a = await runCli(['tape', 'audit', '--data', dir, '--out', path.join(dir, 'out-at.pdf'), '--printed-at', when]);
        expect(a.code).toBe(2);
        expect(a.stderr).toContain("--printed-at is no longer accepted: the printed time comes from the ledger's own events (the report is dated by the last event it replays");
        const s = await runCli(['tape', 'signed', '--data', dir, '--out', path.join(dir, 'out-at.pdf'), '--printed-at', when]);
        expect(s.code).toBe(2);
        expect(s.stderr).toContain("--printed-at is no longer accepted: the printed time comes from the ledger's own events (the last one the batch's checkpoint covers");
      }
      expect(fs.existsSync(path.join(dir, 'out-at.pdf'))).toBe(false);
    });

    it('a results tape of a ledger whose polls never closed', async () => {
      const open = tempDir('tape-cli');
      buildStation(open, { election: 'municipal', precinct: 'p-101', ballots: 3 });
      const r = await runCli(['tape', 'results', '--data', open, '--out', path.join(open, 'r.pdf')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the ledger records no close of the polls: a results tape is printed once the polls are closed');
      expect(fs.existsSync(path.join(open, 'r.pdf'))).toBe(false);
    });
  });
});
