/** The two papers a tape prints on; every length in mm, font sizes are em sizes in mm. */
export type Paper = 'roll80' | 'letter';
export const PAPERS: readonly Paper[] = ['roll80', 'letter'];

export interface PaperSpec {
  readonly paper: Paper;
  readonly width: number;
  /** undefined: one page as long as its content (a roll is cut after the last line) */
  readonly height: number | undefined;
  readonly marginX: number;
  readonly marginTop: number;
  readonly marginBottom: number;
  /** letter pages carry a running header and a "page i of n" footer in these bands */
  readonly headerBand: number;
  readonly footerBand: number;
  readonly size: { readonly body: number; readonly small: number; readonly heading: number; readonly banner: number; readonly mono: number };
  readonly lineHeight: number;
  /** letter pages flow the tape in newspaper columns: a long tape takes a third of the pages */
  readonly columns: number;
  readonly columnGap: number;
  /** right edge of number columns; a wide page keeps numbers near their labels */
  readonly rowWidth: number;
  readonly qrSize: number;
}

const ROLL: PaperSpec = {
  paper: 'roll80',
  width: 80,
  height: undefined,
  // 80 mm thermal paper prints about 72 mm: 4 mm either side
  marginX: 4,
  marginTop: 4,
  marginBottom: 8,
  headerBand: 0,
  footerBand: 0,
  size: { body: 3.2, small: 2.6, heading: 3.8, banner: 5, mono: 2.9 },
  lineHeight: 1.3,
  columns: 1,
  columnGap: 0,
  rowWidth: 72,
  qrSize: 34,
};

const LETTER: PaperSpec = {
  paper: 'letter',
  width: 215.9,
  height: 279.4,
  marginX: 19,
  marginTop: 15,
  marginBottom: 12,
  headerBand: 9,
  footerBand: 9,
  size: { body: 3.6, small: 3, heading: 4.4, banner: 6.5, mono: 3.4 },
  lineHeight: 1.3,
  columns: 2,
  columnGap: 10,
  rowWidth: 83.95,
  qrSize: 40,
};

/** Width of one column of text. */
export function columnWidth(spec: PaperSpec): number {
  return (spec.width - 2 * spec.marginX - (spec.columns - 1) * spec.columnGap) / spec.columns;
}

export function paperSpec(paper: Paper): PaperSpec {
  return paper === 'roll80' ? ROLL : LETTER;
}

export function isPaper(s: string): s is Paper {
  return (PAPERS as readonly string[]).includes(s);
}
