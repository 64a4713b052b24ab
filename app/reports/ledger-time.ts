import type { ReplayVisitor } from '../ledger/replay';

/** The time of one audit event of the ledger, with the entry that carries it. */
export interface LedgerTime {
  readonly at: string;
  readonly seq: number;
  readonly type: string;
}

/**
 * Collects the times of the ledger's audit events during a verify pass, so a report can print a time the
 * ledger itself carries (the station's clock when it logged the event) instead of one a person types: a
 * report reprinted a week later from the same ledger says the same.
 */
export class LedgerEventTimes {
  private readonly times: LedgerTime[] = [];
  readonly visitor: ReplayVisitor = {
    onEvent: (e, seq) => {
      this.times.push({ at: e.at, seq, type: e.type });
    },
  };

  /** the last event replayed (up to the head, or up to the first bad entry of a ledger that does not verify) */
  last(): LedgerTime | undefined {
    return this.times[this.times.length - 1];
  }

  /** the last event at or before entry `seq` (e.g. what a batch's checkpoint covers: the close of polls) */
  lastAtOrBefore(seq: number): LedgerTime | undefined {
    let found: LedgerTime | undefined;
    for (const t of this.times) if (t.seq <= seq) found = t;
    return found;
  }
}

export function ledgerTimeSource(t: LedgerTime): string {
  return `time of ledger entry ${t.seq}, ${t.type}`;
}
