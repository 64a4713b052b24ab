import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { loadElection } from '../../ballots/election';
import { DEFAULT_PROFILE } from '../../calibration/profile';
import { BallotReader } from '../../ballots/read/interpret';
import { EXAMPLES, TEST_PASSPHRASE, rasterisePdf, tempDir, testKeys, writeTestKeys } from '../support/ballots';
import { runCli } from '../support/cli';

/**
 * Ballots this project's deck generator did not make: the printed PDF rasterised by poppler, marked by
 * librsvg drawing SVG shapes over it, turned and scaled by libvips, re-encoded as JPEG. Nothing of the
 * test-deck pipeline is involved, so the reader cannot be tuned to that pipeline's habits.
 */
describe('independently rasterised and marked ballots', () => {
  const dir = tempDir('independent');
  const keys = writeTestKeys(dir);
  const pass = path.join(dir, 'pass');
  fs.writeFileSync(pass, TEST_PASSPHRASE);
  const electionFile = path.join(EXAMPLES, 'municipal.json');
  const election = loadElection(electionFile);
  if (!election.ok) throw new Error('example');
  const reader = new BallotReader({ election: election.value, publicKeys: testKeys().public, profile: DEFAULT_PROFILE, station: { mode: 'official', precinctId: 'p-101' } });

  interface Target {
    contestId: string;
    optionId: string;
    x: number;
    y: number;
    width: number;
    height: number;
  }

  it.each([
    [150, 0, 1, '#1b1b6b'],
    [200, -3.5, 0.985, '#1b1b6b'],
    [300, 2.2, 1.02, '#1b1b6b'],
    [200, 180.8, 1, '#1b1b6b'],
    [150, 1.2, 1, '#8c8c8c'], // light pencil gray
    [200, 0.6, 0.94, '#1b1b6b'], // printed at 94 %: must be refused
  ])('at %i dpi, turned %f°, scaled %f, ink %s', async (dpi, angle, scale, ink) => {
    const pdf = path.join(dir, `b-${dpi}-${angle}.pdf`);
    expect((await runCli(['ballots', 'print', '--election', electionFile, '--keys', keys, '--passphrase-file', pass, '--style', 'ward-1', '--precinct', 'p-101', '--count', '1', '--out', pdf])).code).toBe(0);
    const layout = await runCli(['ballots', 'layout', '--election', electionFile, '--style', 'ward-1', '--json']);
    const targets = (JSON.parse(layout.stdout) as { targets: Target[] }).targets;
    const [png] = rasterisePdf(pdf, dpi, dir);
    const meta = await sharp(png!).metadata();
    const k = dpi / 25.4;
    // one vote per contest (a different option each time), drawn as a filled ellipse, a thick tick or an X
    const contestIds = [...new Set(targets.map((t) => t.contestId))];
    const voted = contestIds.map((id, c) => {
      const options = targets.filter((t) => t.contestId === id);
      return options[(c + Math.abs(Math.round(angle))) % options.length]!;
    });
    const shapes = voted.map((t, i) => {
      const cx = (t.x + t.width / 2) * k;
      const cy = (t.y + t.height / 2) * k;
      const rx = (t.width / 2) * k;
      const ry = (t.height / 2) * k;
      if (i % 3 === 0 || ink !== '#1b1b6b') return `<ellipse cx="${cx}" cy="${cy}" rx="${rx * 0.95}" ry="${ry * 0.95}" fill="${ink}"/>`;
      if (i % 3 === 1) return `<polyline points="${cx - rx * 0.8},${cy} ${cx - rx * 0.2},${cy + ry * 0.8} ${cx + rx},${cy - ry * 1.2}" fill="none" stroke="#222" stroke-width="${0.9 * k}"/>`;
      return `<path d="M${cx - rx * 0.8} ${cy - ry * 0.9}L${cx + rx * 0.8} ${cy + ry * 0.9}M${cx - rx * 0.8} ${cy + ry * 0.9}L${cx + rx * 0.8} ${cy - ry * 0.9}" stroke="#111" stroke-width="${0.7 * k}"/>`;
    });
    const overlay = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${meta.width}" height="${meta.height}">${shapes.join('')}</svg>`);
    const marked = await sharp(png!).composite([{ input: overlay }]).png().toBuffer();
    // turn and scale with libvips, then put back on a page-sized frame as a scanner would
    const turned = await sharp(marked)
      .resize(Math.round(meta.width! * scale))
      .rotate(angle, { background: '#ffffff' })
      .toBuffer({ resolveWithObject: true });
    const W = meta.width!;
    const H = meta.height!;
    const left = Math.round((turned.info.width - W) / 2);
    const top = Math.round((turned.info.height - H) / 2);
    const framed =
      left >= 0 && top >= 0
        ? await sharp(turned.data).extract({ left, top, width: W, height: H }).jpeg({ quality: 70 }).toBuffer()
        : await sharp(turned.data).extend({ left: -left, right: W - turned.info.width + left, top: -top, bottom: H - turned.info.height + top, background: '#ffffff' }).jpeg({ quality: 70 }).toBuffer();
    const page = await reader.readFile(framed);
    if (scale < 0.97) {
      expect(page).toMatchObject({ status: 'rejected', reasons: ['mis-scaled'] });
      return;
    }
    expect({ status: page.status, reasons: page.reasons, detail: page.detail }).toEqual({ status: 'accepted', reasons: [], detail: undefined });
    for (const m of page.marks) {
      const want = voted.some((t) => t.contestId === m.contestId && t.optionId === m.optionId) ? 'filled' : 'empty';
      expect({ target: `${m.contestId}/${m.optionId}`, class: m.class }).toEqual({ target: `${m.contestId}/${m.optionId}`, class: want });
    }
  });
});
