import { randomFaults } from '../../firmware-bridge/simulator/faults';
import { runSession } from '../../firmware-bridge/simulator/harness';
import { makeDeck } from './support/deck';

// The 10,000-sheet version is firmware-bridge/simulator/soak.ts; this one fits the test budget.
describe('soak over the pty', () => {
  it('300 sheets with random faults at 1%: every sheet accounted for exactly once', async () => {
    const { deck } = await makeDeck(3, { backs: true });
    // seed 5 puts power cuts, pulled cables, garbage, a cover opening and a slow link into the first 300 sheets
    const r = await runSession({ deck, count: 300, transport: 'pty', faults: randomFaults(5, 0.01), seed: 5, decide: (_id, n) => (n % 10 === 7 ? 'return' : 'accept'), timeoutMs: 90_000 });
    expect(r.problems).toEqual([]);
    expect(r.timedOut).toBe(false);
    expect(Object.keys(r.outcomes)).toHaveLength(r.sheetIds);
    expect(r.counts.box + r.counts.returned + r.counts.flagged).toBe(r.sheetIds);
    expect(r.physicalSheets).toBe(300);
    expect(r.counts.returned).toBeGreaterThanOrEqual(25);
  });
});
