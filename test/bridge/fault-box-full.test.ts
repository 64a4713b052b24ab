import type { DeckSheet } from '../../firmware-bridge/simulator/deck';
import { runSession } from '../../firmware-bridge/simulator/harness';
import { makeDeck } from './support/deck';
import { expectAllAccounted, outcomeOf, runFault } from './support/scenario';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(2)).deck;
});

describe('ballot box full', () => {
  it('a held sheet cannot be accepted into a full box: the station returns it to the voter', async () => {
    const r = await runFault(deck, { kind: 'box-full' }, 'mock', { pollWorker: { emptyBox: false } });
    expect(outcomeOf(r)).toEqual({ kind: 'returned', reason: 'station' });
    expect(r.events['ballot-box-full']).toBe(1);
    // With nobody emptying the box, the sheet after it is returned too: nothing is dropped into a full box.
    expect(r.outcomes['SIM0001-000003']).toEqual({ kind: 'returned', reason: 'station' });
    expectAllAccounted(r);
  });

  it('the box-full sensor trips at capacity; after the poll worker empties it, accepting resumes (the station waits)', async () => {
    const r = await runSession({ deck, count: 6, transport: 'mock', boxCapacity: 2, onBoxFull: 'wait', pollWorker: { delayMs: 50 }, timeoutMs: 20_000 });
    expect(r.problems).toEqual([]);
    expect(r.sheetIds).toBe(6);
    expect(r.events['ballot-box-full']).toBeGreaterThanOrEqual(1);
    expect(r.events['ballot-box-emptied']).toBeGreaterThanOrEqual(1);
    expect(r.counts).toEqual({ box: 6, returned: 0, flagged: 0 });
  });
});
