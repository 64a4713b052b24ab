import { crashRun } from './crash-harness';
import { tempDir } from './fixtures';

// 40 SIGKILLs here; `node scripts/run-ts.js test/bench/ledger-crash.bench.ts` runs 200 or more.
describe('power loss', () => {
  it('after each SIGKILL, verify passes, no acknowledged entry is lost or duplicated, pending ballots are reconciled', async () => {
    const report = await crashRun(tempDir('crash-'), 40, 20261103);
    expect(report.failures).toEqual([]);
    expect(report.kills).toBe(40);
    expect(report.acknowledged).toBeGreaterThan(100);
    expect(report.cast).toBeGreaterThan(0);
  }, 300_000);
});
