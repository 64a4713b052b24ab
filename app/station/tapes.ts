import type { Tally } from '../ledger/tally';

/**
 * What the station hands the tape printer (app/reports). Kept behind this interface so the station does not
 * depend on how a tape is laid out, and a test can print to a file it inspects.
 */
export interface TapeInput {
  readonly kind: 'zero' | 'results';
  readonly mode: 'official' | 'test';
  readonly election: { readonly id: string; readonly title: string; readonly date: string; readonly jurisdiction: string; readonly hash: string; readonly fileHash: string };
  readonly precinct: { readonly id: string; readonly name: string };
  readonly station: { readonly id: string; readonly publicKey: string };
  readonly tally: Tally;
  readonly thresholds: { readonly definite: number; readonly marginal: number };
  readonly calibration: string;
  readonly head: { readonly seq: number; readonly hash: string };
  readonly batch: { readonly batch: number; readonly root: string; readonly treeSize: number } | null;
  readonly counts: { readonly returned: number; readonly rejected: number };
  /** ISO time, whole seconds */
  readonly printedAt: string;
}

export type Paper = 'roll-80mm' | 'letter';

export interface TapePrinter {
  print(input: TapeInput, outFile: string, paper: Paper): Promise<void>;
}
