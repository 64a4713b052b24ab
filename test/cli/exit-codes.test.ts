import { runCli } from '../support/cli';

describe('tallyproof exit codes', () => {
  it('prints help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: tallyproof');
  });

  it('gives --help on every subcommand', async () => {
    for (const argv of [['ledger', 'verify'], ['station'], ['interpret'], ['audit', 'verify'], ['tape', 'zero']]) {
      const r = await runCli([...argv, '--help']);
      expect({ argv, code: r.code }).toEqual({ argv, code: 0 });
      expect(r.stdout).toContain(`Usage: tallyproof ${argv.join(' ')}`);
    }
  });

  it('exits 2 on an unknown command, an unknown option and a missing required option', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['ledger', 'verify', '--data', 'x', '--bogus'])).code).toBe(2);
    const missing = await runCli(['ledger', 'verify']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--data');
  });

  it('exits 2 on a malformed number', async () => {
    const r = await runCli(['station', '--headless', '--port', 'eighty']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port must be a whole number');
  });
});
