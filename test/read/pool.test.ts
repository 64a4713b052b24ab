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
