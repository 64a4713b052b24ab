import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { dataLayout } from '../../app/ledger/layout';
import { readHeadsFile, verifyLedgerFile } from '../../app/ledger/verify';
import type { Rig } from './support/rig';
import { PINS, startRig, waitForStatus, writeSheets } from './support/rig';

jest.setTimeout(240_000);

let rig: Rig;
afterEach(async () => rig?.stop());

const text = (pdf: string): string => execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });

describe('tapes', () => {
  it('zero tape before the polls open, results tape after they close; each printed head is held against the ledger', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }]);
    rig = await startRig({ deck: dir, paper: 'letter' });
    const s = rig.station;
    await s.login({ role: 'captain', pin: PINS.captain });
    const zero = await s.command({ command: 'print-zero-tape' });
    expect(zero.ok).toBe(true);
    if (!zero.ok) return;
    const z = text(zero.value.file ?? '');
    expect(z).toMatch(/Zero tape/);
    expect(z).toMatch(/Springfield Municipal Election/);
    expect((await s.command({ command: 'open-polls', confirm: true })).ok).toBe(true);
    await waitForStatus(s, (x) => x.counts.public === 2);
    // a zero tape once ballots are counted is refused; a results tape before the close too
    expect(await s.command({ command: 'print-zero-tape' })).toEqual({ ok: false, error: expect.objectContaining({ code: 'not-zero' }) });
    expect((await s.command({ command: 'print-results-tape' })).ok).toBe(false);
    expect((await s.command({ command: 'close-polls', confirm: true })).ok).toBe(true);
    const results = await s.command({ command: 'print-results-tape' });
    expect(results.ok).toBe(true);
    if (!results.ok) return;
    const r = text(results.value.file ?? '');
    expect(r).toMatch(/Results tape/);
    expect(r).toMatch(/cast\s+2/i);
    const heads = readHeadsFile(dataLayout(rig.dataDir).heads('official')).map((h) => h.what);
    expect(heads).toEqual([expect.stringMatching(/^the zero tape printed/), expect.stringMatching(/^polls closed, batch 1/), expect.stringMatching(/^the results tape printed/)]);
    expect(verifyLedgerFile(dataLayout(rig.dataDir).ledger('official'), { expectedHeads: readHeadsFile(dataLayout(rig.dataDir).heads('official')) }).ok).toBe(true);
    expect(fs.statSync(results.value.file ?? '').size).toBeGreaterThan(1000);
    // publishing needs a chains configuration; without one the captain is told how
    expect(await s.command({ command: 'publish', confirm: true })).toEqual({ ok: false, error: expect.objectContaining({ code: 'publish-not-configured' }) });
  });
});
