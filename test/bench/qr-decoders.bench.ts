import fs from 'node:fs';
import path from 'node:path';
import jsQR from 'jsqr';
import { loadElection } from '../../ballots/election';
import { deterministicRng, generateElectionKeys } from '../../ballots/identity';
import { PAPER, codeBoxes } from '../../ballots/layout';
import { decodeQrIn, initQrDecoder } from '../../ballots/read/qr-decode';
import type { GrayImage } from '../../ballots/testdeck';
import { DEFAULT_KIND_WEIGHTS, MARK_KINDS, TestDeck } from '../../ballots/testdeck';
import { placePoint } from '../../ballots/testdeck/distort';
import { argValue, machine } from './support/machine';

/*
 * jsqr against ZXing-C++ (zxing-wasm) on the same crops: the three QR boxes of scanned test-deck pages
 * with every distortion, cropped where the truth's distortion puts them (4 mm margin), at 150/200/300 dpi.
 * Reports decode rate and time per crop for each, in the same run.
 * Usage: node scripts/run-ts.js test/bench/qr-decoders.bench.ts [--sheets N]
 */
const sheets = Number(argValue('--sheets') ?? 60);

async function main(): Promise<void> {
  await initQrDecoder();
  const loaded = loadElection(path.join(__dirname, '..', '..', 'ballots', 'examples', 'municipal.json'));
  if (!loaded.ok) throw new Error('example invalid');
  const keys = generateElectionKeys('florincoin-regtest', deterministicRng('qr-bench'));
  const crops: { img: GrayImage; rect: { x: number; y: number; width: number; height: number } }[] = [];
  for (const dpi of [150, 200, 300]) {
    const deck = new TestDeck({
      election: loaded.value, publicKeys: keys.public, privateKeys: keys.private, seed: `qr/${dpi}`, dpi, mode: 'official', precinctId: 'p-101',
      kinds: { ...DEFAULT_KIND_WEIGHTS, 'mis-scaled': 0 }, markKinds: MARK_KINDS, distortion: 'full', streakRate: 0, strayMarks: true, marginalRate: 0, erasureRate: 0, format: 'png', encode: false,
    });
    for (let i = 0; i < Math.ceil(sheets / 3); i++) {
      const s = await deck.sheet(i);
      const d = s.truth.images[0]!.distortion;
      for (const { rect } of codeBoxes(PAPER.letter)) {
        const pts = [[rect.x - 4, rect.y - 4], [rect.x + rect.width + 4, rect.y + rect.height + 4], [rect.x - 4, rect.y + rect.height + 4], [rect.x + rect.width + 4, rect.y - 4]].map(([x, y]) => placePoint(d, PAPER.letter, x!, y!));
        const px = (mm: number) => (mm * dpi) / 25.4;
        const xs = pts.map((p) => px(p.x));
        const ys = pts.map((p) => px(p.y));
        crops.push({ img: s.rasters[0]!, rect: { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) } });
      }
    }
  }
  const zx = await timeDecoder(crops, async (c) => (await decodeQrIn(c.img, c.rect, { tryHarder: false }))[0]?.text);
  const js = await timeDecoder(crops, async (c) => jsqrDecode(c.img, c.rect));
  fs.writeSync(1, `${JSON.stringify({ bench: 'qr-decoders', crops: crops.length, zxingWasm: zx, jsqr: js, machine: machine() }, null, 2)}\n`);
}

async function timeDecoder(crops: readonly { img: GrayImage; rect: { x: number; y: number; width: number; height: number } }[], decode: (c: (typeof crops)[number]) => Promise<string | undefined>): Promise<{ decoded: number; rate: number; msPerCrop: number }> {
  let decoded = 0;
  const t0 = process.hrtime.bigint();
  for (const c of crops) if (await decode(c)) decoded++;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { decoded, rate: Math.round((decoded / crops.length) * 1000) / 1000, msPerCrop: Math.round((ms / crops.length) * 100) / 100 };
}

function jsqrDecode(img: GrayImage, r: { x: number; y: number; width: number; height: number }): string | undefined {
  const x0 = Math.max(0, Math.floor(r.x));
  const y0 = Math.max(0, Math.floor(r.y));
  const w = Math.min(img.width - x0, Math.ceil(r.width));
  const h = Math.min(img.height - y0, Math.ceil(r.height));
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = img.data[(y0 + y) * img.width + x0 + x]!;
      const o = (y * w + x) * 4;
      rgba[o] = v;
      rgba[o + 1] = v;
      rgba[o + 2] = v;
      rgba[o + 3] = 255;
    }
  }
  return jsQR(rgba, w, h, { inversionAttempts: 'dontInvert' })?.data;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
