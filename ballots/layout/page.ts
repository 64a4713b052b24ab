import type { PaperSize } from '../election';

/** Paper sizes in mm. */
export const PAPER: Record<PaperSize, { width: number; height: number }> = {
  letter: { width: 215.9, height: 279.4 },
  legal: { width: 215.9, height: 355.6 },
};

/**
 * Geometry constants of the printed ballot. The reader derives its tolerances from these, so they live
 * in one place. Everything sits at least 8 mm inside the paper, inside the unprintable margin of office
 * printers.
 */
export const BALLOT = {
  markInset: 8,
  cornerMark: 5,
  /** The orientation mark sits beside the top-left corner mark only, so 180° turns are unambiguous. */
  orientationGap: 3,
  timingMark: { width: 5, height: 1.5, pitch: 6.35 },
  contentInset: 17,
  columns: 3,
  columnGap: 3,
  contestGap: 2.5,
  boxLine: 0.3,
  oval: { width: 5.5, height: 3.6, line: 0.35, left: 2.5 },
  /**
   * The QR box is reserved space; the symbol is centred in it with modules of at most `maxModule` mm, so
   * the 4-module quiet zone (3 mm) always fits inside the gaps around the box.
   */
  qr: { box: 28, maxModule: 0.75, minModule: 0.5, labelGap: 3.5, labelSize: 2.2, quietZone: 3 },
  codeBandGap: 4,
} as const;

/** Font sizes (em) in mm: 1 pt = 25.4 / 72 mm. */
export const pt = (points: number): number => (points * 25.4) / 72;
