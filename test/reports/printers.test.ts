import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadStationConfig } from '../../app/station/station-config';
import { parsePrinterArg } from '../../app/print/config';
import { PrintError } from '../../app/print/errors';
import { openPrinter } from '../../app/print/printers';
import { renderTape } from '../../app/reports/tapes';
import { tempDir } from '../support/ballots';
import { startCups, type PrivateCups } from '../support/cupsd';
import { cutDots, parseEscpos } from '../support/escpos-parse';
import { thermalReference } from '../support/thermal-reference';
import { buildStation, tapeInputFor, verifyAndTally } from './fixtures';

jest.setTimeout(120_000);

let roll: Buffer;
let letter: Buffer;
let dir: string;

beforeAll(async () => {
  dir = tempDir('printers');
  const st = buildStation(path.join(dir, 'station'), { election: 'municipal', precinct: 'p-101', ballots: 12, closeBatch: true });
  const input = tapeInputFor(st, verifyAndTally(st.ledgerFile), 'p-101');
  roll = await renderTape('results', input, 'roll80');
  letter = await renderTape('results', input, 'letter');
});

const until = async (pred: () => boolean): Promise<void> => {
  while (!pred()) await new Promise((r) => setTimeout(r, 20));
};

describe('an ESC/POS thermal printer on a serial device (a socat pseudo-terminal standing for its port)', () => {
  let socat: ChildProcess | undefined;
  afterEach(() => socat?.kill());

  it('gets the raster of the same tape, banded GS v 0, fed and cut, once per copy', async () => {
    const link = path.join(dir, 'ttyPRINTER');
    const got = path.join(dir, 'printer-received.bin');
    // the printer's end: whatever reaches the port is kept, byte for byte (raw: no newline translation)
    socat = spawn('socat', ['-u', `pty,raw,echo=0,link=${link}`, `OPEN:${got},creat,trunc`], { stdio: 'ignore' });
    await until(() => fs.existsSync(link));
    const printer = openPrinter({ kind: 'escpos', device: link, dotsPerLine: 576, cutter: true });
    expect(printer.paper).toBe('roll80');
    const r = await printer.print({ pdf: roll, title: 'results', copies: 2 });
    expect(r).toEqual({ ok: true, value: { printer: `escpos ${link}` } });
    const pdf = path.join(dir, 'roll.pdf');
    fs.writeFileSync(pdf, roll);
    const ref = await thermalReference(pdf, tempDir('thermal-ref'));
    // every byte written to the port comes out at the printer's end
    let job: ReturnType<typeof parseEscpos> | undefined;
    await until(() => {
      try {
        job = parseEscpos(fs.readFileSync(got));
        return job.cuts.length === 2 * ref.length;
      } catch {
        return false;
      }
    });
    expect(job!.initialised).toBe(true);
    job!.cuts.forEach((c, i) => {
      const want = ref[i % ref.length]!;
      expect({ width: c.width, rows: c.rows.length, cut: c.cut }).toEqual({ width: 576, rows: want.height, cut: 'partial' });
      expect(Buffer.compare(Buffer.from(cutDots(c)), Buffer.from(want.dots))).toBe(0);
    });
  });

  it('refuses a path that is not a device, a missing device, and letter pages', async () => {
    const file = path.join(dir, 'not-a-printer');
    fs.writeFileSync(file, 'keep me');
    const asFile = await openPrinter({ kind: 'escpos', device: file, dotsPerLine: 576, cutter: true }).print({ pdf: roll, title: 't', copies: 1 });
    expect(asFile.ok).toBe(false);
    if (!asFile.ok) {
      expect(asFile.error).toBeInstanceOf(PrintError);
      expect(asFile.error.message).toBe(`${file} is not a printer device (it is a regular file)`);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
    const missing = path.join(dir, 'usb', 'lp9');
    const gone = await openPrinter({ kind: 'escpos', device: missing, dotsPerLine: 576, cutter: true }).print({ pdf: roll, title: 't', copies: 1 });
    expect(gone).toEqual({ ok: false, error: expect.objectContaining({ kind: 'device', message: `cannot open the thermal printer ${missing}: no such device: is the printer plugged in and switched on?` }) });
    expect(fs.existsSync(missing)).toBe(false);
    const wide = await openPrinter({ kind: 'simulated', dir: path.join(dir, 'sim'), paper: 'roll80' }).print({ pdf: letter, title: 't', copies: 1 });
    expect(wide).toEqual({ ok: false, error: expect.objectContaining({ kind: 'paper', message: expect.stringMatching(/the tape is 21[56]\.\d mm wide: a thermal printer of 72 mm takes the 80 mm roll tape only/) }) });
  });
});

describe('CUPS through lp, to a private cupsd', () => {
  // a real scheduler and the real lp (Debian cups-daemon, cups-client); the queue's backend stands for the
  // printer's port and keeps what CUPS sent it (test/support/cupsd.ts)
  let cups: PrivateCups;
  let saved: NodeJS.ProcessEnv;
  beforeAll(async () => {
    cups = await startCups();
    cups.addQueue('tapes');
    cups.addQueue('closed');
    expect(cups.run('cupsreject', ['-r', 'out of paper', 'closed']).status).toBe(0);
  }, 60_000);
  afterAll(async () => cups?.stop());
  beforeEach(() => {
    saved = { ...process.env };
    process.env['CUPS_SERVER'] = cups.socket;
  });
  afterEach(() => {
    process.env = saved;
  });

  const jobOf = (printer: string): string => {
    const id = /^cups tapes-(\d+)$/.exec(printer)?.[1];
    if (id === undefined) throw new Error(`no job id in "${printer}"`);
    return id;
  };

  it('prints the letter tape: the printer gets the very bytes, with the title, copies and paper asked for', async () => {
    const printer = openPrinter(parsePrinterArg('cups:tapes'));
    expect(printer.paper).toBe('letter');
    const r = await printer.print({ pdf: letter, title: 'results-official-station-7', copies: 3 });
    if (!r.ok) throw new Error(`${r.error.message}\n${cups.log()}`);
    const job = await cups.job(jobOf(r.value.printer));
    expect(Buffer.compare(job.bytes, letter)).toBe(0);
    // a backend's arguments: job id, user, title, copies, options
    expect(job.args[2]).toBe('results-official-station-7');
    expect(job.args[3]).toBe('3');
    expect(job.args[4]?.split(' ')).toEqual(expect.arrayContaining(['media=Letter', 'fit-to-page']));
    const text = path.join(dir, 'cups-received.pdf');
    fs.writeFileSync(text, job.bytes);
    expect(execFileSync('pdftotext', [text, '-'], { encoding: 'utf8' })).toContain('RESULTS TAPE');
  });

  it('asks for the 80 mm roll on a roll queue', async () => {
    const r = await openPrinter(parsePrinterArg('cups-roll:tapes')).print({ pdf: roll, title: 'zero', copies: 1 });
    if (!r.ok) throw new Error(r.error.message);
    const job = await cups.job(jobOf(r.value.printer));
    expect(Buffer.compare(job.bytes, roll)).toBe(0);
    expect(job.args[4]?.split(' ')).toEqual(expect.arrayContaining(['media=Custom.80x297mm']));
  });

  it("passes the scheduler's refusal on to the poll worker: no such queue", async () => {
    const r = await openPrinter(parsePrinterArg('cups:nosuch')).print({ pdf: letter, title: 't', copies: 1 });
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ kind: 'lp', message: 'lp refused the tape for nosuch: lp: Error - The printer or class does not exist.' }) });
  });

  it('passes it on for a queue that is not accepting jobs, with the reason the office gave', async () => {
    const r = await openPrinter(parsePrinterArg('cups:closed')).print({ pdf: letter, title: 't', copies: 1 });
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ kind: 'lp', message: expect.stringMatching(/^lp refused the tape for closed: lp: .*not accepting jobs/) }) });
  });

  it('says so when the scheduler is not running', async () => {
    process.env['CUPS_SERVER'] = path.join(dir, 'no-cups.sock');
    const r = await openPrinter(parsePrinterArg('cups:tapes')).print({ pdf: letter, title: 't', copies: 1 });
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ kind: 'lp', message: expect.stringMatching(/^the print service \(CUPS scheduler\) is not running; lp refused the tape for tapes: lp: /) }) });
  });

  it('says when lp is not installed', async () => {
    const missing = path.join(dir, 'no-such-lp');
    const r = await openPrinter({ kind: 'cups', queue: 'q', paper: 'letter', lp: missing }).print({ pdf: letter, title: 't', copies: 1 });
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ kind: 'lp', message: `${missing} is not installed (Debian cups-client)` }) });
  });
});

describe('--printer', () => {
  it('reads each kind and refuses what is not one', () => {
    expect(parsePrinterArg('escpos:/dev/usb/lp0')).toEqual({ kind: 'escpos', device: '/dev/usb/lp0', dotsPerLine: 576, cutter: true });
    expect(parsePrinterArg('cups')).toEqual({ kind: 'cups', paper: 'letter', lp: 'lp' });
    expect(parsePrinterArg('cups-roll:receipt')).toEqual({ kind: 'cups', queue: 'receipt', paper: 'roll80', lp: 'lp' });
    expect(parsePrinterArg('simulated-letter:/tmp/x')).toEqual({ kind: 'simulated', dir: '/tmp/x', paper: 'letter' });
    expect(() => parsePrinterArg('laser:/dev/lp0')).toThrow(/--printer must be escpos:<device>, cups\[:queue\]/);
    expect(() => parsePrinterArg('escpos:')).toThrow(/--printer escpos:: device/);
    expect(() => parsePrinterArg('cups:bad queue')).toThrow(/must be a CUPS queue name/);
  });
});

describe('station.json printer', () => {
  it('takes each printer, resolves a simulated folder beside the file, and names a bad one', () => {
    const d = tempDir('station-json-printer');
    const file = path.join(d, 'station.json');
    const base = { data: 'data', election: 'e/election.json', keys: 'e/keys', precinct: 'p-101', scanner: { kind: 'simulated', deckDir: 'deck' } };
    fs.writeFileSync(file, JSON.stringify({ ...base, printer: { kind: 'escpos', device: '/dev/usb/lp0' } }));
    expect(loadStationConfig(file)).toMatchObject({ ok: true, value: { printer: { kind: 'escpos', device: '/dev/usb/lp0', dotsPerLine: 576, cutter: true } } });
    fs.writeFileSync(file, JSON.stringify({ ...base, printer: { kind: 'cups', queue: 'Office_Laser' } }));
    expect(loadStationConfig(file)).toMatchObject({ ok: true, value: { printer: { kind: 'cups', queue: 'Office_Laser', paper: 'letter', lp: 'lp' } } });
    fs.writeFileSync(file, JSON.stringify({ ...base, printer: { kind: 'simulated', dir: 'printed' } }));
    expect(loadStationConfig(file)).toMatchObject({ ok: true, value: { printer: { kind: 'simulated', dir: path.join(d, 'printed'), paper: 'roll80' } } });
    fs.writeFileSync(file, JSON.stringify({ ...base, printer: { kind: 'escpos', device: '/dev/usb/lp0', dotsPerLine: 384 } }));
    const bad = loadStationConfig(file);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toContain('printer.dotsPerLine: ');
    fs.writeFileSync(file, JSON.stringify({ ...base, printer: { kind: 'inkjet' } }));
    const kind = loadStationConfig(file);
    expect(kind.ok).toBe(false);
    if (!kind.ok) expect(kind.error).toContain('printer.kind: ');
  });
});
