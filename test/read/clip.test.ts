import sharp from 'sharp';
import type { Target } from '../../ballots/layout';
import { layoutBallot } from '../../ballots/layout';
import { clipRect, locatePage } from '../../ballots/read/clip';
import { TestDeck } from '../../ballots/testdeck';
import { itemRect } from '../../app/station/adjudication-clips';
import { example } from '../support/ballots';
import { deckOptions } from '../support/reader';

const DPI = 150;

/** Share of a PNG's pixels darker than mid-gray. */
async function inkShare(png: Buffer): Promise<{ share: number; width: number; height: number }> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  let dark = 0;
  for (const v of data) if (v < 128) dark += 1;
  return { share: dark / data.length, width: info.width, height: info.height };
}

describe('clips of a scanned ballot for adjudication', () => {
  const layout = (() => {
    const r = layoutBallot(example('municipal').definition, 'ward-1');
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  })();
  const side = layout.sides[0]!;
  const writeIn = side.targets.find((t) => t.writeInArea !== undefined && t.contestId === 'mayor') as Target;

  it('cuts the write-in line with the handwritten name, and the oval with its name, from skewed and shifted scans', async () => {
    // every target filled and write-in names written; mild distortion: skew, shift, scale, noise, some upside down
    const filled = new TestDeck(deckOptions({ dpi: DPI, kinds: { 'all-filled': 1 }, markKinds: ['full'], seed: 'clip', distortion: 'mild' }));
    const blank = new TestDeck(deckOptions({ dpi: DPI, kinds: { blank: 1 }, markKinds: ['full'], seed: 'clip-blank', distortion: 'mild' }));
    let checked = 0;
    for (let i = 0; i < 4; i++) {
      const [sheet, empty] = [await filled.sheet(i), await blank.sheet(i)];
      if (sheet.truth.styleId !== 'ward-1' || empty.truth.styleId !== 'ward-1') continue;
      const page = await locatePage(sheet.images[0]!.bytes, layout.page);
      const emptyPage = await locatePage(empty.images[0]!.bytes, layout.page);
      if (!page.ok || !emptyPage.ok) throw new Error('the scan does not align');
      expect(page.value.side).toBe(sheet.truth.images[0]?.side);
      const rect = itemRect(side, { contest: 'mayor', option: writeIn.optionId });
      if (rect === undefined) throw new Error('no write-in rect');
      const withName = await inkShare(await clipRect(page.value, rect, 1));
      const without = await inkShare(await clipRect(emptyPage.value, rect, 1));
      // the clip is the area at the scan's resolution (upright: wider than tall, as printed)
      expect(withName.width).toBeGreaterThan(withName.height * 3);
      expect(Math.abs(withName.width - ((rect.width + 2) * DPI) / 25.4)).toBeLessThan(12);
      // the filled oval and the name add ink the blank ballot's line and label do not have
      expect(withName.share).toBeGreaterThan(without.share * 1.4);
      // the oval alone: filled on one, an outline on the other
      const oval = await inkShare(await clipRect(page.value, writeIn, 0));
      const emptyOval = await inkShare(await clipRect(emptyPage.value, writeIn, 0));
      expect(oval.share).toBeGreaterThan(0.6);
      expect(emptyOval.share).toBeLessThan(0.45);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('says why a page cannot be clipped', async () => {
    const r = await locatePage(Buffer.from('not an image'), layout.page);
    expect(r.ok).toBe(false);
  });
});
