import { PAPER, codeBoxes, registrationMarks } from '../../ballots/layout';
import { combineSheet } from '../../ballots/read/sheet';
import { REASON_TEXT, REJECT_REASONS, RETURN_REASONS } from '../../ballots/read/reasons';
import type { GrayImage, SheetKind } from '../../ballots/testdeck';
import { TestDeck, blankScan, encodeImage, mmToPx } from '../../ballots/testdeck';
import { deckOptions, readerFor } from '../support/reader';

/** One sheet of `kind`, read as a station would: its images, then the sheet. */
async function readKind(kind: SheetKind, over: Parameters<typeof deckOptions>[0] = {}) {
  const deck = new TestDeck(deckOptions({ kinds: { [kind]: 1 }, ...over }));
  const sheet = await deck.sheet(0);
  const reader = readerFor(deck);
  const pages = await Promise.all(sheet.images.map((im) => reader.readFile(im.bytes)));
  return { sheet, pages, combined: combineSheet(pages) };
}

async function readRaster(raster: GrayImage, kind: SheetKind = 'normal') {
  const deck = new TestDeck(deckOptions({ kinds: { [kind]: 1 } }));
  return readerFor(deck).readFile(await encodeImage(raster, 'png'));
}

describe('every reason a page is rejected or returned', () => {
  it.each([
    ['wrong-election', 'wrong-election'],
    ['wrong-precinct', 'wrong-precinct'],
    ['counterfeit', 'counterfeit'],
    ['test-mode', 'test-ballot-in-official-mode'],
  ] as const)('a %s sheet is rejected as %s', async (kind, reason) => {
    const { combined, sheet } = await readKind(kind);
    expect(sheet.truth.kind).toBe(kind);
    expect(combined).toMatchObject({ status: 'rejected', reasons: [reason] });
  });

  it('an official ballot fed to a station in test mode is rejected', async () => {
    const { combined } = await readKind('test-mode', { mode: 'test' });
    expect(combined).toMatchObject({ status: 'rejected', reasons: ['official-ballot-in-test-mode'] });
  });

  it('a mis-scaled print is rejected, not guessed at', async () => {
    for (const seed of ['ms-1', 'ms-2', 'ms-3']) {
      const { combined, sheet } = await readKind('mis-scaled', { seed });
      expect(combined.status).toBe('rejected');
      expect(sheet.truth.expected.reasons).toContain(combined.reasons[0]);
    }
  });

  it('an overvote and a blank ballot are returned with their reasons; a good ballot is accepted', async () => {
    expect((await readKind('overvote')).combined).toMatchObject({ status: 'returned', reasons: ['overvote'] });
    expect((await readKind('blank')).combined).toMatchObject({ status: 'returned', reasons: ['blank-ballot'] });
    const good = await readKind('normal');
    expect(good.combined.status).toBe('accepted');
    expect(good.combined.ballotId).toBe(good.sheet.truth.serial);
  });

  it('a marginal mark is returned for review, never silently counted or dropped', async () => {
    const { combined, pages } = await readKind('normal', { markKinds: ['full', 'dot'], marginalRate: 1 });
    expect(combined).toMatchObject({ status: 'returned', reasons: ['marginal-marks'] });
    expect(pages[0]!.marks.filter((m) => m.class === 'marginal')).toHaveLength(1);
  });

  it('undervotes are returned only when the election asks for it', async () => {
    const deck = new TestDeck(deckOptions({ kinds: { undervote: 1 }, seed: 'uv' }));
    const sheet = await deck.sheet(0);
    const plain = await readerFor(deck).readFile(sheet.images[0]!.bytes);
    const strict = await readerFor(deck, { returnUndervotes: true }).readFile(sheet.images[0]!.bytes);
    expect(plain.reasons).not.toContain('undervote');
    expect(strict.reasons).toContain('undervote');
  });

  it('vertical scanner streaks reject the sheet', async () => {
    const { combined } = await readKind('normal', { streakRate: 1, seed: 'streaky' });
    expect(combined).toMatchObject({ status: 'rejected', reasons: ['scanner-streaks'] });
  });

  it('a streak through a registration mark is reported as a streak, not as an unalignable page', async () => {
    const deck = new TestDeck(deckOptions());
    const raster = (await deck.sheet(0)).rasters[0]!;
    const streaked = { ...raster, data: raster.data.slice() };
    const mark = registrationMarks(PAPER.letter).find((m) => m.kind === 'orientation')!;
    const x = Math.round(mmToPx(mark.x + mark.width / 2, 150));
    for (let y = 0; y < streaked.height; y++) for (let dx = 0; dx < 2; dx++) streaked.data[y * streaked.width + x + dx] = 30;
    expect(await readRaster(streaked)).toMatchObject({ status: 'rejected', reasons: ['scanner-streaks'] });
  });

  it('a page with a corner mark torn off cannot be aligned', async () => {
    const deck = new TestDeck(deckOptions());
    const raster = (await deck.sheet(0)).rasters[0]!;
    const torn = { ...raster, data: raster.data.slice() };
    const corner = registrationMarks(PAPER.letter).find((m) => m.kind === 'corner')!;
    whiteOut(torn, { x: corner.x - 3, y: corner.y - 3, width: corner.width + 6, height: corner.height + 6 }, 150);
    expect(await readRaster(torn)).toMatchObject({ status: 'rejected', reasons: ['unalignable'] });
  });

  it('a page whose ballot-ID code is damaged beyond repair is rejected as unreadable codes', async () => {
    const deck = new TestDeck(deckOptions());
    const raster = (await deck.sheet(0)).rasters[0]!;
    const damaged = { ...raster, data: raster.data.slice() };
    const box = codeBoxes(PAPER.letter).find((b) => b.kind === 'ballotId')!.rect;
    whiteOut(damaged, { x: box.x, y: box.y + box.height * 0.3, width: box.width, height: box.height * 0.4 }, 150);
    expect(await readRaster(damaged)).toMatchObject({ status: 'rejected', reasons: ['unreadable-codes'], detail: expect.stringContaining('ballotId') });
  });

  it('has a sentence for the voter and one for the poll worker for every reason', () => {
    for (const r of [...REJECT_REASONS, ...RETURN_REASONS]) {
      expect(REASON_TEXT[r].voter.length).toBeGreaterThan(10);
      expect(REASON_TEXT[r].pollWorker.length).toBeGreaterThan(10);
    }
  });
});

describe('sheet-level reading', () => {
  it('refuses two sides of different ballots fed as one sheet', async () => {
    const deck = new TestDeck(deckOptions({ election: (await import('../support/ballots')).example('general'), precinctId: 'p-0001' }));
    const reader = readerFor(deck);
    const a = await deck.sheet(0);
    const b = await deck.sheet(1);
    const pages = [await reader.readFile(a.images[0]!.bytes), await reader.readFile(b.images[1]!.bytes)];
    if (pages.every((p) => p.status !== 'rejected')) expect(combineSheet(pages)).toMatchObject({ status: 'rejected', reasons: ['codes-disagree'] });
    else expect(combineSheet(pages).status).toBe('rejected');
  });
});

describe('a sheet scanned on both sides, and a side left blank', () => {
  async function sidesOf(election: 'municipal' | 'general') {
    const deck = new TestDeck(deckOptions(election === 'general' ? { election: (await import('../support/ballots')).example('general'), precinctId: 'p-0001' } : {}));
    const reader = readerFor(deck);
    const sheet = await deck.sheet(0);
    const pages = await Promise.all(sheet.images.map((im) => reader.readFile(im.bytes)));
    const blank = await reader.readFile(await encodeImage(blankScan(sheet.rasters[0]!.width, sheet.rasters[0]!.height), 'png'));
    return { sheet, pages, blank };
  }

  it('reads a blank scan as a blank page, not as another document', async () => {
    const { blank } = await sidesOf('municipal');
    expect(blank).toMatchObject({ status: 'rejected', reasons: ['blank-page'] });
  });

  it('counts a one-sided ballot whose blank back came through a duplex scanner, fed face up or face down', async () => {
    const { sheet, pages, blank } = await sidesOf('municipal');
    expect(pages).toHaveLength(1);
    const alone = combineSheet(pages);
    expect(alone.status).toBe(sheet.truth.expected.status);
    expect(combineSheet([pages[0]!, blank])).toEqual(alone);
    expect(combineSheet([blank, pages[0]!])).toEqual(alone);
  });

  it('calls a sheet blank on both sides a blank page, not a blank ballot', async () => {
    const { blank } = await sidesOf('municipal');
    expect(combineSheet([blank, blank])).toEqual({ status: 'rejected', reasons: ['blank-page'], contests: {}, marks: [] });
    expect(combineSheet([blank])).toEqual({ status: 'rejected', reasons: ['blank-page'], contests: {}, marks: [] });
  });

  it('does not count one side of a two-sided ballot: the other side blank or not scanned is side-missing', async () => {
    const { sheet, pages, blank } = await sidesOf('general');
    expect(pages).toHaveLength(2);
    expect(combineSheet(pages).status).toBe(sheet.truth.expected.status);
    expect(combineSheet([pages[1]!, pages[0]!])).toEqual(combineSheet(pages));
    for (const partial of [[pages[0]!], [pages[0]!, blank], [blank, pages[1]!]]) {
      expect(combineSheet(partial)).toMatchObject({ status: 'rejected', reasons: ['side-missing'], ballotId: pages[0]!.ballotId, contests: {} });
    }
    // the same side twice (two copies of one ballot's front) is not a whole ballot either
    expect(combineSheet([pages[0]!, pages[0]!])).toMatchObject({ status: 'rejected', reasons: ['codes-disagree'] });
  });
});

function whiteOut(img: GrayImage, r: { x: number; y: number; width: number; height: number }, dpi: number): void {
  for (let y = Math.floor(mmToPx(r.y, dpi)); y < mmToPx(r.y + r.height, dpi); y++) {
    for (let x = Math.floor(mmToPx(r.x, dpi)); x < mmToPx(r.x + r.width, dpi); x++) img.data[y * img.width + x] = 250;
  }
}

