import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { toHex } from '../../lib/bytes';
import { checkpointDigest } from '../../app/ledger/checkpoint';
import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import type { Tally } from '../../app/ledger/tally';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { parseCheckpointQr } from '../../app/reports/checkpoint-qr';
import { runCli } from '../support/cli';
import { tempDir, zbarDecode } from '../support/ballots';
import { cutDots, parseEscpos } from '../support/escpos-parse';
import { thermalReference } from '../support/thermal-reference';
import { tapeRows } from '../reports/fixtures';
import type { Rig } from './support/rig';
import { ELECTION, PINS, startRig, waitForStatus, writeSheets, paperLocations } from './support/rig';

jest.setTimeout(300_000);

let rig: Rig;
afterEach(async () => rig?.stop());

const text = (pdf: string): string => execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
const sha = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
/** The simulated printer's jobs, oldest first (names start with the time and a job number). */
const jobs = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).sort((a, b) => Number(a.split('-')[2]) - Number(b.split('-')[2])).map((f) => path.join(dir, f)) : []);

function ledgerEvents(dataDir: string): { e: AuditEvent; seq: number }[] {
  const out: { e: AuditEvent; seq: number }[] = [];
  const r = verifyLedgerFile(dataLayout(dataDir).ledger('official'), {}, { onEvent: (e, seq) => out.push({ e, seq }) });
  expect(r.ok).toBe(true);
  return out;
}

describe('a polling day on the simulated thermal printer', () => {
  it('zero tape, pause and resume reports, results tape equal to `ledger tally`, reprint; the ESC/POS raster is the PDF', async () => {
    // counted, rejected (another precinct), overvoted and taken back, counted, duplicate of the first, overvoted and cast as is
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'wrong-precinct' }, { kind: 'overvote', n: 0 }, { kind: 'normal', n: 1 }, { kind: 'normal', n: 0 }, { kind: 'overvote', n: 1 }, { kind: 'counterfeit' }]);
    const printed = tempDir('printer-out');
    let clock = Date.parse('2026-11-03T06:55:07Z');
    rig = await startRig({ deck: dir, printer: { kind: 'simulated', dir: printed, paper: 'roll80' }, now: () => new Date(clock) });
    const s = rig.station;
    let overvotes = 0;
    s.subscribe((e) => {
      if (e.type === 'sheet' && e.feedback.outcome === 'awaiting-voter') {
        overvotes += 1;
        void s.voterDecision({ sheetId: e.feedback.sheetId, decision: overvotes === 1 ? 'return' : 'cast-as-is' });
      }
    });
    expect((await s.login({ role: 'captain', pin: PINS.captain })).ok).toBe(true);

    // the zero tape: printed, kept, and its hash recorded in the ledger
    const zero = await s.command({ command: 'print-zero-tape' });
    if (!zero.ok) throw new Error(zero.error.message);
    const zeroFile = zero.value.file!;
    expect(jobs(printed)).toHaveLength(1);
    const zeroEvent = ledgerEvents(rig.dataDir).find((x) => x.e.type === 'tape-printed');
    expect(zeroEvent?.e.detail).toMatchObject({ kind: 'zero', mode: 'official', sha256: sha(zeroFile), copies: 1, file: path.basename(zeroFile) });
    expect(zeroEvent?.e.at).toBe('2026-11-03T06:55:07Z');
    expect(text(zeroFile)).toMatch(/Printed\s+2026-11-03 06:55 UTC/);

    clock = Date.parse('2026-11-03T07:00:02Z');
    expect((await s.command({ command: 'open-polls', confirm: true })).ok).toBe(true);
    await waitForStatus(s, (x) => x.counts.public === 3 && x.counts.rejected === 3 && x.counts.returned === 1);
    await paperLocations(rig, 7);

    clock = Date.parse('2026-11-03T12:10:00Z');
    const paused = await s.command({ command: 'pause-polls' });
    if (!paused.ok) throw new Error(paused.error.message);
    expect(paused.value.message).toMatch(/Polls are paused.*The polls-paused report is printed/);
    const pausedText = text(paused.value.file!).replace(/\s+/g, ' ');
    expect(pausedText).toContain('POLLS PAUSED');
    expect(pausedText).toContain('Polls paused 2026-11-03 12:10 UTC');
    expect(pausedText).toContain('Polls opened 2026-11-03 07:00 UTC');
    expect(pausedText).toMatch(/Ballots cast 3 Cast as is 1 Returned to the voter 1 Rejected 3 Recorded, not counted 0/);
    expect(pausedText.match(/station-precinct|p-101/g)?.length).toBeGreaterThan(0);
    clock = Date.parse('2026-11-03T12:40:00Z');
    const resumed = await s.command({ command: 'resume-polls' });
    if (!resumed.ok) throw new Error(resumed.error.message);
    expect(text(resumed.value.file!).replace(/\s+/g, ' ')).toContain('Polls resumed 2026-11-03 12:40 UTC');

    clock = Date.parse('2026-11-03T20:00:31Z');
    expect((await s.command({ command: 'close-polls', confirm: true })).ok).toBe(true);
    // printed a minute later: the tape still says the ledger's close of polls
    clock = Date.parse('2026-11-03T20:02:00Z');
    const results = await s.command({ command: 'print-results-tape' });
    if (!results.ok) throw new Error(results.error.message);
    const resultsFile = results.value.file!;
    const t = text(resultsFile);
    const flat = t.replace(/\s+/g, ' ');
    for (const line of ['Polls opened 2026-11-03 07:00 UTC', 'Polls paused 2026-11-03 12:10 UTC', 'Polls resumed 2026-11-03 12:40 UTC', 'Polls closed 2026-11-03 20:00 UTC', 'Printed 2026-11-03 20:00 UTC']) expect(flat).toContain(line);
    expect(flat).not.toContain('20:02');

    // every number on the tape is the one `ledger tally` gives, and the station's own counters
    const tallyRun = await runCli(['ledger', 'tally', '--data', rig.dataDir]);
    expect(tallyRun.code).toBe(0);
    const tally = JSON.parse(tallyRun.stdout) as Tally;
    const rows = tapeRows(t);
    const value = (label: string, from = 0): string | undefined => rows.slice(from).find((r) => r.label === label)?.value;
    expect(value('Ballots cast')).toBe(String(tally.ballots.cast));
    expect(tally.ballots.cast).toBe(3);
    expect(value('Cast as is')).toBe(String(tally.ballots.castAsIs));
    expect(value('With a marginal mark')).toBe(String(tally.ballots.marginal));
    expect(value('Recorded, not counted')).toBe(String(tally.ballots.returned));
    const status = s.status();
    expect(value('Rejected')).toBe(String(status.counts.rejected));
    expect(value('Returned to the voter')).toBe(String(status.counts.returned - tally.ballots.returned));
    expect(value('already counted (duplicate')).toBe('1');
    expect(value('ballot of another precinct')).toBe('1');
    // by the warning the voter was shown (the label said only "after a warning")
    expect(value('the voter took it back: overvote')).toBe('1');
    const def = (JSON.parse(fs.readFileSync(ELECTION, 'utf8')) as { contests: { id: string; title: string }[] }).contests;
    let checkedContests = 0;
    for (const c of tally.contests.filter((x) => x.ballots > 0)) {
      // a contest's rows: from its title to the end of its block
      const from = t.indexOf(`\n${def.find((d) => d.id === c.id)!.title}\n`);
      expect(from).toBeGreaterThan(0);
      const block = tapeRows(t.slice(from, t.indexOf('Ballots with a marginal mark', from) + 60));
      const v = (label: string): string | undefined => block.find((r) => r.label === label)?.value;
      expect(v('Ballots with this contest')).toBe(String(c.ballots));
      expect(v('Overvoted ballots')).toBe(String(c.overvotedBallots));
      expect(v('Undervoted ballots')).toBe(String(c.undervotedBallots));
      expect(v('Undervotes (unused votes)')).toBe(String(c.undervotes));
      // every option's votes, in the tally's (the definition's) order
      expect(block.slice(0, Object.keys(c.votes).length).map((r) => r.value)).toEqual(Object.values(c.votes).map(String));
      checkedContests++;
    }
    expect(checkedContests).toBeGreaterThan(0);
    const allVotes = Object.values(tally.contests).flatMap((c) => Object.values(c.votes));
    expect(allVotes.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    // the zero tape's entry, entry hash and PDF hash, read from the ledger
    const hex = t.replace(/\s+/g, '');
    const entryHash = toHex(verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'), { expectedHeads: [{ seq: zeroEvent!.seq, hash: '0'.repeat(64), what: 'x' }] }).summary!.hashesAt.get(zeroEvent!.seq)!);
    expect(flat).toContain(`Ledger entry ${zeroEvent!.seq}`);
    expect(hex).toContain(entryHash);
    expect(hex).toContain(sha(zeroFile));

    // the QR code: the checkpoint the close of polls wrote
    const png = path.join(printed, '..', 'results-qr');
    execFileSync('pdftoppm', ['-r', '150', '-gray', '-png', '-singlefile', resultsFile, png]);
    const q = parseCheckpointQr(zbarDecode(`${png}.png`).join('\n'));
    const batch = verifyLedgerFile(dataLayout(rig.dataDir).ledger('official')).summary!.batches[0]!;
    expect(q).toEqual({ network: null, mode: 'official', election: tally.election.hash, station: status.stationId, batch: 1, records: 3, entries: batch.checkpoint.headSeq, root: toHex(batch.checkpoint.root), digest: toHex(checkpointDigest(batch.body)) });

    // what the printer got: an independent ESC/POS reading of the job equals pdftoppm's rendering of the PDF
    const all = jobs(printed);
    expect(all).toHaveLength(4);
    const job = parseEscpos(fs.readFileSync(all[3]!));
    expect(job.initialised).toBe(true);
    const ref = await thermalReference(resultsFile, tempDir('thermal-ref'));
    expect(job.cuts.map((c) => ({ width: c.width, rows: c.rows.length, cut: c.cut }))).toEqual(ref.map((r) => ({ width: 576, rows: r.height, cut: 'partial' })));
    job.cuts.forEach((c, i) => expect(Buffer.compare(Buffer.from(cutDots(c)), Buffer.from(ref[i]!.dots))).toBe(0));
    expect(job.cuts[0]!.feedDots).toBeGreaterThan(100);
    // ink where the tape has text: about a tenth of the dots, not a blank or a black page
    const inked = ref[0]!.dots.reduce((a, d) => a + d, 0) / ref[0]!.dots.length;
    expect(inked).toBeGreaterThan(0.02);
    expect(inked).toBeLessThan(0.3);

    // a poll worker asks for two more copies of the results tape
    await s.logout();
    expect((await s.login({ role: 'poll-worker', pin: PINS['poll-worker'] })).ok).toBe(true);
    const again = await s.command({ command: 'reprint-tape', copies: 2 });
    if (!again.ok) throw new Error(again.error.message);
    expect(again.value.message).toMatch(/Printed 2 more copies of the results tape/);
    const reprint = parseEscpos(fs.readFileSync(jobs(printed)[4]!));
    expect(reprint.cuts).toHaveLength(2 * job.cuts.length);
    for (const c of reprint.cuts) expect(Buffer.compare(Buffer.from(cutDots(c)), Buffer.from(cutDots(job.cuts[0]!)))).toBe(0);
    const last = ledgerEvents(rig.dataDir).filter((x) => x.e.type === 'tape-printed').pop();
    expect(last?.e.detail).toMatchObject({ kind: 'results', reprint: true, copies: 2, sha256: sha(resultsFile), file: path.basename(resultsFile) });
    expect(last?.e.role).toBe('poll-worker');

    // a kept tape that was changed is not reprinted
    fs.appendFileSync(resultsFile, '%');
    const changed = await s.command({ command: 'reprint-tape' });
    expect(changed).toEqual({ ok: false, error: expect.objectContaining({ code: 'tape-changed' }) });
    expect(jobs(printed)).toHaveLength(5);
  });

  it('a printer that fails: the zero tape is not recorded as printed, and the poll worker is told why', async () => {
    const { dir } = await writeSheets([{ kind: 'normal' }]);
    rig = await startRig({ deck: dir, printer: { kind: 'escpos', device: path.join(tempDir('no-printer'), 'usb-lp0'), dotsPerLine: 576, cutter: true } });
    expect((await rig.station.login({ role: 'captain', pin: PINS.captain })).ok).toBe(true);
    const r = await rig.station.command({ command: 'print-zero-tape' });
    expect(r).toEqual({ ok: false, error: { code: 'print-failed', message: expect.stringMatching(/the zero tape was not printed: cannot open the thermal printer .*usb-lp0: no such device: is the printer plugged in and switched on\? \(kept as .*zero-official-.*\.pdf\)/) } });
    expect(ledgerEvents(rig.dataDir).filter((x) => x.e.type === 'tape-printed')).toEqual([]);
    expect(await rig.station.command({ command: 'reprint-tape' })).toEqual({ ok: false, error: expect.objectContaining({ code: 'no-tape' }) });
  });
});
