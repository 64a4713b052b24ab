import { PAPER, codeBoxes } from '../../ballots/layout';
import { decodeQrIn, initQrDecoder } from '../../ballots/read/qr-decode';
import { TestDeck, mmToPx } from '../../ballots/testdeck';
import { deckOptions } from '../support/reader';
import { wasmResidentMiB } from '../support/wasm-resident';

// A station decodes three codes per side all day: whatever a decode leaves behind in the decoder's WASM
// memory adds up (zxing-wasm 3.1.4 kept each call's result vector: +1.1 MB per 3,000 decodes). The memory's
// length cannot show it (it only grows once full); its resident pages do.
describe('the QR decoder', () => {
  it('keeps nothing from one decode to the next: its WASM memory stays as resident as it was', async () => {
    const mod = (await initQrDecoder()) as { HEAPU8: Uint8Array };
    const deck = new TestDeck(deckOptions({ dpi: 200 }));
    const raster = (await deck.sheet(0)).rasters[0]!;
    const rects = codeBoxes(PAPER.letter).map((b) => ({ x: mmToPx(b.rect.x, 200) - 10, y: mmToPx(b.rect.y, 200) - 10, width: mmToPx(b.rect.width, 200) + 20, height: mmToPx(b.rect.height, 200) + 20 }));
    const decodeAll = async (rounds: number): Promise<void> => {
      for (let i = 0; i < rounds; i++) for (const r of rects) expect(await decodeQrIn(raster, r, { tryHarder: i % 2 === 0 })).toHaveLength(1);
    };
    await decodeAll(50); // the decoder's working set, touched once
    const before = wasmResidentMiB(mod.HEAPU8.length);
    expect(before).toHaveLength(1);
    await decodeAll(1000);
    const after = wasmResidentMiB(mod.HEAPU8.length);
    // 3,000 decodes at the old leak's ~370 bytes each would be ~1.1 MB; allow a few pages of allocator slack
    expect((after?.[0] ?? 0) - (before?.[0] ?? 0)).toBeLessThan(0.15);
  });
});
