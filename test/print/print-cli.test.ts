import fs from 'node:fs';
import path from 'node:path';
import { EXAMPLES, TEST_PASSPHRASE, rasterisePdf, tempDir, writeTestKeys, zbarDecode } from '../support/ballots';
import { runCli } from '../support/cli';

const dir = tempDir('print-cli');
const keys = writeTestKeys(dir);
const passFile = path.join(dir, 'pass.txt');
fs.writeFileSync(passFile, `${TEST_PASSPHRASE}\n`);
const municipal = path.join(EXAMPLES, 'municipal.json');
const base = ['ballots', 'print', '--election', municipal, '--keys', keys, '--passphrase-file', passFile];

describe('tallyproof ballots print', () => {
  it('prints a run with distinct random serials, one page per ballot', async () => {
    const out = path.join(dir, 'run.pdf');
    const r = await runCli([...base, '--style', 'ward-1', '--precinct', 'p-102', '--count', '3', '--mode', 'test', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('printed 3 test ballots of style ward-1 for precinct p-102');
    const pages = rasterisePdf(out, 150, dir);
    expect(pages).toHaveLength(3);
    const ids = pages.map((p) => zbarDecode(p).find((c) => c.startsWith('TPB1:'))!.split(':')[1]);
    expect(new Set(ids).size).toBe(3);
    const voting = zbarDecode(pages[0]!).find((c) => c.startsWith('TPV1:'));
    expect(voting).toMatch(/:P-102:WARD-1:F:T$/);
  });

  it('is reproducible with --seed and random without it', async () => {
    const a = path.join(dir, 'a.pdf');
    const b = path.join(dir, 'b.pdf');
    const c = path.join(dir, 'c.pdf');
    for (const [out, seed] of [[a, ['--seed', '7']], [b, ['--seed', '7']], [c, []]] as const) {
      expect((await runCli([...base, '--style', 'ward-2', '--count', '1', '--out', out, ...seed])).code).toBe(0);
    }
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
    expect(fs.readFileSync(a).equals(fs.readFileSync(c))).toBe(false);
  });

  it('fails clearly on a wrong passphrase, missing keys and a precinct outside the style', async () => {
    const wrong = path.join(dir, 'wrong.txt');
    fs.writeFileSync(wrong, 'not the passphrase');
    const out = path.join(dir, 'never.pdf');
    const bad = await runCli(['ballots', 'print', '--election', municipal, '--keys', keys, '--passphrase-file', wrong, '--style', 'ward-1', '--count', '1', '--out', out]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/passphrase/i);
    const missing = await runCli([...base.slice(0, 4), '--keys', path.join(dir, 'nokeys'), '--passphrase-file', passFile, '--style', 'ward-1', '--count', '1', '--out', out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('election-public.json');
    const precinct = await runCli([...base, '--style', 'ward-1', '--precinct', 'p-201', '--count', '1', '--out', out]);
    expect(precinct.code).toBe(2);
    expect(precinct.stderr).toContain('ballot style "ward-1" is not used in precinct "p-201"');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('names the first contest that does not fit when the paper is too small', async () => {
    const general = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'general.json'), 'utf8')) as { paper: { size: string; sides: number } };
    general.paper = { size: 'letter', sides: 1 };
    const file = path.join(dir, 'crowded.json');
    fs.writeFileSync(file, JSON.stringify(general));
    const out = path.join(dir, 'crowded.pdf');
    const r = await runCli(['ballots', 'print', '--election', file, '--keys', keys, '--passphrase-file', passFile, '--style', 'general', '--count', '1', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/contest "[a-z0-9-]+" and those after it do not fit on a 1-sided letter sheet/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses a count of zero as a usage error', async () => {
    const r = await runCli([...base, '--style', 'ward-1', '--count', '0', '--out', path.join(dir, 'zero.pdf')]);
    expect(r.code).toBe(2);
  });
});
