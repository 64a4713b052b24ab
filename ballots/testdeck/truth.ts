import type { ContestResult } from '../election';
import type { Side } from '../layout';
import type { Distortion } from './distort';
import type { MarkClass, MarkKind } from './marks';

export const SHEET_KINDS = ['normal', 'undervote', 'overvote', 'blank', 'wrong-election', 'wrong-precinct', 'test-mode', 'counterfeit', 'duplicate', 'mis-scaled', 'all-filled'] as const;
export type SheetKind = (typeof SHEET_KINDS)[number];

/** Machine-readable reasons a correct reader gives (the reader's own vocabulary). */
export type ExpectedReason =
  | 'overvote'
  | 'blank-ballot'
  | 'marginal-marks'
  | 'wrong-election'
  | 'wrong-precinct'
  | 'counterfeit'
  | 'test-ballot-in-official-mode'
  | 'official-ballot-in-test-mode'
  | 'scanner-streaks'
  | 'mis-scaled'
  | 'unalignable';

export interface TruthMark {
  readonly side: Side;
  readonly contestId: string;
  readonly optionId: string;
  readonly kind: MarkKind;
  readonly expected: MarkClass;
}

/** The contest as a correct reader must report it. */
export type TruthContest = ContestResult;

/** One scanned image: which side of the ballot it shows and how it was turned. */
export interface TruthImage {
  readonly file: string;
  readonly side: Side;
  readonly distortion: Distortion;
}

export interface TruthSheet {
  readonly index: number;
  readonly kind: SheetKind;
  readonly serial: string;
  readonly styleId: string;
  readonly precinctId: string;
  readonly mode: 'test' | 'official';
  /** Scanner order: the first image is what the scanner saw as side 1. */
  readonly images: readonly TruthImage[];
  /** Only targets that carry any mark; every other target is empty. */
  readonly marks: readonly TruthMark[];
  readonly strayMarks: number;
  readonly expected: {
    readonly status: 'accepted' | 'returned' | 'rejected';
    readonly reasons: readonly ExpectedReason[];
    readonly contests: Readonly<Record<string, TruthContest>>;
  };
  /** A second copy of an earlier sheet's ballot ID: one image alone reads fine, a station must refuse it. */
  readonly duplicateOf?: number;
}

export interface DeckTruth {
  readonly format: 'tallyproof-testdeck-truth/1';
  readonly election: { readonly id: string; readonly hash: string };
  readonly seed: string;
  readonly dpi: number;
  /** The station the deck is made for: its mode and (unless central count) its precinct. */
  readonly station: { readonly mode: 'test' | 'official'; readonly precinctId?: string };
  readonly sheets: TruthSheet[];
}
