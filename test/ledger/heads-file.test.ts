import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LedgerError } from '../../app/ledger/errors';
import { appendHeadsFileLine, readHeadsFile } from '../../app/ledger/heads-file';

/** The heads file has one writer (the station's tape desk and `tallyproof tape` both go through it) and one reader. */
describe('heads file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heads-file-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const hash = 'ab'.repeat(32);

  it('appends lines the reader gives back, in order, one JSON object a line', () => {
    const file = path.join(dir, 'official.heads.jsonl');
    appendHeadsFileLine(file, { seq: 5, hash, what: 'the zero tape printed 2026-11-03T06:55:12Z' });
    appendHeadsFileLine(file, { seq: 9, hash: 'cd'.repeat(32), what: 'the results tape printed 2026-11-03T20:00:41Z' });
    expect(fs.readFileSync(file, 'utf8')).toBe(`{"seq":5,"hash":"${hash}","what":"the zero tape printed 2026-11-03T06:55:12Z"}\n{"seq":9,"hash":"${'cd'.repeat(32)}","what":"the results tape printed 2026-11-03T20:00:41Z"}\n`);
    expect(readHeadsFile(file).map((h) => h.seq)).toEqual([5, 9]);
  });

  it('refuses a line the reader would refuse, and writes nothing (a bad line would fail every later verify)', () => {
    const file = path.join(dir, 'official.heads.jsonl');
    appendHeadsFileLine(file, { seq: 5, hash, what: 'ok' });
    const before = fs.readFileSync(file);
    for (const bad of [
      { seq: 0, hash, what: 'entry 0' },
      { seq: 3, hash: 'AB'.repeat(32), what: 'upper-case hash' },
      { seq: 3, hash: 'ab', what: 'short hash' },
      { seq: 3, hash, what: 'x'.repeat(201) },
    ]) {
      expect(() => appendHeadsFileLine(file, bad)).toThrow(LedgerError);
      expect(() => appendHeadsFileLine(file, bad)).toThrow(/official\.heads\.jsonl: not a head line: (seq|hash|what)/);
    }
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(readHeadsFile(file)).toEqual([{ seq: 5, hash, what: 'ok' }]);
  });
});
