import fs from 'node:fs';
import path from 'node:path';
import { deriveProfile } from '../../calibration/calibrate';
import { CalibrationProfileSchema, DEFAULT_PROFILE, describeThresholds, parseProfile } from '../../calibration/profile';
import type { PageReading } from '../../ballots/read/interpret';
import { TestDeck } from '../../ballots/testdeck';
import { EXAMPLES, tempDir, testKeys } from '../support/ballots';
import { runCli } from '../support/cli';
import { deckOptions } from '../support/reader';

function page(scores: number[]): PageReading {
  return { status: 'accepted', reasons: [], contests: {}, marks: scores.map((score, i) => ({ contestId: 'c', optionId: `o${i}`, score, class: 'empty' })), ms: 1 };
}

describe('deriving thresholds', () => {
  it('puts the cuts between the blank noise floor and the lightest mark', () => {
    const r = deriveProfile([page([0, 0.01, 0.02, 0]), page([0.9, 0.95, 0.4, 1]), page([0.005, 0, 0, 0.012])], { name: 'unit' });
    if (!r.ok) throw new Error(r.error.message);
    const { thresholds } = r.value.profile;
    expect(thresholds.marginal).toBeGreaterThan(0.02);
    expect(thresholds.definite).toBeGreaterThan(thresholds.marginal);
    expect(thresholds.definite).toBeLessThan(0.4);
    expect(r.value).toMatchObject({ blankSheets: 2, markedSheets: 1, gap: 0.38 });
    expect(CalibrationProfileSchema.safeParse(r.value.profile).success).toBe(true);
  });

  it('refuses scans that cannot separate blank from marked, saying why', () => {
    const r = deriveProfile([page([0, 0.2, 0.25]), page([0.6, 0.7, 0.3, 0.9])], { name: 'unit' });
    expect(r).toMatchObject({ ok: false, error: { code: 'not-separable', message: expect.stringContaining('darkest blank target scores 0.250 and the lightest marked one 0.300') } });
  });

  it('refuses without both kinds of sheet, and without readable sheets', () => {
    expect(deriveProfile([page([0, 0])], { name: 'u' })).toMatchObject({ ok: false, error: { code: 'need-blank-and-marked' } });
    expect(deriveProfile([{ ...page([]), status: 'rejected', reasons: ['not-a-ballot'] }], { name: 'u' })).toMatchObject({ ok: false, error: { code: 'no-readable-sheets' } });
  });
});

describe('calibration profiles', () => {
  it('validates with paths and refuses a marginal threshold above the definite one', () => {
    expect(parseProfile(DEFAULT_PROFILE).ok).toBe(true);
    const bad = parseProfile({ ...DEFAULT_PROFILE, thresholds: { definite: 0.1, marginal: 0.2 } });
    expect(bad).toMatchObject({ ok: false, error: [{ path: '$.thresholds.marginal', message: expect.stringContaining('must not be above') }] });
    expect(parseProfile({ ...DEFAULT_PROFILE, inkCut: 2 })).toMatchObject({ ok: false, error: [{ path: '$.inkCut' }] });
  });

  it('describes its thresholds for the tape', () => {
    expect(describeThresholds(DEFAULT_PROFILE)).toBe('mark thresholds (default): definite ≥ 22.0 %, marginal ≥ 4.0 % of the target; ink cut 28 %');
  });
});

describe('tallyproof calibrate', () => {
  const dir = tempDir('calibrate');
  const keysDir = path.join(dir, 'keys');
  fs.mkdirSync(keysDir);
  fs.writeFileSync(path.join(keysDir, 'election-public.json'), JSON.stringify(testKeys().public));

  async function writeSheets(kind: 'blank' | 'all-filled', n: number): Promise<string[]> {
    const deck = new TestDeck(deckOptions({ kinds: { [kind]: 1 }, markKinds: ['full'], mode: 'test', precinctId: undefined, seed: `cal-${kind}`, distortion: 'mild' }));
    const files: string[] = [];
    for (let i = 0; i < n; i++) {
      const s = await deck.sheet(i);
      const file = path.join(dir, `${kind}-${i}.png`);
      fs.writeFileSync(file, s.images[0]!.bytes);
      files.push(file);
    }
    return files;
  }

  it('writes a profile from blank and marked sheets and reports the separation', async () => {
    const files = [...(await writeSheets('blank', 2)), ...(await writeSheets('all-filled', 2))];
    const out = path.join(dir, 'profile.json');
    const r = await runCli(['calibrate', '--election', path.join(EXAMPLES, 'municipal.json'), '--keys', keysDir, '--out', out, '--name', 'scanner 7', ...files]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/calibration from 2 blank and 2 marked sheet images/);
    expect(r.stdout).toMatch(/separation +gap [01]\.\d{3}, d. /);
    const profile = parseProfile(JSON.parse(fs.readFileSync(out, 'utf8')));
    expect(profile.ok && profile.value.name).toBe('scanner 7');
  });

  it('refuses only blank sheets, writing nothing', async () => {
    const files = await writeSheets('blank', 1);
    const out = path.join(dir, 'never.json');
    const r = await runCli(['calibrate', '--election', path.join(EXAMPLES, 'municipal.json'), '--keys', keysDir, '--out', out, ...files]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('need both blank and fully marked calibration sheets');
    expect(fs.existsSync(out)).toBe(false);
  });
});
