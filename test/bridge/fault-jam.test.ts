import { JAM_STAGES } from '../../firmware-bridge/simulator/faults';
import { makeDeck } from './support/deck';
import { expectAllAccounted, outcomeOf, runFault } from './support/scenario';
import type { DeckSheet } from '../../firmware-bridge/simulator/deck';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(2)).deck;
});

describe('jam', () => {
  it.each(JAM_STAGES)('while %s: the sheet is flagged for the poll worker, the others go on', async (stage) => {
    const r = await runFault(deck, { kind: 'jam', stage }, 'mock');
    expectAllAccounted(r);
    expect(outcomeOf(r)).toEqual({ kind: 'flagged', reason: 'jam', stage });
    expect(r.events.jam).toBe(1);
    expect(r.events['jam-cleared']).toBe(1);
    expect(r.counts).toEqual({ box: 2, returned: 0, flagged: 1 });
  });

  it('left uncleared: no further sheet is taken and the jammed one stays reported once', async () => {
    const r = await runFault(deck, { kind: 'jam', stage: 'scanning' }, 'mock', { pollWorker: { clearJams: false }, timeoutMs: 1500 });
    expect(r.timedOut).toBe(true);
    expect(Object.keys(r.outcomes).sort()).toEqual(['SIM0001-000001', 'SIM0001-000002']);
    expect(outcomeOf(r)).toEqual({ kind: 'flagged', reason: 'jam', stage: 'scanning' });
  });
});
