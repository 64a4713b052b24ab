import { bytesEqual, toHex } from '../../lib/bytes';
import type { Genesis } from '../ledger/entries';
import { EntryKind, decodeCast, decodeEvent, decodePending, decodeReturned } from '../ledger/entries';
import { LedgerError } from '../ledger/errors';
import type { AuditEvent } from '../ledger/events';
import { leafHash } from '../ledger/merkle';
import type { BallotRecord } from '../ledger/record';
import type { SheetDetail } from '../ledger/sheet-detail';
import { decodeRecord, encodeRecord, recordBallotId } from '../ledger/record';
import type { ReplayVisitor } from '../ledger/replay';
import { openDb } from '../ledger/storage';
import type { Tally } from '../ledger/tally';
import { TallyCollector } from '../ledger/tally';
import type { VerifyOptions } from '../ledger/verify';
import type { AdjudicationStatement } from '../ledger/adjudication';
import type { AdjudicatedTally } from '../ledger/adjudicated-tally';
import { AdjudicationCollector } from '../ledger/adjudicated-tally';
import { verifyLedgerFile } from '../ledger/verify';

/**
 * What the county exports take from one station ledger, every part read from a ledger that verifies: the
 * tally (the very collector the tapes and `ledger tally` use), the audit events in ledger order, and the
 * cast ballots in publishing order (batch, then leaf hash: the order the batches are published in, which
 * says nothing of casting order) with what only the local ledger keeps (the full image SHA-256, the voting
 * ID text).
 */
export interface CastBallot {
  /** the record's exact bytes (RECORD.md); its leaf hash is SHA-256(0x00 ‖ record) */
  readonly record: Uint8Array;
  readonly leaf: Buffer;
  readonly batch: number;
  /** full SHA-256 of the scanned image, from the pending entry; its first 8 bytes are in the record */
  readonly imageSha256: Uint8Array;
  readonly votingId: string;
  /**
   * the pending entry's sheet detail (per-side images, every target's score); undefined for format-1 entries.
   * In a ballot of readLedgerForCounty, decoded on each read: read it once per ballot (cvrBallotOf does).
   */
  readonly detail: SheetDetail | undefined;
}

export interface CountyEvent {
  readonly event: AuditEvent;
  /** the ledger entry's hash, hex: ties the exported event to the verified chain without giving its position */
  readonly entryHash: string;
}

export interface CountyLedger {
  readonly file: string;
  readonly genesis: Genesis;
  readonly tally: Tally;
  readonly events: readonly CountyEvent[];
  /** cast ballots, batch ascending, then leaf hash ascending */
  readonly ballots: readonly CastBallot[];
  readonly sealed: boolean;
  /** batches closed with a signed checkpoint; a ballot of a later batch is counted but not yet published */
  readonly closedBatches: number;
  readonly head: { readonly seq: number; readonly hash: string };
  /** the time of the ledger's last audit event: the export's date, so an export is a function of the ledger */
  readonly asOf: string | undefined;
  /** the signed decisions after the seal (kind 7) and the tally with them applied; absent only where no ledger was read */
  readonly adjudication?: CountyAdjudication;
}

/** One ballot's decisions (in ledger order) and how many of its items still wait for one. */
export interface BallotAdjudication {
  readonly decisions: readonly { readonly seq: number; readonly statement: AdjudicationStatement }[];
  readonly undecided: number;
}

export interface CountyAdjudication {
  /** `ledger tally`'s before and after, from the same verified pass */
  readonly tally: AdjudicatedTally;
  /** ballot ID (upper case) → its decisions and undecided items; only ballots with an item are here */
  readonly byBallot: ReadonlyMap<string, BallotAdjudication>;
}

interface PendingRow {
  readonly record: Uint8Array;
  readonly imageSha256: Uint8Array;
  readonly votingId: string;
  /** the pending entry's bytes when it holds a sheet detail, decoded only when a CVR is written */
  readonly payload: Uint8Array | undefined;
}

/**
 * A cast ballot whose sheet detail is decoded when asked for, and not kept: the general election's 102 scores
 * a ballot as objects would hold ~5 KB a ballot for the whole export; its bytes hold a few hundred. A cache on
 * the ballot would be the same as decoding them all, since the export holds every ballot until it ends (77 MB
 * at 10,000 two-sided ballots, over the 48 MB heap the county-export bench caps a CVR export to); the export's
 * readers take it once a ballot instead (cvr-marks.test.ts counts the reads).
 */
function castBallot(fields: Omit<CastBallot, 'detail'>, payload: Uint8Array | undefined): CastBallot {
  return Object.defineProperty({ ...fields }, 'detail', { enumerable: true, get: () => (payload === undefined ? undefined : decodePending(payload).detail) }) as CastBallot;
}

/**
 * Verifies the ledger (refusing one that does not verify, as `ledger tally` does), then reads the pending,
 * cast and event entries up to the verified head a second time for what the replay does not hand out. Each
 * cast ballot read in that second pass must carry the very record bytes the verified pass cast, and its full
 * image digest must begin with the 8 bytes the record holds; anything else is refused.
 */
export function readLedgerForCounty(file: string, opts: VerifyOptions = {}): CountyLedger {
  const tally = new TallyCollector();
  // ballot ID -> leaf hash (hex) of the record the verified pass cast: 10,000 ballots hold ~1 MB, not a tree of objects
  const castLeaves = new Map<string, string>();
  // the adjudication collector rides the same verified pass: the exports' after count is `ledger tally`'s
  const adjudication = new AdjudicationCollector();
  const decisions: { seq: number; statement: AdjudicationStatement }[] = [];
  const visitor: ReplayVisitor = {
    ...tally.visitor,
    onGenesis: (g) => {
      tally.visitor.onGenesis?.(g);
      adjudication.visitor.onGenesis?.(g);
    },
    onCast: (r, seq) => {
      tally.visitor.onCast?.(r, seq);
      adjudication.visitor.onCast?.(r, seq);
      castLeaves.set(r.ballotId, leafHash(encodeRecord(r)).toString('hex'));
    },
    onReturned: (r, reason, seq) => {
      tally.visitor.onReturned?.(r, reason, seq);
      adjudication.visitor.onReturned?.(r, reason, seq);
    },
    onAdjudication: (a) => {
      tally.visitor.onAdjudication?.(a);
      adjudication.visitor.onAdjudication?.(a);
      decisions.push({ seq: a.seq, statement: a.statement });
    },
  };
  const report = verifyLedgerFile(file, opts, visitor);
  if (!report.ok || report.summary === undefined) {
    const p = report.problem;
    throw new LedgerError('corrupt', file, `the ledger does not verify, so nothing was exported: entry ${p?.seq}: ${p?.message}`);
  }
  const s = report.summary;
  const pending = new Map<number, PendingRow>();
  // a station sees a handful of voting IDs (style and precinct) thousands of times: one string each
  const votingIds = new Map<string, string>();
  const intern = (v: string): string => {
    const had = votingIds.get(v);
    if (had !== undefined) return had;
    votingIds.set(v, v);
    return v;
  };
  const ballots: CastBallot[] = [];
  const events: CountyEvent[] = [];
  const db = openDb(file, { readonly: true });
  let county: CountyAdjudication;
  try {
    county = countyAdjudication(adjudication, decisions, db, s.pending);
    const rows = db
      .prepare('SELECT seq, kind, payload, entry_hash AS hash FROM entries WHERE seq <= ? AND kind IN (?, ?, ?, ?) ORDER BY seq')
      .iterate(s.head.seq, EntryKind.pending, EntryKind.cast, EntryKind.returned, EntryKind.event) as IterableIterator<{ seq: number; kind: number; payload: Buffer; hash: Buffer }>;
    for (const row of rows) {
      switch (row.kind) {
        case EntryKind.pending: {
          const p = decodePending(row.payload);
          // copies: the decoded fields are views of the row's buffer, which nothing here should be able to change
          pending.set(row.seq, { record: Uint8Array.from(p.record), imageSha256: Uint8Array.from(p.imageSha256), votingId: intern(p.votingId), payload: p.detail === undefined ? undefined : Uint8Array.from(row.payload) });
          break;
        }
        case EntryKind.cast: {
          const at = decodeCast(row.payload);
          const p = pending.get(at);
          pending.delete(at);
          const verified = p === undefined ? undefined : castLeaves.get(recordBallotId(p.record));
          if (p === undefined || verified === undefined) throw new LedgerError('corrupt', file, `entry ${row.seq}: a cast the verified pass did not see (the ledger changed while it was read?); nothing was exported`);
          const leaf = leafHash(p.record);
          const r = decodeRecord(p.record);
          if (leaf.toString('hex') !== verified) throw new LedgerError('corrupt', file, `entry ${row.seq}: ballot ${r.ballotId}'s record read now is not the one the verified pass cast (the ledger changed while it was read?); nothing was exported`);
          if (!bytesEqual(r.imageDigest, p.imageSha256.subarray(0, r.imageDigest.length))) {
            throw new LedgerError('corrupt', file, `entry ${at}: the image digest in ballot ${r.ballotId}'s record is not the start of the pending entry's image SHA-256`);
          }
          ballots.push(castBallot({ record: p.record, leaf, batch: r.batch, imageSha256: p.imageSha256, votingId: p.votingId }, p.payload));
          break;
        }
        case EntryKind.returned:
          pending.delete(decodeReturned(row.payload).pendingSeq);
          break;
        case EntryKind.event: {
          events.push({ event: decodeEvent(row.payload), entryHash: toHex(row.hash) });
          break;
        }
        default:
          break;
      }
    }
  } finally {
    db.close();
  }
  if (ballots.length !== s.cast) throw new LedgerError('corrupt', file, `the verified pass cast ${s.cast} ballot(s), the second read found ${ballots.length}; nothing was exported`);
  ballots.sort((a, b) => a.batch - b.batch || Buffer.compare(a.leaf, b.leaf));
  const last = events[events.length - 1];
  return {
    file,
    genesis: s.genesis,
    tally: tally.result(s.pending),
    events,
    ballots,
    sealed: s.sealedAt !== undefined,
    closedBatches: s.batches.length,
    head: { seq: s.head.seq, hash: toHex(s.head.hash) },
    asOf: last?.event.at,
    adjudication: county,
  };
}

function countyAdjudication(collector: AdjudicationCollector, decisions: readonly BallotAdjudication['decisions'][number][], db: Parameters<AdjudicationCollector['finish']>[0], pending: number): CountyAdjudication {
  const { tally, items } = collector.finish(db, pending);
  const byBallot = new Map<string, { decisions: BallotAdjudication['decisions'][number][]; undecided: number }>();
  const of = (id: string): { decisions: BallotAdjudication['decisions'][number][]; undecided: number } => {
    const key = id.toUpperCase();
    const had = byBallot.get(key);
    if (had !== undefined) return had;
    const made: { decisions: BallotAdjudication['decisions'][number][]; undecided: number } = { decisions: [], undecided: 0 };
    byBallot.set(key, made);
    return made;
  };
  for (const i of items) if (i.decision === undefined) of(i.ballotId).undecided += 1;
  for (const d of decisions) of(d.statement.ballotId).decisions.push(d);
  return { tally, byBallot };
}

/** Decodes a cast ballot's record (kept as bytes so 10,000 ballots cost ~1.5 MB, not a tree of objects). */
export function recordOf(b: CastBallot): BallotRecord {
  return decodeRecord(b.record);
}
