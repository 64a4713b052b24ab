import type { ScannerEvent } from '../../firmware-bridge/driver';
import type { DeckSheet } from '../../firmware-bridge/simulator/deck';
import { LINK_BREAK_POINTS } from '../../firmware-bridge/simulator/faults';
import { makeDeck } from './support/deck';
import { expectAllAccounted, FAULTED, outcomeOf, runFault } from './support/scenario';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(2, { backs: true })).deck;
});

describe('cable pulled (socat stopped and restarted)', () => {
  it.each(LINK_BREAK_POINTS)('at %s: the driver reconnects, recovers the sheet by its ID from the device, and reports it once', async (at) => {
    const seen: ScannerEvent['type'][] = [];
    const r = await runFault(deck, { kind: 'disconnect', at }, 'pty', {
      onEvent: (e) => {
        if ('sheetId' in e && e.sheetId === FAULTED) seen.push(e.type);
        if (e.type === 'disconnected' || e.type === 'reconnected') seen.push(e.type);
      },
    });
    expectAllAccounted(r);
    // at least the one we caused (a starved event loop on a busy machine may add a heartbeat timeout)
    expect(r.reconnects).toBeGreaterThanOrEqual(1);
    expect(seen).toContain('disconnected');
    expect(seen.indexOf('reconnected')).toBeGreaterThan(seen.indexOf('disconnected'));
    expect(seen.filter((t) => t === 'sheet-done')).toHaveLength(1);
    expect(seen.filter((t) => t === 'sheet-scanned')).toHaveLength(1);
    expect(outcomeOf(r)).toEqual(at === 'returning' ? { kind: 'returned', reason: 'station' } : { kind: 'box' });
  });

  it('mid-image: the transfer resumes, each byte fetched once', async () => {
    const r = await runFault(deck, { kind: 'disconnect', at: 'image' }, 'pty');
    expectAllAccounted(r);
    const perSheet = deck.map((s) => s.front.bytes.length + (s.back?.bytes.length ?? 0));
    const total = (perSheet[0] ?? 0) + (perSheet[1] ?? 0) + (perSheet[0] ?? 0);
    expect(r.imageBytes).toBe(total);
  });
});
