import { readBoundedText } from '../ballots/bounded-file';
import { z } from 'zod';
import type { Problem } from '../ballots/election/problems';
import { jsonPath } from '../ballots/election/problems';
import type { Result } from '../lib/result';
import { err, ok } from '../lib/result';

/**
 * A scanner's calibration: how dark a pixel must be to count as ink, and which share of a target's inside
 * must be ink for a mark to be definite or marginal. The thresholds in use are printed on the tapes
 * (VVSG 1.1.6-G), so they are plain numbers with names.
 */
export const CalibrationProfileSchema = z
  .strictObject({
    format: z.literal('tallyproof-calibration/1'),
    name: z.string().min(1).max(80),
    /** Nominal resolution the profile was made at; the reader measures the actual one from each image. */
    dpi: z.number().int().min(100).max(600),
    thresholds: z.strictObject({
      /** Share of a target's inside that makes a mark definite (a vote). */
      definite: z.number().gt(0).lt(1),
      /** Share from which a mark is marginal: reported for review, never silently counted or dropped. */
      marginal: z.number().gt(0).lt(1),
    }),
    /** A pixel is ink when it is this far from paper towards solid ink (0–1): the bitonal cut. */
    inkCut: z.number().gt(0.05).lt(0.95),
    /** Millimetres trimmed inside each printed oval outline before scoring, for alignment slack. */
    insetMm: z.number().min(0).max(1),
    /** Scanner offsets in mm added to every page position (a feeder that pulls paper consistently off). */
    offsets: z.strictObject({ x: z.number().min(-5).max(5), y: z.number().min(-5).max(5) }),
    /** A column dark over this share of the page's height is a scanner streak. */
    streakFraction: z.number().gt(0.5).lte(1),
  })
  .refine((p) => p.thresholds.marginal <= p.thresholds.definite, {
    message: 'the marginal threshold must not be above the definite threshold',
    path: ['thresholds', 'marginal'],
  });

export type CalibrationProfile = z.infer<typeof CalibrationProfileSchema>;

/**
 * Defaults from the mark study in test/testdeck/mark-kinds.test.ts: an empty or erased target scores ≤ 0.01,
 * a stray dot 0.07–0.16, any mark meant as a vote ≥ 0.30. The cuts sit in the gaps. The ink cut (on 3×3
 * means) is 28 % of the way from paper to ink: the worst light pencil the test decks make (gray 135 under
 * +20 % brightness and contrast, which clip the paper) still sits at 29 %, and the worst erasure (gray 212
 * under −20 % brightness, which clips the ink) at 22 %; the accuracy benchmark found both edges. The inset
 * keeps a blurred 150 dpi outline out of the scored inside.
 */
export const DEFAULT_PROFILE: CalibrationProfile = {
  format: 'tallyproof-calibration/1',
  name: 'default',
  dpi: 200,
  thresholds: { definite: 0.22, marginal: 0.04 },
  inkCut: 0.28,
  insetMm: 0.4,
  offsets: { x: 0, y: 0 },
  streakFraction: 0.9,
};

export function parseProfile(json: unknown): Result<CalibrationProfile, readonly Problem[]> {
  const r = CalibrationProfileSchema.safeParse(json);
  if (!r.success) return err(r.error.issues.map((i) => ({ path: jsonPath(i.path), message: i.message })));
  return ok(r.data);
}

export function loadProfile(file: string): Result<CalibrationProfile, readonly Problem[]> {
  // a profile is a few hundred bytes; 1 MiB bounds what a wrong name (a device, a huge file) can cost
  const text = readBoundedText(file, { maxBytes: 1024 * 1024, what: 'a calibration profile' });
  if (!text.ok) return err([{ path: '$', message: `cannot read calibration profile ${file}: ${text.error.message}` }]);
  let json: unknown;
  try {
    json = JSON.parse(text.value);
  } catch (e) {
    return err([{ path: '$', message: `cannot read calibration profile ${file}: ${(e as Error).message}` }]);
  }
  return parseProfile(json);
}

/** The thresholds as printed on a tape. */
export function describeThresholds(p: CalibrationProfile): string {
  return `mark thresholds (${p.name}): definite ≥ ${(p.thresholds.definite * 100).toFixed(1)} %, marginal ≥ ${(p.thresholds.marginal * 100).toFixed(1)} % of the target; ink cut ${(p.inkCut * 100).toFixed(0)} %`;
}
