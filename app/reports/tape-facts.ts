import { toHex } from '../../lib/bytes';
import type { AuditEvent } from '../ledger/events';
import type { BallotRecord, LedgerMode } from '../ledger/record';
import type { ReplayVisitor } from '../ledger/replay';
import { openDb } from '../ledger/storage';

/**
 * What a tape says beyond the vote totals, read from the verified ledger's own entries: when the polls
 * opened, paused, resumed and closed, which zero tape was printed, and every sheet the station gave back.
 * The station's audit events are all kept in the official ledger (test mode included), so the collector
 * follows the polls events to know which mode each later event belongs to.
 */
export interface PollsEventRef {
  readonly at: string;
  readonly seq: number;
}

/** The zero tape's own ledger entry: a results tape names it so the two tapes are tied together. */
export interface ZeroTapeRef {
  readonly seq: number;
  /** the 'tape-printed' entry's hash, hex; filled by `withEntryHashes` after the replay */
  readonly entryHash: string;
  /** SHA-256 of the zero tape's PDF, as the station recorded it; null for a tape printed before it did */
  readonly sha256: string | null;
  readonly at: string;
}

export interface TapeFacts {
  readonly mode: LedgerMode;
  /** the last time the polls opened (official) or test mode began (test) */
  readonly opened: PollsEventRef | null;
  readonly closed: PollsEventRef | null;
  /** pauses and resumptions since the polls opened, in order */
  readonly pauses: readonly ({ readonly kind: 'paused' | 'resumed' } & PollsEventRef)[];
  readonly zeroTape: ZeroTapeRef | null;
  /** sheets the station would not take, by the reason it logged (a 'ballot-rejected' event each) */
  readonly rejected: ReadonlyMap<string, number>;
  /** sheets given back to the voter with no ballot record (the voter's choice after a warning, paper back unread) */
  readonly returnedToVoter: ReadonlyMap<string, number>;
  /** ballots the ledger recorded that never reached the box, by the reason of their 'returned' entry */
  readonly recordedNotCounted: ReadonlyMap<string, number>;
}

const sum = (m: ReadonlyMap<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
export const total = sum;

/**
 * Collects tape facts in a replay. Events come from the official ledger; `recorded, not counted` from the
 * ledger of `mode` (the same ledger for official tapes: give this visitor to both replays for a test tape).
 */
export class TapeFactsCollector {
  private eventMode: LedgerMode = 'official';
  private opened: PollsEventRef | null = null;
  private closed: PollsEventRef | null = null;
  private pauses: ({ kind: 'paused' | 'resumed' } & PollsEventRef)[] = [];
  private zeroTape: { seq: number; sha256: string | null; at: string } | null = null;
  private rejected = new Map<string, number>();
  private returnedToVoter = new Map<string, number>();
  private recordedNotCounted = new Map<string, number>();

  constructor(readonly mode: LedgerMode) {}

  /** Visitor for the official ledger's events. */
  readonly events: ReplayVisitor = { onEvent: (e, seq) => this.onEvent(e, seq) };

  /** Visitor for the ledger of the tape's mode: its 'returned' entries. */
  readonly returns: ReplayVisitor = { onReturned: (_r: BallotRecord, reason: string) => this.onReturned(reason) };

  private onEvent(e: AuditEvent, seq: number): void {
    const ref = { at: e.at, seq };
    switch (e.type) {
      case 'mode-changed':
        // entering test mode starts an empty test ledger: what came before is not this test's
        this.eventMode = 'test';
        if (this.mode === 'test') this.startOver(ref);
        return;
      case 'polls-opened':
        this.eventMode = 'official';
        if (this.mode === 'official') {
          // a zero tape printed before the opening stays with it
          const zero = this.zeroTape;
          this.startOver(ref);
          this.zeroTape = zero;
        }
        return;
      case 'polls-paused':
      case 'polls-resumed':
        if (this.mode === this.eventMode) this.pauses.push({ kind: e.type === 'polls-paused' ? 'paused' : 'resumed', ...ref });
        return;
      case 'polls-closed':
        if (this.mode === 'official') this.closed = ref;
        return;
      case 'tape-printed': {
        const sha = e.detail['sha256'];
        if (e.detail['kind'] === 'zero' && e.detail['mode'] === this.mode && e.detail['reprint'] !== true) {
          this.zeroTape = { seq, sha256: typeof sha === 'string' ? sha : null, at: e.at };
        }
        return;
      }
      case 'ballot-rejected':
        if (this.mode === this.eventMode) bump(this.rejected, String(e.detail['reason'] ?? 'unknown'));
        return;
      case 'ballot-returned': {
        if (this.mode !== this.eventMode) return;
        // a sheet the voter took back after a warning is counted by that warning (overvote, blank ballot)
        const reason = String(e.detail['reason'] ?? 'unknown');
        const warning = e.detail['warning'];
        bump(this.returnedToVoter, reason === 'voter-returned' && typeof warning === 'string' && warning !== '' ? `${reason}:${warning}` : reason);
        return;
      }
      default:
        return;
    }
  }

  private startOver(ref: PollsEventRef): void {
    this.opened = ref;
    this.closed = null;
    this.pauses = [];
    this.zeroTape = null;
    this.rejected = new Map();
    this.returnedToVoter = new Map();
  }

  private onReturned(reason: string): void {
    // 'scanner-returned:jam' and 'scanner-returned:cover-open' are one reason on a tape: the scanner gave it back
    bump(this.recordedNotCounted, reason.split(':')[0] ?? reason);
  }

  /** The facts, with the zero tape's entry hash read from the (verified) official ledger file. */
  result(officialLedgerFile: string): TapeFacts {
    let zeroTape: ZeroTapeRef | null = null;
    if (this.zeroTape !== null) {
      const db = openDb(officialLedgerFile, { readonly: true });
      try {
        const row = db.prepare('SELECT entry_hash FROM entries WHERE seq = ?').get(this.zeroTape.seq) as { entry_hash: Buffer } | undefined;
        if (row === undefined) throw new Error(`${officialLedgerFile}: entry ${this.zeroTape.seq} vanished after the ledger verified`);
        zeroTape = { ...this.zeroTape, entryHash: toHex(row.entry_hash) };
      } finally {
        db.close();
      }
    }
    return { mode: this.mode, opened: this.opened, closed: this.closed, pauses: [...this.pauses], zeroTape, rejected: sorted(this.rejected), returnedToVoter: sorted(this.returnedToVoter), recordedNotCounted: sorted(this.recordedNotCounted) };
  }
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

function sorted(m: ReadonlyMap<string, number>): Map<string, number> {
  return new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Two visitors as one (the tally and the facts read the same replay). */
export function bothVisitors(a: ReplayVisitor, b: ReplayVisitor): ReplayVisitor {
  return {
    onGenesis: (g) => {
      a.onGenesis?.(g);
      b.onGenesis?.(g);
    },
    onCast: (r, s) => {
      a.onCast?.(r, s);
      b.onCast?.(r, s);
    },
    onReturned: (r, why, s) => {
      a.onReturned?.(r, why, s);
      b.onReturned?.(r, why, s);
    },
    onEvent: (e, s) => {
      a.onEvent?.(e, s);
      b.onEvent?.(e, s);
    },
  };
}
