import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { MAX_PIXELS, MAX_SCAN_BYTES } from '../../ballots/read/decode';
import { readScanFile } from '../../ballots/read/scan-file';
import { EXAMPLES, tempDir, writeTestKeys } from '../support/ballots';
import { runCli } from '../support/cli';

const ROOT = path.resolve(__dirname, '..', '..');

/** A directory holding every kind of name that is not a scan, plus one real small file. */
function badInputs(): { dir: string; fifo: string; directory: string; zero: string; oversize: string; empty: string; small: string } {
  const dir = tempDir('scan-file');
  const fifo = path.join(dir, 'pipe.png');
  execFileSync('mkfifo', [fifo]);
  const directory = path.join(dir, 'folder.png');
  fs.mkdirSync(directory);
  const zero = path.join(dir, 'zero.png');
  fs.symlinkSync('/dev/zero', zero);
  // sparse: one byte past the limit costs no disk, but reading it whole would cost ~193 MB of memory
  const oversize = path.join(dir, 'huge.pgm');
  fs.writeFileSync(oversize, 'P5\n8000 8000\n255\n');
  fs.truncateSync(oversize, MAX_SCAN_BYTES + 1);
  const empty = path.join(dir, 'empty.png');
  fs.writeFileSync(empty, '');
  const small = path.join(dir, 'small.pgm');
  fs.writeFileSync(small, Buffer.concat([Buffer.from('P5\n2 2\n255\n'), Buffer.from([0, 1, 2, 3])]));
  return { dir, fifo, directory, zero, oversize, empty, small };
}

describe('reading a scan file', () => {
  it('derives its byte limit from the pixel limit: 8-bit colour, uncompressed, plus 1 MiB of headers', () => {
    expect(MAX_SCAN_BYTES).toBe(MAX_PIXELS * 3 + 1024 * 1024);
  });

  it('reads a regular file, and a symbolic link to one', () => {
    const f = badInputs();
    const direct = readScanFile(f.small);
    expect(direct.ok && Buffer.from(direct.value).equals(fs.readFileSync(f.small))).toBe(true);
    const link = path.join(f.dir, 'link.pgm');
    fs.symlinkSync(f.small, link);
    const viaLink = readScanFile(link);
    expect(viaLink.ok && viaLink.value.length).toBe(fs.statSync(f.small).size);
  });

  it('refuses a FIFO, a directory, /dev/zero through a symbolic link, an oversize file and an empty one, each with its reason', () => {
    const f = badInputs();
    // a FIFO with no writer: the old readFileSync waited here for ever
    expect(readScanFile(f.fifo)).toEqual({ ok: false, error: { code: 'not-a-file', message: 'it is a named pipe (FIFO), not a scan file' } });
    expect(readScanFile(f.directory)).toEqual({ ok: false, error: { code: 'not-a-file', message: 'it is a directory, not a scan file' } });
    expect(readScanFile(f.zero)).toEqual({ ok: false, error: { code: 'not-a-file', message: 'it is a character device (a symbolic link to /dev/zero), not a scan file' } });
    expect(readScanFile(f.oversize)).toEqual({ ok: false, error: { code: 'too-large', message: `it is ${MAX_SCAN_BYTES + 1} bytes, more than the ${MAX_SCAN_BYTES} bytes of the largest scan this reader accepts` } });
    expect(readScanFile(f.empty)).toEqual({ ok: false, error: { code: 'empty', message: 'the file is empty' } });
    expect(readScanFile(path.join(f.dir, 'nope.png'))).toEqual({ ok: false, error: { code: 'not-found', message: 'no such file' } });
    // a driver's lower cap applies; a higher one never lifts the reader's own
    expect(readScanFile(f.small, { maxBytes: 8 })).toMatchObject({ ok: false, error: { code: 'too-large' } });
    expect(readScanFile(f.oversize, { maxBytes: 2 * MAX_SCAN_BYTES })).toMatchObject({ ok: false, error: { code: 'too-large' } });
  });

  it('tallyproof interpret says why for each bad input, exits 1 and goes on to the next file', async () => {
    const f = badInputs();
    const keys = writeTestKeys(f.dir);
    const r = await runCli(['interpret', '--election', path.join(EXAMPLES, 'municipal.json'), '--keys', keys, '--json', f.fifo, f.directory, f.zero, f.oversize, f.empty]);
    expect(r.code).toBe(1);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => z.object({ file: z.string(), status: z.string(), reasons: z.array(z.string()), detail: z.string() }).parse(JSON.parse(l)));
    expect(lines.map((l) => [path.basename(l.file), l.status, l.reasons.join(), l.detail])).toEqual([
      ['pipe.png', 'rejected', 'unreadable-image', `${f.fifo}: it is a named pipe (FIFO), not a scan file`],
      ['folder.png', 'rejected', 'unreadable-image', `${f.directory}: it is a directory, not a scan file`],
      ['zero.png', 'rejected', 'unreadable-image', `${f.zero}: it is a character device (a symbolic link to /dev/zero), not a scan file`],
      ['huge.pgm', 'rejected', 'image-too-large', `${f.oversize}: it is ${MAX_SCAN_BYTES + 1} bytes, more than the ${MAX_SCAN_BYTES} bytes of the largest scan this reader accepts`],
      ['empty.png', 'rejected', 'unreadable-image', `${f.empty}: the file is empty`],
    ]);
  });

  it('tallyproof calibrate names the scan it cannot read and why', async () => {
    const f = badInputs();
    const keys = writeTestKeys(f.dir);
    const r = await runCli(['calibrate', '--election', path.join(EXAMPLES, 'municipal.json'), '--keys', keys, '--out', path.join(f.dir, 'p.json'), f.zero]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read calibration scan ${f.zero}: it is a character device (a symbolic link to /dev/zero), not a scan file`);
  });

  it("interpret's other inputs (--election, --keys, --calibration) are bounded the same way", async () => {
    const f = badInputs();
    const keys = writeTestKeys(f.dir);
    const election = path.join(EXAMPLES, 'municipal.json');
    const interpret = (...args: string[]) => runCli(['interpret', ...args, f.small]);
    const e1 = await interpret('--election', f.zero, '--keys', keys);
    expect(e1.code).toBe(1);
    expect(e1.stderr).toContain(`cannot read ${f.zero}: it is a character device (a symbolic link to /dev/zero), not an election definition file`);
    const e2 = await interpret('--election', f.fifo, '--keys', keys);
    expect(e2.stderr).toContain(`cannot read ${f.fifo}: it is a named pipe (FIFO), not an election definition file`);
    const k = await interpret('--election', election, '--keys', f.zero);
    expect(k.code).toBe(1);
    expect(k.stderr).toContain(`Cannot read the election public key file ${f.zero}: it is a character device (a symbolic link to /dev/zero), not a key file.`);
    const c = await interpret('--election', election, '--keys', keys, '--calibration', f.fifo);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(`cannot read calibration profile ${f.fifo}: it is a named pipe (FIFO), not a calibration profile`);
  });

  it("interpret's memory does not grow on /dev/zero, a FIFO or an oversize file (measured in a child process)", () => {
    const f = badInputs();
    const keys = writeTestKeys(f.dir);
    const child = spawnSync(
      process.execPath,
      [path.join(ROOT, 'scripts', 'run-ts.js'), path.join(__dirname, 'support', 'interpret-child.ts'), path.join(EXAMPLES, 'municipal.json'), keys, f.zero, f.fifo, f.oversize, f.zero],
      // a safety stop for the old code, which blocks on the FIFO: not a measure of speed
      { encoding: 'utf8', timeout: 240_000, killSignal: 'SIGKILL' },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const report = z.object({ baselineKb: z.number(), afterKb: z.number(), codes: z.array(z.number()), output: z.string() }).parse(JSON.parse(child.stdout));
    expect(report.codes).toEqual([1, 1, 1, 1]);
    expect(report.output).toContain('not a scan file');
    // reading any of these whole would add ~193 MB (the oversize file) or GBs (/dev/zero); refusing adds none
    expect(report.afterKb - report.baselineKb).toBeLessThan(32 * 1024);
  });
});
