import type { DeckSheet } from '../../firmware-bridge/simulator/deck';
import { makeDeck } from './support/deck';
import { expectAllAccounted, outcomeOf, runFault } from './support/scenario';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(2)).deck;
});

describe('double sheet', () => {
  it('both sheets go back to the voter under one sheet ID, never into the box', async () => {
    const r = await runFault(deck, { kind: 'double-sheet' }, 'mock', { count: 4 });
    // 4 pieces of paper, but the two fed together count as one sheet
    expect(r.physicalSheets).toBe(4);
    expectAllAccounted(r, 3);
    expect(outcomeOf(r)).toEqual({ kind: 'returned', reason: 'double-sheet' });
    expect(r.events['double-sheet']).toBe(1);
    expect(r.counts).toEqual({ box: 2, returned: 1, flagged: 0 });
    expect(r.events['sheet-scanned']).toBe(2);
  });
});
