import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { ValidElection } from '../../ballots/election';
import type { BallotCodes, Side } from '../../ballots/identity';
import { deterministicRng, issueBallotCodes, randomSerials, verifyBallotCodes } from '../../ballots/identity';
import type { BallotLayout } from '../../ballots/layout';
import { BALLOT, layoutBallot } from '../../ballots/layout';
import { renderBallotsPdf } from '../../ballots/print/pdf';
import { placeSymbol } from '../../ballots/print/qr';
import { example, outputDir, rasterisePdf, tempDir, testKeys, zbarDecode } from '../support/ballots';

interface Printed {
  election: ValidElection;
  layout: BallotLayout;
  pdf: string;
  /** codes[sheet][side index] */
  codes: BallotCodes[][];
}

async function printExample(name: 'municipal' | 'general', style: string, precinctId: string, count: number, dir: string): Promise<Printed> {
  const election = example(name);
  const keys = testKeys();
  const l = layoutBallot(election.definition, style, { precinctId, mode: 'official' });
  if (!l.ok) throw new Error(l.error.message);
  const serials = randomSerials(count, deterministicRng(`print-${name}`));
  const codes = serials.map((serial) =>
    l.value.sides.map((s) =>
      issueBallotCodes(keys.private, keys.public, { electionHashPrefix: election.hash.slice(0, 16), precinctId, styleId: style, side: s.side as Side, mode: 'official' }, serial),
    ),
  );
  const pdf = await renderBallotsPdf(
    codes.map((c) => ({ layout: l.value, codes: c })),
    { title: 'test print' },
  );
  if (!pdf.ok) throw new Error(pdf.error.message);
  const file = path.join(dir, `${name}.pdf`);
  fs.writeFileSync(file, pdf.value);
  return { election, layout: l.value, pdf: file, codes };
}

const dir = tempDir('print');
let municipal: Printed;
let general: Printed;

beforeAll(async () => {
  municipal = await printExample('municipal', 'ward-2', 'p-201', 2, dir);
  general = await printExample('general', 'general', 'p-0002', 1, dir);
});

describe('printed ballots decode with an independent QR decoder (zbarimg)', () => {
  it.each([150, 200, 300])('at %i dpi, every code of every page of both examples', (dpi) => {
    for (const printed of [municipal, general]) {
      const pages = rasterisePdf(printed.pdf, dpi, dir);
      const expectedPages = printed.codes.flat();
      expect(pages).toHaveLength(expectedPages.length);
      pages.forEach((page, i) => {
        const codes = expectedPages[i]!;
        expect(zbarDecode(page).sort()).toEqual([codes.address, codes.ballotId, codes.votingId].sort());
      });
    }
  });

  it('decodes to codes the ballot-identity verifier accepts, front and back alike', () => {
    const keys = testKeys();
    const pages = rasterisePdf(general.pdf, 200, dir);
    const sides = ['front', 'back'];
    pages.forEach((page, i) => {
      const decoded = zbarDecode(page);
      const codes: BallotCodes = {
        address: decoded.find((d) => !d.startsWith('TP'))!,
        ballotId: decoded.find((d) => d.startsWith('TPB1:'))!,
        votingId: decoded.find((d) => d.startsWith('TPV1:'))!,
      };
      const r = verifyBallotCodes(codes, keys.public, { electionHash: general.election.hash, mode: 'official', precinctId: 'p-0002' });
      expect(r.ok && r.value.votingId.side).toBe(sides[i]);
    });
  });
});

describe('printed geometry matches the layout', () => {
  const DPI = 200;
  const px = (mm: number) => (mm * DPI) / 25.4;

  async function gray(file: string): Promise<{ data: Buffer; width: number; height: number }> {
    const { data, info } = await sharp(file).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  }

  it('draws every target oval exactly where the layout JSON says', async () => {
    for (const printed of [municipal, general]) {
      const pages = rasterisePdf(printed.pdf, DPI, dir);
      for (const [i, side] of printed.layout.sides.entries()) {
        const img = await gray(pages[i]!);
        const at = (x: number, y: number) => img.data[Math.round(y) * img.width + Math.round(x)]!;
        const darkNear = (x: number, y: number) => Math.min(...[-1, 0, 1].flatMap((dx) => [-1, 0, 1].map((dy) => at(x + dx, y + dy))));
        for (const t of side.targets) {
          const cx = px(t.x + t.width / 2);
          const cy = px(t.y + t.height / 2);
          const rx = px(t.width / 2);
          const ry = px(t.height / 2);
          let onOutline = 0;
          for (let k = 0; k < 24; k++) {
            const a = (k / 24) * 2 * Math.PI;
            if (darkNear(cx + rx * Math.cos(a), cy + ry * Math.sin(a)) < 128) onOutline++;
          }
          expect({ target: `${t.contestId}/${t.optionId}`, onOutline }).toEqual({ target: `${t.contestId}/${t.optionId}`, onOutline: 24 });
          // inside the oval and just left of it the paper is blank
          expect(at(cx, cy)).toBeGreaterThan(200);
          expect(darkNear(px(t.x) - px(1.2), cy)).toBeGreaterThan(200);
        }
      }
    }
  });

  it('puts each QR code in its own layout box', async () => {
    const pages = rasterisePdf(municipal.pdf, DPI, dir);
    const side = municipal.layout.sides[0]!;
    const codes = municipal.codes[0]![0]!;
    for (const box of side.codes) {
      const margin = BALLOT.qr.quietZone;
      const crop = path.join(dir, `crop-${box.kind}.png`);
      await sharp(pages[0]!)
        .extract({ left: Math.round(px(box.x - margin)), top: Math.round(px(box.y - margin)), width: Math.round(px(box.width + 2 * margin)), height: Math.round(px(box.height + 2 * margin)) })
        .toFile(crop);
      expect(zbarDecode(crop)).toEqual([codes[box.kind]]);
    }
  });

  it('prints QR modules of at least 0.5 mm', () => {
    for (const printed of [municipal, general]) {
      for (const [i, side] of printed.layout.sides.entries()) {
        for (const box of side.codes) {
          const placed = placeSymbol(printed.codes[0]![i]![box.kind], box);
          expect(placed.ok && placed.value.module).toBeGreaterThanOrEqual(0.5);
        }
      }
    }
  });
});

describe('printed text', () => {
  it('embeds its fonts and renders names in several scripts', () => {
    const fonts = execFileSync('pdffonts', [general.pdf], { encoding: 'utf8' });
    const rows = fonts.split('\n').slice(2).filter(Boolean);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatch(/ yes +yes +yes /); // emb sub uni
    const text = execFileSync('pdftotext', ['-layout', general.pdf, '-'], { encoding: 'utf8' });
    for (const name of ['Zoë Ødegård', 'Владимир Петров', 'Ελένη Παπαδοπούλου', 'Łukasz Wiśniewski', 'Ömer Yılmaz']) expect(text).toContain(name);
  });

  it('leaves one rendering for a person to look at', () => {
    const out = outputDir('print');
    const pages = rasterisePdf(municipal.pdf, 100, out);
    expect(fs.statSync(pages[0]!).size).toBeGreaterThan(10_000);
  });
});
