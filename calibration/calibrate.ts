import type { PageReading } from '../ballots/read/interpret';
import type { Result } from '../lib/result';
import { err, ok } from '../lib/result';
import type { CalibrationProfile } from './profile';
import { DEFAULT_PROFILE } from './profile';

/** Blank and marked target scores must be at least this far apart before thresholds are put between them. */
export const MIN_GAP = 0.3;

export interface Distribution {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly p01: number;
  readonly p99: number;
  readonly max: number;
}

export interface CalibrationReport {
  readonly blankSheets: number;
  readonly markedSheets: number;
  readonly rejectedImages: readonly { readonly index: number; readonly reasons: readonly string[] }[];
  readonly blank: Distribution;
  readonly marked: Distribution;
  /** Lightest marked target minus darkest blank one. */
  readonly gap: number;
  /** Separation in pooled standard deviations (d′). */
  readonly dPrime: number;
  readonly profile: CalibrationProfile;
}

export type CalibrationError = { readonly code: 'no-readable-sheets' | 'need-blank-and-marked' | 'not-separable' | 'marks-too-light'; readonly message: string };

/**
 * Derives mark thresholds from calibration sheets: blank ballots (no marks) and fully marked ones (every
 * target filled), read with the provisional profile. Each sheet is sorted by its median target score. The
 * marginal cut sits just above the darkest blank target (the scanner's noise floor), the definite cut well
 * above it and well below the lightest mark; when the two populations do not separate, it refuses.
 */
export function deriveProfile(pages: readonly PageReading[], opts: { name: string; dpi?: number; base?: CalibrationProfile }): Result<CalibrationReport, CalibrationError> {
  const base = opts.base ?? DEFAULT_PROFILE;
  const rejectedImages = pages.flatMap((p, index) => (p.status === 'rejected' ? [{ index, reasons: p.reasons }] : []));
  const readable = pages.filter((p) => p.status !== 'rejected' && p.marks.length > 0);
  if (readable.length === 0) return err({ code: 'no-readable-sheets', message: 'none of the calibration scans could be read as a ballot of this election' });
  const blank: number[] = [];
  const marked: number[] = [];
  let blankSheets = 0;
  let markedSheets = 0;
  for (const p of readable) {
    const scores = p.marks.map((m) => m.score);
    if (median(scores) < 0.5) {
      blank.push(...scores);
      blankSheets++;
    } else {
      marked.push(...scores);
      markedSheets++;
    }
  }
  if (blankSheets === 0 || markedSheets === 0) {
    return err({ code: 'need-blank-and-marked', message: `need both blank and fully marked calibration sheets; got ${blankSheets} blank and ${markedSheets} marked` });
  }
  const b = distribution(blank);
  const m = distribution(marked);
  const gap = m.min - b.max;
  if (gap < MIN_GAP) {
    return err({
      code: 'not-separable',
      message: `blank and marked targets do not separate: the darkest blank target scores ${b.max.toFixed(3)} and the lightest marked one ${m.min.toFixed(3)} (a gap of at least ${MIN_GAP} is needed); clean the scanner, check its brightness, and make sure every target of the marked sheets is filled`,
    });
  }
  const marginal = round3(Math.max(0.04, b.max + 0.03));
  const definite = round3(Math.max(0.22, marginal + 0.12));
  if (definite > m.min - 0.1) {
    return err({ code: 'marks-too-light', message: `the lightest marked target scores ${m.min.toFixed(3)}, too close to the definite threshold ${definite}; mark the calibration sheets with a darker pen` });
  }
  const sd = Math.sqrt((variance(blank) + variance(marked)) / 2);
  const profile: CalibrationProfile = {
    ...base,
    name: opts.name,
    dpi: opts.dpi ?? base.dpi,
    thresholds: { definite, marginal },
  };
  return ok({ blankSheets, markedSheets, rejectedImages, blank: b, marked: m, gap: round3(gap), dPrime: round3(sd > 0 ? (mean(marked) - mean(blank)) / sd : Infinity), profile });
}

function distribution(xs: readonly number[]): Distribution {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return { count: s.length, mean: round3(mean(s)), min: s[0] as number, p01: at(0.01), p99: at(0.99), max: s[s.length - 1] as number };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function variance(xs: readonly number[]): number {
  const mu = mean(xs);
  return xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
