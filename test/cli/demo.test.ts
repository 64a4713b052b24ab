import fs from 'node:fs';
import path from 'node:path';
import type { DemoPile } from '../../app/cli/commands/demo-deck';
import { tempDir } from '../support/ballots';
import { runCli } from '../support/cli';

describe('tallyproof demo', () => {
  it('runs election day on a deck with every kind of sheet, the voter and poll worker acting on the station, then signs, exports and audits; the summary says what happened', async () => {
    const data = path.join(tempDir('demo'), 'day');
    const r = await runCli(['demo', '--data', data, '--seed', 'ci-1']);
    expect([r.code, r.stderr.split('\n').filter((l) => l.startsWith('tallyproof:'))]).toEqual([0, []]);
    expect(r.stdout).toMatch(/open-polls: Polls are open/);
    // the zero tape is printed before the polls open
    expect(r.stdout.indexOf('print-zero-tape: The zero tape is printed')).toBeLessThan(r.stdout.indexOf('open-polls: Polls are open'));
    expect(r.stdout).toMatch(/close-polls: Polls are closed: \d+ ballot\(s\) in batch 1/);
    expect(r.stdout).toContain('ok   inclusion batch 1');
    // the offline demo's batch is signed and never broadcast: the expected state, said as such, not a failure
    expect(r.stdout).toContain('"batch 1: signed, not broadcast (offline): its anchor is not on any chain yet"');
    expect(r.stdout).not.toContain('FAIL');
    expect(r.stdout).toMatch(/audit: ok \(\d+ checks passed; \d+ thing\(s\) not checked, listed above\)/);
    expect(r.stdout).toContain('the bundle verifies offline');

    // the captain's summary: the default pile of 17 feeds is 16 scanner sheets (one double feed): 5 rejected,
    // 4 returned (overvote, blank, double feed, jam), 7 counted (one an overvote cast as is)
    const brief = r.stdout.slice(r.stdout.indexOf('== the day in brief (seed ci-1)'));
    expect(brief).toContain('  counted          7 ballot(s), 1 of them cast as is by a voter shown the problem');
    expect(brief).toMatch(/ {2}returned {9}4 to the voter: (?=.*1 overvote)(?=.*1 blank ballot)(?=.*1 two sheets at once)(?=.*1 scanner jammed)/);
    expect(brief).toMatch(/ {2}rejected {9}5: (?=.*1 wrong election)(?=.*1 wrong precinct)(?=.*1 counterfeit)(?=.*1 copy of a counted ballot)(?=.*1 scanner streaks)/);
    expect(brief).toMatch(/ {2}alarms cleared {3}4: (?=.*double feed \(both sheets back to the voter\))(?=.*scanner streaks \(sensor wiped\))(?=.*jam \(paper path opened, sheet taken out\))(?=.*the jammed ballot's instruction)/);
    expect(brief).toContain('  tapes printed    zero tape, results tape');
    expect(brief).toContain('  publication      batch signed offline, not broadcast');
    expect(brief).toContain("  audit            the auditor's bundle verifies");
    expect(brief).toContain('  result           every one of the 16 sheets the scanner took ended as the deck says');

    for (const f of ['election.json', 'keys/election-public.json', 'ballots/official-ward-1.pdf', 'ballots/official-ward-2.pdf', 'ballots/test-ward-1.pdf', 'deck/truth.json', 'deck/pile.json', 'deck/pile/0017.png', 'election-day/publish/signed/batch-1.json', 'auditor-bundle/manifest.json']) {
      expect([f, fs.existsSync(path.join(data, f))]).toEqual([f, true]);
    }
    const tapes = fs.readdirSync(path.join(data, 'election-day', 'tapes')).sort();
    expect(tapes.map((t) => t.replace(/-\d{8}T\d{6}Z/, ''))).toEqual(['results-official.pdf', 'zero-official.pdf']);

    // set up again for npm start's station in the same folder: the keys are reused, the deck has no jam
    const again = await runCli(['demo', '--data', data, '--setup-only', '--seed', 'ci-2']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`reusing the keys in ${path.join(data, 'keys')}`);
    expect(again.stdout).not.toContain('election day');
    const pile = JSON.parse(fs.readFileSync(path.join(data, 'deck', 'pile.json'), 'utf8')) as DemoPile;
    expect(pile.feeds.map((f) => f.fault).filter((f) => f !== undefined)).toEqual(['double-sheet']);
  }, 600_000);

  it('refuses a deck too small to hold every kind of sheet, and a scanner it cannot feed its deck through, before making anything', async () => {
    const dir = path.join(tempDir('demo'), 'x');
    const small = await runCli(['demo', '--data', dir, '--ballots', '16']);
    expect(small.code).toBe(2);
    expect(small.stderr).toContain("--ballots: the demo's deck needs at least 17 sheets to hold every kind of sheet once, got 16");
    const r = await runCli(['demo', '--data', dir, '--scanner', 'sane']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tallyproof station --sane <device>');
    expect(fs.existsSync(dir)).toBe(false);
  });
});
