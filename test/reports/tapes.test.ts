import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Contest } from '../../ballots/election';
import { contestOptions, validateElection } from '../../ballots/election';
import type { Tally } from '../../app/ledger/tally';
import { ReportError } from '../../app/reports/errors';
import type { Paper, TapeInput } from '../../app/reports/tapes';
import { renderTape, writeResultsTape, writeZeroTape } from '../../app/reports/tapes';
import { outputDir, rasterisePdf, tempDir, zbarDecode } from '../support/ballots';
import { toHex } from '../../lib/bytes';
import { checkpointDigest } from '../../app/ledger/checkpoint';
import { parseCheckpointQr } from '../../app/reports/checkpoint-qr';
import type { Station, Verified } from './fixtures';
import { buildStation, pdfInfo, pdfText, readingText, tapeInputFor, tapeRows, verifyAndTally } from './fixtures';

const OUT = outputDir('reports');

interface Case {
  readonly name: 'municipal' | 'general';
  readonly precinct: string;
  readonly station: Station;
  readonly verified: Verified;
}

let cases: Case[];
let tmp: string;

beforeAll(() => {
  tmp = tempDir('tapes');
  cases = (
    [
      ['municipal', 'p-101', 80],
      ['general', 'p-0002', 40],
    ] as const
  ).map(([name, precinct, ballots], i) => {
    const station = buildStation(path.join(tmp, name), { election: name, precinct, ballots, seed: 11 + i, closeBatch: true });
    return { name, precinct, station, verified: verifyAndTally(station.ledgerFile) };
  });
});

function precinctContests(c: Case): Contest[] {
  const d = c.station.election.definition;
  const ids = new Set(d.ballotStyles.filter((s) => s.precincts.includes(c.precinct)).flatMap((s) => s.contests));
  return d.contests.filter((x) => ids.has(x.id));
}

/** The label a tape prints for each option: the candidate, "Write-in" or "Write-in 2", yes/no label. */
function optionLabels(contest: Contest, c: Case): { id: string; label: string }[] {
  const opts = contestOptions(contest, c.station.election.definition);
  const writeIns = opts.filter((o) => o.writeIn).length;
  let w = 0;
  return opts.map((o) => ({ id: o.id, label: o.writeIn ? (writeIns > 1 ? `Write-in ${++w}` : 'Write-in') : o.label }));
}

/** Walks the printed rows in order and checks each number against the tally (zero tape: all 0). */
function checkTotals(text: string, c: Case, tally: Tally | null): number {
  const rows = tapeRows(text);
  let at = 0;
  let checked = 0;
  const expectRow = (label: string, value: number): void => {
    const k = rows.findIndex((r, i) => i >= at && r.label === label);
    if (k < 0) throw new Error(`no row "${label}" after row ${at} of the tape`);
    expect({ label, value: rows[k]!.value }).toEqual({ label, value: String(value) });
    at = k + 1;
    checked++;
  };
  const b = tally?.ballots;
  expectRow('Ballots cast', b?.cast ?? 0);
  expectRow('Cast as is', b?.castAsIs ?? 0);
  expectRow('With a marginal mark', b?.marginal ?? 0);
  // what the station gave back, from its ledger events (fixtures.ts logs them as the station does)
  expectRow('Returned to the voter', tally === null ? 0 : c.station.returnedToVoter);
  expectRow('Rejected', tally === null ? 0 : [...c.station.rejected.values()].reduce((a, x) => a + x, 0));
  expectRow('Recorded, not counted', b?.returned ?? 0);
  for (const contest of precinctContests(c)) {
    const ct = tally?.contests.find((x) => x.id === contest.id);
    const independent = c.station.expected.get(contest.id)!;
    for (const o of optionLabels(contest, c)) {
      const votes = ct === undefined ? 0 : ct.votes[o.id]!;
      // the ledger's tally and a count straight from the ballots fed must agree
      if (ct !== undefined) expect(votes).toBe(independent.get(o.id));
      expectRow(o.label, votes);
    }
    expectRow('Ballots with this contest', ct?.ballots ?? 0);
    expectRow('Overvoted ballots', ct?.overvotedBallots ?? 0);
    expectRow('Undervoted ballots', ct?.undervotedBallots ?? 0);
    expectRow('Undervotes (unused votes)', ct?.undervotes ?? 0);
    if (contest.type === 'candidate' && contest.writeIns > 0) expectRow('Ballots with a write-in', ct?.writeInBallots ?? 0);
    expectRow('Ballots with a marginal mark', ct?.marginalBallots ?? 0);
  }
  return checked;
}

const flat = (s: string): string => s.replace(/\s+/g, ' ');

/** Rows of the raster that hold ink, from a gray PNG. */
async function inkRows(png: string): Promise<{ height: number; ink: boolean[] }> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  const ink: boolean[] = [];
  for (let y = 0; y < info.height; y++) {
    let any = false;
    for (let x = 0; x < info.width && !any; x++) any = (data[y * info.width + x] as number) < 160;
    ink.push(any);
  }
  return { height: info.height, ink };
}

describe.each(['municipal', 'general'] as const)('tapes of the %s election', (name) => {
  const get = (): Case => cases.find((c) => c.name === name)!;

  describe.each(['roll80', 'letter'] as const)('on %s', (paper: Paper) => {
    for (const kind of ['zero', 'results'] as const) {
      it(`the ${kind} tape names every contest and option and prints the ${kind === 'zero' ? 'zeros' : "tally's totals"}`, async () => {
        const c = get();
        const file = path.join(OUT, `${name}-${kind}-${paper}.pdf`);
        const input = tapeInputFor(c.station, c.verified, c.precinct, kind === 'zero');
        await (kind === 'zero' ? writeZeroTape : writeResultsTape)(input, file, paper);
        const pages = pdfText(file);
        const all = readingText(file, paper === 'letter' ? 2 : 1);
        const text = flat(all);
        for (const contest of precinctContests(c)) {
          expect(text).toContain(flat(contest.title));
          for (const o of optionLabels(contest, c)) expect(text).toContain(o.label);
        }
        // contests of other ballot styles are not on this precinct's tape
        const others = c.station.election.definition.contests.filter((x) => !precinctContests(c).includes(x));
        for (const o of others) expect(text).not.toContain(flat(o.title));
        expect(checkTotals(all, c, kind === 'zero' ? null : c.verified.tally)).toBeGreaterThan(20);
        if (kind === 'results') expect(c.verified.tally.ballots.cast).toBe(c.station.cast);
        expect(text).toContain(c.station.election.definition.election.title);
        expect(text).toContain('station-7');
        expect(text).toContain('OFFICIAL');
        expect(text).toContain('mark thresholds (default): definite ≥ 22.0 %');
        // a results tape's printed time is the ledger's close of polls; a zero tape's the station's clock
        expect(text).toContain(kind === 'zero' ? 'Printed 2026-11-03 06:55 UTC' : 'Printed 2026-11-03 20:00 UTC');
        if (kind === 'results') {
          expect(text).toContain('Polls opened 2026-11-03 07:00 UTC');
          expect(text).toContain('Polls paused 2026-11-03 12:01 UTC');
          expect(text).toContain('Polls resumed 2026-11-03 12:31 UTC');
          expect(text).toContain('Polls closed 2026-11-03 20:00 UTC');
          const z = c.station.zeroTape!;
          expect(text).toContain(`Ledger entry ${z.seq}`);
          expect(all.replace(/\s+/g, '')).toContain(z.entryHash);
          expect(all.replace(/\s+/g, '')).toContain(z.sha256);
        }
        // the station and the election are named once each
        expect(text.match(/station-7/g)).toHaveLength(1);
        expect(text.match(new RegExp(c.station.election.definition.election.id, 'g'))).toHaveLength(1);
        expect(text.match(new RegExp(`\\b${c.precinct}\\b`, 'g'))).toHaveLength(1);
        const hex = all.replace(/\s+/g, '');
        expect(hex).toContain(c.station.election.hash);
        expect(hex).toContain(c.verified.head.hash);
        if (kind === 'results') expect(hex).toContain(c.verified.batchRoot);
        else expect(text).not.toContain('Merkle root');
        expect(text).toMatch(/Precinct captain: printed name.*Precinct captain: signature.*Poll worker: printed name.*Poll worker: signature.*Poll worker: printed name/);

        const info = pdfInfo(file);
        if (paper === 'roll80') {
          expect(info.pages).toBe(1);
          expect(info.width).toBeCloseTo(80, 1);
          // the page is as long as its content: the last ink sits just above the bottom margin, no long blank anywhere
          const [png] = rasterisePdf(file, 100, tmp);
          const { height, ink } = await inkRows(png!);
          const pxPerMm = 100 / 25.4;
          const last = ink.lastIndexOf(true);
          const bottomBlank = (height - 1 - last) / pxPerMm;
          expect(bottomBlank).toBeGreaterThan(4);
          expect(bottomBlank).toBeLessThan(12);
          let run = 0;
          let longest = 0;
          for (const r of ink.slice(ink.indexOf(true), last)) {
            run = r ? 0 : run + 1;
            longest = Math.max(longest, run);
          }
          expect(longest / pxPerMm).toBeLessThan(10);
          expect(info.height).toBeCloseTo(height / pxPerMm, 0);
        } else {
          expect(info.width).toBeCloseTo(215.9, 1);
          expect(info.height).toBeCloseTo(279.4, 1);
          if (name === 'general') expect(info.pages).toBeGreaterThanOrEqual(3);
          pages.forEach((p, i) => expect(p).toContain(`page ${i + 1} of ${pages.length}`));
        }
      });
    }

    it("the QR code on the results tape carries the close of polls' checkpoint: network, batch, root, counts", async () => {
      const c = get();
      const network = { records: 'florincoin-main', anchor: 'bitcoin-main' };
      const v = verifyAndTally(c.station.ledgerFile, network);
      const file = path.join(tmp, `${name}-qr-${paper}.pdf`);
      await writeResultsTape(tapeInputFor(c.station, v, c.precinct), file, paper);
      // the code sits near the end: only the last page is rasterised
      const last = pdfInfo(file).pages;
      const prefix = path.join(tmp, `${name}-qr-${paper}`);
      execFileSync('pdftoppm', ['-r', '150', '-gray', '-png', '-f', String(last), '-l', String(last), '-singlefile', file, prefix]);
      // zbarimg prints the payload's lines as they are
      const q = parseCheckpointQr(zbarDecode(`${prefix}.png`).join('\n'));
      const cp = v.report.summary!.batches[0]!;
      expect(q).toEqual({
        network,
        mode: 'official',
        election: c.station.election.hash,
        station: 'station-7',
        batch: 1,
        records: c.station.cast,
        entries: cp.checkpoint.headSeq,
        root: c.verified.batchRoot,
        digest: toHex(checkpointDigest(cp.body)),
      });
    });
  });

  it('the same input gives the same bytes', async () => {
    const c = get();
    const input = tapeInputFor(c.station, c.verified, c.precinct);
    const a = await renderTape('results', input, 'roll80');
    const b = await renderTape('results', { ...input, thresholds: [...input.thresholds] }, 'roll80');
    expect(Buffer.compare(a, b)).toBe(0);
    const zero = tapeInputFor(c.station, c.verified, c.precinct, true);
    const z1 = await renderTape('zero', zero, 'roll80');
    const z2 = await renderTape('zero', { ...zero, printedAt: '2026-11-03T06:56Z' }, 'roll80');
    expect(Buffer.compare(z1, z2)).not.toBe(0);
  });
});

describe('a tape longer than a PDF page may be', () => {
  it('continues on further cuts, each as long as its content and numbered', async () => {
    const g = cases[1]!.station.election.definition;
    // the general election's contests four times over: about 7 m of tape
    const contests = [0, 1, 2, 3].flatMap((k) => g.contests.map((c) => ({ ...c, id: `${c.id.slice(0, 28)}-${k}`, title: `${c.title} (${k})` })));
    const valid = validateElection({ ...g, contests, ballotStyles: [{ id: 'all', precincts: g.precincts.map((p) => p.id), contests: contests.map((c) => c.id) }] });
    if (!valid.ok) throw new Error(JSON.stringify(valid.error));
    const c = cases[1]!;
    const file = path.join(tmp, 'long-zero.pdf');
    await writeZeroTape({ ...tapeInputFor(c.station, c.verified, 'p-0001', true), election: valid.value.definition, electionHash: valid.value.hash }, file, 'roll80');
    const sizes = [...execFileSync('pdfinfo', ['-f', '1', '-l', '99', file], { encoding: 'utf8' }).matchAll(/size:\s+([\d.]+) x ([\d.]+) pts/g)].map((m) => ({ w: (Number(m[1]) * 25.4) / 72, h: (Number(m[2]) * 25.4) / 72 }));
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    for (const size of sizes) {
      expect(size.w).toBeCloseTo(80, 1);
      expect(size.h).toBeLessThanOrEqual(5080);
    }
    expect(sizes.reduce((a, x) => a + x.h, 0)).toBeGreaterThan(5080);
    const pages = pdfText(file);
    pages.forEach((p, i) => expect(p).toContain(`page ${i + 1} of ${pages.length}`));
    const text = flat(pages.join('\n'));
    for (const contest of contests) expect(text).toContain(flat(contest.title));
  });
});

describe('a test-mode tape', () => {
  it('says TEST at both ends and in the mode line', async () => {
    const st = buildStation(path.join(tmp, 'test-mode'), { election: 'municipal', precinct: 'p-201', mode: 'test', ballots: 5 });
    const v = verifyAndTally(st.ledgerFile);
    const file = path.join(OUT, 'municipal-zero-test-roll80.pdf');
    await writeZeroTape(tapeInputFor(st, v, 'p-201', true), file, 'roll80');
    const text = flat(pdfText(file).join('\n'));
    expect(text.match(/TEST — NOT AN OFFICIAL TAPE/g)).toHaveLength(2);
    expect(text).toMatch(/Mode TEST/);
    expect(text).not.toMatch(/Mode OFFICIAL/);
    // ward 2's council race, not ward 1's
    expect(text).toContain('City Council, Ward 2');
    expect(text).not.toContain('City Council, Ward 1');
    rasterisePdf(file, 100, OUT);
  });

  it("a test results tape: the test session's start from the official ledger's events, the station's clock, no close of polls", async () => {
    const st = buildStation(path.join(tmp, 'test-results'), { election: 'municipal', precinct: 'p-201', mode: 'test', ballots: 9 });
    const v = verifyAndTally(st.ledgerFile);
    expect(v.facts.opened?.at).toBe('2026-11-03T06:40:00Z');
    const file = path.join(OUT, 'municipal-results-test-roll80.pdf');
    await writeResultsTape(tapeInputFor(st, v, 'p-201'), file, 'roll80');
    const all = pdfText(file).join('\n');
    const text = flat(all);
    expect(text).toContain('Test mode began 2026-11-03 06:40 UTC');
    expect(text).toMatch(/Printed 2026-11-03 06:55 UTC the station's clock/);
    expect(text).not.toContain('Polls closed');
    // its own zero tape (printed in test mode), not an official one
    expect(text).toContain(`Ledger entry ${st.zeroTape!.seq}`);
    const rows = tapeRows(all);
    expect(rows.find((r) => r.label === 'Ballots cast')?.value).toBe(String(st.cast));
    expect(rows.find((r) => r.label === 'Rejected')?.value).toBe(String([...st.rejected.values()].reduce((a, x) => a + x, 0)));
    expect(rows.find((r) => r.label === 'Returned to the voter')?.value).toBe(String(st.returnedToVoter));
    expect(text).toContain('No batch closed yet: no checkpoint.');
  });
});

describe('bad inputs are refused with a clear error', () => {
  const input = (): TapeInput => {
    const c = cases[0]!;
    return tapeInputFor(c.station, c.verified, c.precinct);
  };
  const zeroInput = (): TapeInput => {
    const c = cases[0]!;
    return tapeInputFor(c.station, c.verified, c.precinct, true);
  };
  const refused = async (p: Promise<unknown>, kind: ReportError['kind'], message: RegExp): Promise<void> => {
    const e: unknown = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ReportError);
    expect((e as ReportError).kind).toBe(kind);
    expect((e as ReportError).message).toMatch(message);
  };

  it('a tally of another election', async () => {
    const general = cases[1]!;
    await refused(renderTape('results', { ...input(), tally: general.verified.tally }, 'roll80'), 'wrong-election', new RegExp(`the tally is of election ${general.station.election.hash}`));
  });

  it('a tally whose contests are not the definition’s', async () => {
    const t = input().tally!;
    const changed: Tally = { ...t, contests: t.contests.map((c) => (c.id === 'mayor' ? { ...c, votes: { ...c.votes, 'someone-else': 3 } } : c)) };
    await refused(renderTape('results', { ...input(), tally: changed }, 'letter'), 'wrong-election', /contest "mayor": the tally counts options .*someone-else/);
    const without: Tally = { ...t, contests: t.contests.filter((c) => c.id !== 'measure-a') };
    await refused(renderTape('results', { ...input(), tally: without }, 'letter'), 'wrong-election', /no contest "measure-a"/);
  });

  it('a tally of the other mode or another station', async () => {
    const t = input().tally!;
    await refused(renderTape('results', { ...input(), tally: { ...t, mode: 'test' } }, 'roll80'), 'wrong-election', /test ledger/);
    await refused(renderTape('results', { ...input(), tally: { ...t, station: 'station-9' } }, 'roll80'), 'wrong-election', /station "station-9"/);
  });

  it('an unknown precinct', async () => {
    await refused(renderTape('zero', { ...zeroInput(), precinct: 'p-999' }, 'roll80'), 'unknown-precinct', /no precinct "p-999" \(it has p-101, p-102, p-201\)/);
  });

  it('a zero tape over counted ballots, a results tape without a tally', async () => {
    await refused(renderTape('zero', { ...zeroInput(), tally: input().tally }, 'roll80'), 'not-zero', /already holds \d+ cast/);
    await refused(renderTape('results', { ...input(), tally: null }, 'roll80'), 'bad-input', /needs the tally/);
  });

  it('an official results tape takes no printed time but the close of polls, and needs one', async () => {
    await refused(renderTape('results', { ...input(), printedAt: '2026-11-03T23:59Z' }, 'roll80'), 'bad-input', /polls-closed entry; no other printed time/);
    await refused(renderTape('results', { ...input(), facts: { ...input().facts, closed: null } }, 'roll80'), 'not-closed', /records no close of the polls/);
  });

  it('malformed hashes, time and paper', async () => {
    const c = cases[0]!;
    await refused(renderTape('zero', { ...tapeInputFor(c.station, c.verified, c.precinct, true), tally: null, printedAt: 'tomorrow' }, 'roll80'), 'bad-input', /a tape time must be an ISO time/);
    await refused(renderTape('results', { ...input(), checkpoint: { ...input().checkpoint!, root: 'XYZ' } }, 'roll80'), 'wrong-election', /checkpoint/);
    await refused(renderTape('results', { ...input(), ledgerHead: { seq: 0, hash: 'ab'.repeat(32) } }, 'roll80'), 'bad-input', /head entry/);
    await refused(renderTape('results', input(), 'a4' as Paper), 'bad-input', /paper must be roll80 or letter/);
  });

  it('text the font cannot print', async () => {
    const i = input();
    const election = { ...i.election, election: { ...i.election.election, title: 'Election 選挙' } };
    await refused(renderTape('results', { ...i, election }, 'roll80'), 'unprintable', /"選" \(U\+9078\)/);
  });

  it('an output file that cannot be written, leaving nothing behind', async () => {
    const dir = tempDir('unwritable');
    await refused(writeResultsTape(input(), path.join(dir, 'missing', 'tape.pdf'), 'roll80'), 'unwritable', /does not exist/);
    fs.mkdirSync(path.join(dir, 'a-directory'));
    await refused(writeResultsTape(input(), path.join(dir, 'a-directory'), 'roll80'), 'unwritable', /cannot write/);
    expect(fs.readdirSync(dir)).toEqual(['a-directory']);
  });
});
