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

describe('CUPS through lp', () => {
  // CUPS (Debian cups + cups-client) is not installed on this machine: a stand-in `lp` on PATH records what
  // it was given and answers as lp does. The test checks the command line and the bytes lp received.
  const STUB = `#!/bin/sh
out="$LP_STUB_DIR"
printf '%s\\n' "$@" > "$out/args"
cat > "$out/stdin.pdf"
if [ -n "$LP_STUB_FAIL" ]; then echo "lp: The printer or class does not exist." >&2; exit 1; fi
echo "request id is tapes-7 (1 file(s))"
`;
  let saved: NodeJS.ProcessEnv;
  let bin: string;
  beforeAll(() => {
    bin = tempDir('lp-stub');
    fs.writeFileSync(path.join(bin, 'lp'), STUB, { mode: 0o755 });
  });
  beforeEach(() => {
    saved = { ...process.env };
    process.env['PATH'] = `${bin}:${process.env['PATH'] ?? ''}`;
    process.env['LP_STUB_DIR'] = bin;
  });
  afterEach(() => {
    process.env = saved;
  });

  it('sends the letter tape on standard input with queue, copies, title and paper', async () => {
    const printer = openPrinter(parsePrinterArg('cups:tapes'));
    expect(printer.paper).toBe('letter');
    const r = await printer.print({ pdf: letter, title: 'results-official-station-7', copies: 3 });
    expect(r).toEqual({ ok: true, value: { printer: 'cups tapes-7' } });
    expect(fs.readFileSync(path.join(bin, 'args'), 'utf8').trim().split('\n')).toEqual(['-d', 'tapes', '-n', '3', '-t', 'results-official-station-7', '-o', 'media=Letter', '-o', 'fit-to-page', '--', '-']);
    const received = fs.readFileSync(path.join(bin, 'stdin.pdf'));
    expect(Buffer.compare(received, letter)).toBe(0);
    expect(execFileSync('pdftotext', [path.join(bin, 'stdin.pdf'), '-'], { encoding: 'utf8' })).toContain('RESULTS TAPE');
  });

  it("passes lp's refusal on to the poll worker", async () => {
    process.env['LP_STUB_FAIL'] = '1';
    const r = await openPrinter(parsePrinterArg('cups:nosuch')).print({ pdf: letter, title: 't', copies: 1 });
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ kind: 'lp', message: 'lp refused the tape for nosuch: lp: The printer or class does not exist.' }) });
  });

  it('says when lp is not installed', async () => {
    const r = await openPrinter({ kind: 'cups', queue: 'q', paper: 'letter', lp: path.join(bin, 'no-such-lp') }).print({ pdf: letter, title: 't', copies: 1 });
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ kind: 'lp', message: `${path.join(bin, 'no-such-lp')} is not installed (Debian cups-client)` }) });
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
