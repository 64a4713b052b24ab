/**
 * The QR decoder in a process of its own, decoding one sheet's three codes over and over; prints the
 * resident part of its WASM memory before and after as JSON. Its own process because a test runner's
 * worker may hold other instances of the decoder's memory (one per test file that loaded it), all of the
 * same length and indistinguishable in /proc/self/smaps.
 *   node scripts/run-ts.js test/read/support/decode-loop.ts <rounds>
 */
import { PAPER, codeBoxes } from '../../../ballots/layout';
import { decodeQrIn, initQrDecoder } from '../../../ballots/read/qr-decode';
import { TestDeck, mmToPx } from '../../../ballots/testdeck';
import { deckOptions } from '../../support/reader';
import { wasmResidentMiB } from '../../support/wasm-resident';

async function main(): Promise<void> {
  const rounds = Number(process.argv[2]);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`rounds must be a positive integer, got ${process.argv[2]}`);
  const mod = (await initQrDecoder()) as { HEAPU8: Uint8Array };
  const deck = new TestDeck(deckOptions({ dpi: 200 }));
  const raster = (await deck.sheet(0)).rasters[0]!;
  const rects = codeBoxes(PAPER.letter).map((b) => ({ x: mmToPx(b.rect.x, 200) - 10, y: mmToPx(b.rect.y, 200) - 10, width: mmToPx(b.rect.width, 200) + 20, height: mmToPx(b.rect.height, 200) + 20 }));
  let found = 0;
  const decodeAll = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) for (const r of rects) found += (await decodeQrIn(raster, r, { tryHarder: i % 2 === 0 })).length;
  };
  await decodeAll(50); // the decoder's working set, touched once
  const before = wasmResidentMiB(mod.HEAPU8.length);
  found = 0;
  await decodeAll(rounds);
  const after = wasmResidentMiB(mod.HEAPU8.length);
  process.stdout.write(`${JSON.stringify({ decodes: rounds * rects.length, found, before, after })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
