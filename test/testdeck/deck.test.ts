import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Rect } from '../../ballots/layout';
import { layoutBallot } from '../../ballots/layout';
import type { DeckOptions, DeckTruth, TruthImage, TruthSheet } from '../../ballots/testdeck';
import { DEFAULT_KIND_WEIGHTS, MARK_KINDS, SHEET_KINDS, TestDeck } from '../../ballots/testdeck';
import { placePoint } from '../../ballots/testdeck/distort';
import { EXAMPLES, TEST_PASSPHRASE, example, tempDir, writeTestKeys, zbarDecode } from '../support/ballots';
import { deckOptions as baseDeckOptions } from '../support/reader';
import { runCli } from '../support/cli';

/** The reader tests' deck, with every distortion and extra mark switched on. */
function deckOptions(over: Partial<DeckOptions> = {}): DeckOptions {
  return baseDeckOptions({ seed: 'deck-test', distortion: 'full', streakRate: 0.05, strayMarks: true, marginalRate: 0.1, erasureRate: 0.2, ...over });
}

describe('test deck generation', () => {
  it('is deterministic for a seed and differs across seeds', async () => {
    const a = new TestDeck(deckOptions());
    const b = new TestDeck(deckOptions());
    const c = new TestDeck(deckOptions({ seed: 'another' }));
    for (let i = 0; i < 4; i++) {
      const [sa, sb, sc] = await Promise.all([a.sheet(i), b.sheet(i), c.sheet(i)]);
      expect(sb.truth).toEqual(sa.truth);
      expect(sb.images.map((im) => im.bytes.equals(sa.images[0]!.bytes) || im.bytes.equals(sa.images[1]?.bytes ?? Buffer.alloc(0)))).toEqual(sa.images.map(() => true));
      expect(sc.truth.serial).not.toBe(sa.truth.serial);
    }
  });

  it('writes 8-bit gray PNG, JPEG and TIFF at the requested resolution', async () => {
    for (const [format, dpi] of [['png', 300], ['jpeg', 200], ['tiff', 150]] as const) {
      const deck = new TestDeck(deckOptions({ format, dpi, distortion: 'none' }));
      const sheet = await deck.sheet(0);
      const meta = await sharp(sheet.images[0]!.bytes).metadata();
      expect({ format: meta.format, channels: meta.channels, depth: meta.depth, width: meta.width }).toEqual({
        format: format === 'jpeg' ? 'jpeg' : format,
        channels: 1,
        depth: 'uchar',
        width: Math.round((215.9 * dpi) / 25.4),
      });
    }
  });

  it('makes every special sheet kind with the outcome a correct reader must give', async () => {
    const kinds = ['overvote', 'blank', 'wrong-election', 'wrong-precinct', 'test-mode', 'counterfeit', 'mis-scaled'] as const;
    const want = { overvote: ['returned', 'overvote'], blank: ['returned', 'blank-ballot'], 'wrong-election': ['rejected', 'wrong-election'], 'wrong-precinct': ['rejected', 'wrong-precinct'], 'test-mode': ['rejected', 'test-ballot-in-official-mode'], counterfeit: ['rejected', 'counterfeit'], 'mis-scaled': ['rejected', 'mis-scaled', 'unalignable'] };
    for (const kind of kinds) {
      const deck = new TestDeck(deckOptions({ kinds: { [kind]: 1 }, distortion: 'none', streakRate: 0, marginalRate: 0 }));
      const sheet = await deck.sheet(0);
      expect(sheet.truth.kind).toBe(kind);
      expect([sheet.truth.expected.status, ...sheet.truth.expected.reasons]).toEqual(want[kind]);
      const codes = zbarDecodeBuffer(sheet.images[0]!.bytes);
      expect(codes).toHaveLength(3);
      if (kind === 'wrong-precinct') expect(codes.find((c) => c.startsWith('TPV1:'))).not.toContain(':P-101:');
      if (kind === 'test-mode') expect(codes.find((c) => c.startsWith('TPV1:'))).toMatch(/:T$/);
    }
  });

  it('copies an earlier serial for a duplicate', async () => {
    const deck = new TestDeck(deckOptions({ kinds: { normal: 1, duplicate: 3 } }));
    const sheets: TruthSheet[] = [];
    for (let i = 0; i < 8; i++) sheets.push((await deck.sheet(i)).truth);
    const dup = sheets.find((s) => s.kind === 'duplicate');
    expect(dup).toBeDefined();
    expect(dup!.serial).toBe(sheets[dup!.duplicateOf!]!.serial);
  });

  it('makes any sheet alone exactly as in sequence, so workers can share a deck', async () => {
    const sequential = new TestDeck(deckOptions());
    for (let i = 0; i < 5; i++) await sequential.sheet(i);
    const fifth = await sequential.sheet(5);
    const alone = await new TestDeck(deckOptions()).sheet(5);
    expect(alone.truth).toEqual(fifth.truth);
    expect(alone.images[0]!.bytes.equals(fifth.images[0]!.bytes)).toBe(true);
  });

  it('refuses an unknown precinct', () => {
    expect(() => new TestDeck(deckOptions({ precinctId: 'p-999' }))).toThrow('no precinct "p-999"');
  });
});

function zbarDecodeBuffer(bytes: Buffer): string[] {
  const dir = tempDir('zbar');
  const file = path.join(dir, 'img.png');
  fs.writeFileSync(file, bytes);
  return zbarDecode(file);
}

/**
 * The done-when check of the test-deck issue: a 1,000-sheet deck made by the CLI, and its truth checked
 * against its pixels. Darkness is measured inside each target at the position the truth's distortion puts
 * it, relative to that image's own paper white, so brightness, tint and contrast changes cancel out.
 */
describe('a 1,000-sheet deck matches its truth', () => {
  const dir = tempDir('deck1000');
  let truth: DeckTruth;

  beforeAll(async () => {
    const keys = writeTestKeys(dir);
    const pass = path.join(dir, 'pass');
    fs.writeFileSync(pass, TEST_PASSPHRASE);
    const r = await runCli([
      'testdeck', '--election', path.join(EXAMPLES, 'municipal.json'), '--keys', keys, '--passphrase-file', pass,
      '--count', '1000', '--out', path.join(dir, 'deck'), '--dpi', '150', '--seed', '1000', '--precinct', 'p-102', '--mode', 'official',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    truth = JSON.parse(fs.readFileSync(path.join(dir, 'deck', 'truth.json'), 'utf8')) as DeckTruth;
  }, 600_000);

  it('has one truth entry and its images per sheet, with every kind represented', () => {
    expect(truth.sheets).toHaveLength(1000);
    const files = new Set(fs.readdirSync(path.join(dir, 'deck')));
    for (const s of truth.sheets) for (const im of s.images) expect(files.has(im.file)).toBe(true);
    expect(new Set(truth.sheets.map((s) => s.kind)).size).toBe(SHEET_KINDS.filter((k) => DEFAULT_KIND_WEIGHTS[k] > 0).length);
    expect(new Set(truth.sheets.flatMap((s) => s.marks.map((m) => m.kind))).size).toBe(MARK_KINDS.length);
  });

  it('shows dark targets where the truth says filled and light ones where it says empty', async () => {
    const layout = layoutBallot(example('municipal').definition, 'ward-1');
    const layout2 = layoutBallot(example('municipal').definition, 'ward-2');
    if (!layout.ok || !layout2.ok) throw new Error('layout');
    let checked = 0;
    for (const sheet of truth.sheets.filter((_, i) => i % 5 === 0)) {
      const image = sheet.images[0]!;
      if (image.distortion.streaks.length > 0 || image.distortion.folds.length > 0) continue;
      const l = sheet.styleId === 'ward-1' ? layout.value : layout2.value;
      const { data, info } = await sharp(path.join(dir, 'deck', image.file)).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
      const paper = percentile(data, 0.5); // most of a page is paper
      for (const t of l.sides[0]!.targets) {
        const mark = sheet.marks.find((m) => m.contestId === t.contestId && m.optionId === t.optionId);
        const darkness = (paper - meanInside(data, info.width, t, image, truth.dpi)) / paper;
        if (!mark) expect({ sheet: sheet.index, target: t.optionId, darkness: darkness < 0.12 }).toEqual({ sheet: sheet.index, target: t.optionId, darkness: true });
        else if (mark.kind === 'full') expect({ sheet: sheet.index, target: t.optionId, darkness: darkness > 0.45 }).toEqual({ sheet: sheet.index, target: t.optionId, darkness: true });
        else if (mark.kind === 'light-pencil') expect({ sheet: sheet.index, target: t.optionId, darkness: darkness > 0.25 }).toEqual({ sheet: sheet.index, target: t.optionId, darkness: true });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1500);
  });
});

function meanInside(data: Buffer, width: number, t: Rect, image: TruthImage, dpi: number): number {
  const page = { width: 215.9, height: 279.4 };
  let sum = 0;
  let n = 0;
  // sample the inner 60% of the oval, mapped through the sheet's own placement in the frame
  for (let k = 0; k < 40; k++) {
    const a = (k / 40) * 2 * Math.PI;
    for (const r of [0, 0.3, 0.6]) {
      const q = placePoint(image.distortion, page, t.x + t.width / 2 + (r * t.width * Math.cos(a)) / 2, t.y + t.height / 2 + (r * t.height * Math.sin(a)) / 2);
      const x = Math.round((q.x * dpi) / 25.4 - 0.5);
      const y = Math.round((q.y * dpi) / 25.4 - 0.5);
      sum += data[y * width + x]!;
      n++;
    }
  }
  return sum / n;
}

function percentile(data: Uint8Array, p: number): number {
  const hist = new Uint32Array(256);
  for (let i = 0; i < data.length; i += 7) hist[data[i]!]!++;
  const total = hist.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (let v = 0; v < 256; v++) {
    acc += hist[v]!;
    if (acc >= total * p) return v;
  }
  return 255;
}

describe('the truth follows the facts of each sheet', () => {
  it('a duplicate of another precinct’s ballot is expected to be rejected as of the wrong precinct', async () => {
    const deck = new TestDeck(deckOptions({ kinds: { 'wrong-precinct': 1, duplicate: 1 }, seed: 'dup-of-wrong-precinct' }));
    const sheets: TruthSheet[] = [];
    for (let i = 0; i < 12; i++) sheets.push((await deck.sheet(i)).truth);
    const dup = sheets.find((s) => s.kind === 'duplicate' && s.precinctId !== 'p-101');
    expect(dup).toBeDefined();
    expect(dup!.expected).toMatchObject({ status: 'rejected', reasons: ['wrong-precinct'] });
  });
});
