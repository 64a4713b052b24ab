import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/ballots';
import { runCli } from '../support/cli';

describe('tallyproof demo', () => {
  it('runs election day through the station and holds its counts against the deck, then signs, exports and audits', async () => {
    const data = path.join(tempDir('demo'), 'day');
    const r = await runCli(['demo', '--data', data, '--ballots', '8']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the deck's truth: \d+ accepted \+ \d+ of \d+ returned cast as is = (\d+) counted: the station agrees/);
    expect(r.stdout).toMatch(/open-polls: Polls are open/);
    expect(r.stdout).toMatch(/close-polls: Polls are closed: \d+ ballot\(s\) in batch 1/);
    expect(r.stdout).toContain('ok   inclusion batch 1');
    // the offline demo's batch is signed and never broadcast: the expected state, said as such, not a failure
    expect(r.stdout).toContain('"batch 1: signed, not broadcast (offline): its anchor is not on any chain yet"');
    expect(r.stdout).toMatch(/ok {3}publication batch 1: signed, not broadcast \(offline\): its anchor is not on any chain yet; checked offline: its \d+ signed records transaction\(s\)/);
    expect(r.stdout).toContain('not checked batch 1: batch 1 is on no chain as far as this bundle shows (signed; the station never looked at the anchor chain)');
    expect(r.stdout).not.toContain('FAIL');
    expect(r.stdout).toMatch(/audit: ok \(\d+ checks passed; \d+ thing\(s\) not checked, listed above\)/);
    expect(r.stdout).toContain('the bundle verifies offline');
    for (const f of ['election.json', 'keys/election-public.json', 'ballots/official-ward-1.pdf', 'ballots/official-ward-2.pdf', 'ballots/test-ward-1.pdf', 'deck/truth.json', 'election-day/publish/signed/batch-1.json', 'auditor-bundle/manifest.json']) {
      expect([f, fs.existsSync(path.join(data, f))]).toEqual([f, true]);
    }
    const tapes = fs.readdirSync(path.join(data, 'election-day', 'tapes')).sort();
    expect(tapes.map((t) => t.replace(/-\d{8}T\d{6}Z/, ''))).toEqual(['results-official.pdf', 'zero-official.pdf']);
    // a second run reuses the keys instead of making new ones, and starts election day afresh
    const again = await runCli(['demo', '--data', data, '--ballots', '2']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`reusing the keys in ${path.join(data, 'keys')}`);
  });

  it('refuses a scanner it cannot feed its deck through, and says what to run instead', async () => {
    const r = await runCli(['demo', '--data', path.join(tempDir('demo'), 'x'), '--scanner', 'sane']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tallyproof station --sane <device>');
  });
});
