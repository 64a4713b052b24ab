import type { DeckSheet } from '../../firmware-bridge/simulator/deck';
import { makeDeck } from './support/deck';
import { expectAllAccounted, runFault } from './support/scenario';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(2)).deck;
});

describe('slow link', () => {
  it('a throttled line (100 kB/s over the pty) still delivers every image whole and every sheet once', async () => {
    const r = await runFault(deck, { kind: 'slow-link' }, 'pty', { seed: 3, driver: { chunkTimeoutMs: 2000 } });
    expectAllAccounted(r);
    expect(r.counts.box).toBe(3);
    expect(r.scannedImages).toBe(3);
  });
});
