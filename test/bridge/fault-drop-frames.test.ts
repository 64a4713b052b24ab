import type { DeckSheet } from '../../firmware-bridge/simulator/deck';
import { makeDeck } from './support/deck';
import { expectAllAccounted, runFault } from './support/scenario';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(2)).deck;
});

describe('dropped frames', () => {
  it('lost events are retransmitted and lost chunks asked for again; the image arrives whole', async () => {
    const r = await runFault(deck, { kind: 'drop-frames' }, 'mock', { count: 4 });
    expectAllAccounted(r, 4);
    expect(r.counts.box).toBe(4);
    // each chunk counted once, however often it was asked for
    const total = deck.reduce((n, s) => n + s.front.bytes.length, 0);
    expect(r.imageBytes).toBe(total * 2);
  });
});
