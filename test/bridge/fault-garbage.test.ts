import type { DeckSheet } from '../../firmware-bridge/simulator/deck';
import { makeDeck } from './support/deck';
import { expectAllAccounted, runFault } from './support/scenario';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(2)).deck;
});

describe('garbage bytes on the line', () => {
  it.each(['mock', 'pty'] as const)('over %s: frames resynchronise, malformed ones are counted, every sheet lands in the box once', async (transport) => {
    const r = await runFault(deck, { kind: 'garbage' }, transport);
    expectAllAccounted(r);
    expect(r.counts).toEqual({ box: 3, returned: 0, flagged: 0 });
    expect(r.malformedFrames).toBeGreaterThan(0);
  });
});
