import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/ballots';
import { runCli } from '../support/cli';

describe('tallyproof demo', () => {
  it('prints ballots, makes a deck, reads it back in agreement with its truth, and says where everything is', async () => {
    const data = path.join(tempDir('demo'), 'day');
    const r = await runCli(['demo', '--data', data, '--ballots', '6']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/read 6 sheets: .*; the outcome agrees with the deck's truth on 6 of 6/);
    for (const f of ['election.json', 'keys/election-public.json', 'ballots/official-ward-1.pdf', 'ballots/official-ward-2.pdf', 'ballots/test-ward-1.pdf', 'deck/truth.json']) {
      expect(fs.existsSync(path.join(data, f))).toBe(true);
    }
    // a second run reuses the keys instead of making new ones
    const again = await runCli(['demo', '--data', data, '--ballots', '2']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`reusing the keys in ${path.join(data, 'keys')}`);
  });
});
