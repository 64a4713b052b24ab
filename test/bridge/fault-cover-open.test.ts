import { systemClock } from '../../firmware-bridge/clock';
import { SerialScannerDriver } from '../../firmware-bridge/serial/serial-driver';
import { deckSource, type DeckSheet } from '../../firmware-bridge/simulator/deck';
import { FirmwareSimulator } from '../../firmware-bridge/simulator/firmware-simulator';
import { mockLink } from '../../firmware-bridge/simulator/mock-port';
import { makeDeck } from './support/deck';
import { expectAllAccounted, outcomeOf, runFault } from './support/scenario';

let deck: DeckSheet[];
beforeAll(async () => {
  deck = (await makeDeck(2)).deck;
});

describe('cover open', () => {
  it.each(['feeding', 'scanning', 'accepting', 'returning'] as const)('while %s: the moving sheet stops and is flagged', async (stage) => {
    const r = await runFault(deck, { kind: 'cover-open', stage }, 'mock');
    expectAllAccounted(r);
    expect(outcomeOf(r)).toEqual({ kind: 'flagged', reason: 'cover-open', stage });
    expect(r.events['cover-open']).toBe(1);
    expect(r.events['cover-closed']).toBe(1);
  });

  it('while idle: the next sheet waits at the entry and is scanned once the cover is closed', async () => {
    const r = await runFault(deck, { kind: 'cover-open', stage: 'idle' }, 'mock');
    expectAllAccounted(r);
    expect(r.counts).toEqual({ box: 3, returned: 0, flagged: 0 });
    expect(r.events['cover-open']).toBe(1);
  });

  it('while held: the sheet stays held, accept is refused until the cover is closed, then it goes in the box', async () => {
    const r = await runFault(deck, { kind: 'cover-open', stage: 'held' }, 'mock', { pollWorker: { delayMs: 100 } });
    expectAllAccounted(r);
    expect(outcomeOf(r)).toEqual({ kind: 'box' });
    expect(r.events['cover-open']).toBe(1);
    expect(r.events['cover-closed']).toBe(1);
  });

  it('the driver reports the refusal as a typed error', async () => {
    const sim = new FirmwareSimulator({ source: deckSource(deck, 1), clock: systemClock, autoFeed: true, faults: (i) => (i === 0 ? { kind: 'cover-open', stage: 'held' } : undefined) });
    const link = mockLink(sim);
    const driver = new SerialScannerDriver({ path: link.path, opener: link.opener });
    const scanned = new Promise<string>((res) => driver.on((e) => e.type === 'sheet-scanned' && res(e.sheetId)));
    expect((await driver.connect()).ok).toBe(true);
    await driver.enableFeeding();
    const id = await scanned;
    await expect(driver.accept(id)).resolves.toEqual({ ok: false, error: { kind: 'refused', command: 'accept', reason: 'cover-open' } });
    const status = await driver.status();
    expect(status.ok && status.value).toMatchObject({ coverOpen: true, path: 'held', openSheets: [{ sheetId: id, stage: 'held' }] });
    sim.closeCover();
    await expect(driver.accept(id)).resolves.toEqual({ ok: true, value: undefined });
    await driver.close();
    sim.shutdown();
  });
});
