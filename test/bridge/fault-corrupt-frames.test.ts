import type { DeckSheet } from '../../firmware-bridge/simulator/deck';
import { makeDeck } from './support/deck';
import { expectAllAccounted, runFault } from './support/scenario';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(2)).deck;
});

describe('corrupted frames', () => {
  it('are caught by the CRC, counted, and repaired by retransmission or re-request', async () => {
    const r = await runFault(deck, { kind: 'corrupt-frames' }, 'mock', { count: 4 });
    expectAllAccounted(r, 4);
    expect(r.counts.box).toBe(4);
    expect(r.malformedFrames).toBeGreaterThan(0);
  });
});
