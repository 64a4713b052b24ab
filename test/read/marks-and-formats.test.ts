import sharp from 'sharp';
import type { MarkKind } from '../../ballots/testdeck';
import { EXPECTED_CLASS, MARK_KINDS, TestDeck } from '../../ballots/testdeck';
import { example } from '../support/ballots';
import { deckOptions, readerFor } from '../support/reader';

describe.each([150, 200, 300])('every mark kind at %i dpi', (dpi) => {
  it.each(MARK_KINDS.map((k) => [k, EXPECTED_CLASS[k]] as [MarkKind, string]))('reads %s as %s, upright and upside down', async (kind, cls) => {
    // the erasure and dot kinds are drawn on unvoted targets; the others as the voter's choices
    const extra = kind === 'dot' || kind === 'erasure';
    const deck = new TestDeck(deckOptions({ kinds: { normal: 1 }, dpi, seed: `mk-${kind}-${dpi}`, markKinds: extra ? ['full', kind] : [kind], marginalRate: 1, erasureRate: 1, distortion: 'mild' }));
    const reader = readerFor(deck);
    for (let i = 0; i < 2; i++) {
      const sheet = await deck.sheet(i);
      const page = await reader.readFile(sheet.images[0]!.bytes);
      expect(page.status).not.toBe('rejected');
      const marked = sheet.truth.marks.filter((m) => m.kind === kind);
      expect(marked.length).toBeGreaterThan(0);
      for (const m of marked) {
        const read = page.marks.find((r) => r.contestId === m.contestId && r.optionId === m.optionId)!;
        expect({ target: `${m.contestId}/${m.optionId}`, class: read.class }).toEqual({ target: `${m.contestId}/${m.optionId}`, class: cls });
      }
      const unmarked = page.marks.filter((r) => !sheet.truth.marks.some((m) => m.contestId === r.contestId && m.optionId === r.optionId));
      expect(unmarked.every((r) => r.class === 'empty')).toBe(true);
    }
  });
});

describe('orientations, sides and file formats', () => {
  it('reads both sides of a two-sided sheet in any feeding order and orientation', async () => {
    const deck = new TestDeck(deckOptions({ election: example('general'), precinctId: 'p-0001', distortion: 'full', seed: 'sides' }));
    const reader = readerFor(deck);
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 3; i++) {
      const sheet = await deck.sheet(i);
      if (sheet.truth.expected.status === 'rejected') continue;
      for (const [k, im] of sheet.images.entries()) {
        const page = await reader.readFile(im.bytes);
        const truthImage = sheet.truth.images[k]!;
        expect(page.side).toBe(truthImage.side);
        expect(page.alignment?.upsideDown).toBe(truthImage.distortion.upsideDown);
        seen.add(`${k === 0 ? truthImage.side : ''}${truthImage.distortion.upsideDown ? ' upside-down' : ''}`);
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });

  it('reads PNG, JPEG, TIFF, binary and ASCII PNM, gray and colour, from the same scan', async () => {
    const deck = new TestDeck(deckOptions({ seed: 'formats' }));
    const sheet = await deck.sheet(0);
    const raster = sheet.rasters[0]!;
    const reader = readerFor(deck);
    const raw = () => sharp(Buffer.from(raster.data), { raw: { width: raster.width, height: raster.height, channels: 1 } });
    const pgm = Buffer.concat([Buffer.from(`P5\n# scanimage\n${raster.width} ${raster.height}\n255\n`), Buffer.from(raster.data)]);
    const rgb = Buffer.alloc(raster.width * raster.height * 3);
    raster.data.forEach((v, i) => rgb.fill(v, 3 * i, 3 * i + 3));
    const ppm = Buffer.concat([Buffer.from(`P6\n${raster.width} ${raster.height}\n255\n`), rgb]);
    const files: Record<string, Buffer> = {
      png: await raw().png().toBuffer(),
      jpeg: await raw().jpeg({ quality: 40 }).toBuffer(),
      tiff: await raw().tiff({ compression: 'lzw' }).toBuffer(),
      colourPng: await sharp(rgb, { raw: { width: raster.width, height: raster.height, channels: 3 } }).png().toBuffer(),
      pgm,
      ppm,
    };
    const first = await reader.readFile(files.png!);
    expect(first.status).toBe(sheet.truth.expected.status);
    for (const [name, bytes] of Object.entries(files)) {
      const page = await reader.readFile(bytes);
      expect({ name, status: page.status, contests: page.contests }).toEqual({ name, status: first.status, contests: first.contests });
    }
  });
});
