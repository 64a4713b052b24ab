import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { dataLayout } from '../../app/ledger/layout';
import { readHeadsFile } from '../../app/ledger/verify';
import { runCli } from '../support/cli';
import type { Rig } from '../station/support/rig';
import { PINS, startRig, waitForStatus, writeSheets } from '../station/support/rig';

/*
 * One tape builder (app/reports/tape-input.ts) for the station and `tallyproof tape`: for the same ledger, the
 * tape a captain prints at the station and the one printed afterwards from its data directory say the same,
 * word for word. Each CLI tape is printed just before the station's, while the ledger is at the same head
 * (the station's own print then records its 'tape-printed' event and moves the head on).
 */
jest.setTimeout(240_000);

let rig: Rig;
afterEach(async () => rig?.stop());

const text = (pdf: string): string => execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
/** a zero tape prints the clock at printing; the two prints may fall in different minutes */
const withoutClock = (t: string): string => t.replace(/Printed\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/g, 'Printed <clock>');

describe('the same ledger prints the same tape at the station and from `tallyproof tape`', () => {
  it('zero tape (but for the clock) and results tape (every word: its time is the ledger’s close of polls)', async () => {
    const { dir } = await writeSheets([
      { kind: 'normal', n: 0 },
      { kind: 'normal', n: 1 },
      { kind: 'normal', n: 2 },
    ]);
    rig = await startRig({ deck: dir, paper: 'roll80' });
    const s = rig.station;
    const data = rig.dataDir;
    await s.login({ role: 'captain', pin: PINS.captain });

    const cliZero = path.join(data, 'cli-zero.pdf');
    const z = await runCli(['tape', 'zero', '--data', data, '--out', cliZero]);
    expect(z.stderr).toBe('');
    expect(z.code).toBe(0);
    const stationZero = await s.command({ command: 'print-zero-tape' });
    if (!stationZero.ok) throw new Error(stationZero.error.message);
    const zs = text(stationZero.value.file ?? '');
    expect(zs).toContain('ZERO TAPE');
    expect(zs).toMatch(/Printed\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(withoutClock(text(cliZero))).toBe(withoutClock(zs));

    expect((await s.command({ command: 'open-polls', confirm: true })).ok).toBe(true);
    await waitForStatus(s, (x) => x.counts.public === 3);
    expect((await s.command({ command: 'close-polls', confirm: true })).ok).toBe(true);

    const cliResults = path.join(data, 'cli-results.pdf');
    const r = await runCli(['tape', 'results', '--data', data, '--out', cliResults]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const stationResults = await s.command({ command: 'print-results-tape' });
    if (!stationResults.ok) throw new Error(stationResults.error.message);
    const rs = text(stationResults.value.file ?? '');
    expect(rs).toMatch(/Ballots cast\s+3/);
    expect(rs).toMatch(/Merkle root/);
    expect(text(cliResults)).toBe(rs);
    // the same input gives the same bytes: the PDFs are equal too
    expect(fs.readFileSync(cliResults).equals(fs.readFileSync(stationResults.value.file ?? ''))).toBe(true);

    // both wrote their head through the ledger's one heads-file writer, in the same words; the CLI the head on
    // the tape, the station the head after it (its 'tape-printed' event, written before the head is noted)
    const heads = readHeadsFile(dataLayout(data).heads('official'));
    const [cliHead, stationHead] = heads.filter((h) => h.what.startsWith('the results tape printed'));
    expect(cliHead?.what).toBe(stationHead?.what);
    expect(rs.replace(/\s+/g, ' ')).toContain(`Head entry ${cliHead?.seq}`);
    expect(stationHead?.seq).toBe((cliHead?.seq ?? 0) + 1);
    expect((await runCli(['ledger', 'verify', '--data', data])).code).toBe(0);
  });
});
