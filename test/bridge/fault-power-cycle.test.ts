import type { ScannerEvent } from '../../firmware-bridge/driver';
import type { SheetOutcome } from '../../firmware-bridge/lifecycle';
import type { DeckSheet } from '../../firmware-bridge/simulator/deck';
import type { LinkBreakPoint } from '../../firmware-bridge/simulator/faults';
import { makeDeck } from './support/deck';
import { expectAllAccounted, outcomeOf, runFault } from './support/scenario';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(2)).deck;
});

const expected: Record<LinkBreakPoint, SheetOutcome> = {
  // caught mid-motion: the firmware cannot know how far the paper went
  feeding: { kind: 'flagged', reason: 'power-loss', stage: 'feeding' },
  scanning: { kind: 'flagged', reason: 'power-loss', stage: 'scanning' },
  accepting: { kind: 'flagged', reason: 'power-loss', stage: 'accepting' },
  returning: { kind: 'flagged', reason: 'power-loss', stage: 'returning' },
  // still at the hold position, but its images were in RAM: back to the voter to feed again
  image: { kind: 'returned', reason: 'scan-lost' },
  held: { kind: 'returned', reason: 'scan-lost' },
};

describe('power cycle of the scanner controller', () => {
  it.each(Object.keys(expected) as LinkBreakPoint[])('at %s: the sheet ends in a defined state, never in the box unasked', async (at) => {
    const reconnected: boolean[] = [];
    const r = await runFault(deck, { kind: 'power-cycle', at }, 'pty', {
      onEvent: (e: ScannerEvent) => {
        if (e.type === 'reconnected') reconnected.push(e.powerCycled);
      },
    });
    expectAllAccounted(r);
    expect(outcomeOf(r)).toEqual(expected[at]);
    expect(reconnected[0]).toBe(true);
    // sheet numbers continue from non-volatile memory after the reboot
    expect(Object.keys(r.outcomes).sort()).toEqual(['SIM0001-000001', 'SIM0001-000002', 'SIM0001-000003']);
  });
});
