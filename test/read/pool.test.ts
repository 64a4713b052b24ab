import { DEFAULT_PROFILE } from '../../calibration/profile';
import { ReaderPool } from '../../ballots/read/pool';
import { TestDeck } from '../../ballots/testdeck';
import { deckOptions, readerFor } from '../support/reader';

describe('the reader pool', () => {
  it('reads pages on worker threads exactly as the reader does in-process', async () => {
    const deck = new TestDeck(deckOptions({ distortion: 'full', seed: 'pool' }));
    const images = [];
    for (let i = 0; i < 6; i++) images.push(...(await deck.sheet(i)).images.map((im) => im.bytes));
    const o = deck.options;
    const pool = new ReaderPool({ election: o.election, publicKeys: o.publicKeys, profile: DEFAULT_PROFILE, station: { mode: o.mode, precinctId: o.precinctId! } }, 2);
    try {
      const pooled = await Promise.all(images.map((b) => pool.read(b)));
      const direct = readerFor(deck);
      for (const [i, b] of images.entries()) {
        const d = await direct.readFile(b);
        expect({ status: pooled[i]!.status, reasons: pooled[i]!.reasons, marks: pooled[i]!.marks }).toEqual({ status: d.status, reasons: d.reasons, marks: d.marks });
      }
    } finally {
      await pool.close();
    }
  });
});

describe('a reader worker that stops', () => {
  it('fails only the page it held, with the reason, and is replaced: the next pages read as before', async () => {
    const deck = new TestDeck(deckOptions({ seed: 'pool-crash' }));
    const images = [];
    for (let i = 0; i < 3; i++) images.push(...(await deck.sheet(i)).images.map((im) => im.bytes));
    const o = deck.options;
    const pool = new ReaderPool({ election: o.election, publicKeys: o.publicKeys, profile: DEFAULT_PROFILE, station: { mode: o.mode, precinctId: o.precinctId! } }, 1);
    try {
      const held = pool.read(images[0]!);
      await pool.threads[0]!.terminate(); // the thread dies with the page in hand (as a crash or out-of-memory would)
      await expect(held).rejects.toThrow(/reader worker 1 stopped \(it exited, exit code \d+\): the page was not read; feed it again/);
      expect(pool.restarts).toBe(1);
      const direct = readerFor(deck);
      for (const b of images) {
        const [p, d] = await Promise.all([pool.read(b), direct.readFile(b)]);
        expect({ status: p.status, marks: p.marks }).toEqual({ status: d.status, marks: d.marks });
      }
    } finally {
      await pool.close();
    }
    await expect(pool.read(images[0]!)).rejects.toThrow(/reader pool closed/);
  });
});
