import { bytesEqual, toHex } from '../../lib/bytes';
import type { AdjudicationStatement, AdjudicatorRole, MarginalDetail } from './adjudication';
import { ADJUDICATOR_ROLES, adjudicationProblem, adjudicationSignatureValid, itemKey, parseAdjudication } from './adjudication';
import { marginalDetailOf } from './adjudication-detail';
import type { BallotIdIndex } from './ballot-id-index';
import type { Genesis } from './entries';
import { EntryKind, decodeCast, decodeCheckpointEntry, decodePending } from './entries';
import type { AuditEvent } from './events';
import { leafHash } from './merkle';
import type { BallotRecord } from './record';
import { decodeRecord } from './record';
import { serialToBytes } from './serial';
import { fail } from './replay-problem';
import type { Db } from './storage';

/** A checked decision, as replay hands it to a visitor (the after-adjudication tally). */
export interface AdjudicationSeen {
  readonly seq: number;
  readonly statement: AdjudicationStatement;
  /** the cast ballot's record as the station read it */
  readonly record: BallotRecord;
  /** which options the reader found marginal, when the ballot was recorded with per-sheet detail */
  readonly detail: MarginalDetail | undefined;
}

/** A record's first 9 bytes (version, flags + serial): all BallotIdIndex reads of a record. */
export function serialProbe(ballotId: string): Uint8Array {
  const probe = new Uint8Array(9);
  probe.set(serialToBytes(ballotId), 1);
  return probe;
}

/**
 * Replay's side of adjudication (after the seal): the sign-in that is open (the `login` entry a decision must
 * name), the items already decided, and the check of each adjudication entry. The ballot a decision names is
 * read back from its own cast and pending entries, which the chain has already checked (decisions are few).
 */
export class AdjudicationReplay {
  private session: { seq: number; role: AuditEvent['role'] } | undefined;
  private readonly decided = new Map<string, number>();
  count = 0;
  private readonly entryAt;

  constructor(db: Db) {
    this.entryAt = db.prepare('SELECT kind, payload FROM entries WHERE seq = ?');
  }

  /** An event after the seal: a sign-in opens a session, a sign-out or a restart ends it. */
  event(ev: AuditEvent, seq: number): void {
    if (ev.type === 'login') this.session = { seq, role: ev.role };
    else if (ev.type === 'logout' || ev.type === 'software-started') this.session = undefined;
  }

  check(genesis: Genesis, publicKey: Uint8Array, seq: number, payload: Uint8Array, before: Uint8Array, castById: BallotIdIndex): AdjudicationSeen {
    const { body, signature } = decodeCheckpointEntry(payload);
    const s = parseAdjudication(body);
    if (s.mode !== genesis.mode || s.election !== genesis.election.hash || s.station !== genesis.station.id) {
      fail(seq, 'invalid', 'the adjudication names another mode, election or station than the ledger');
    }
    if (s.headSeq !== seq - 1 || !bytesEqual(s.headHash, before)) {
      fail(seq, 'invalid', `the adjudication was signed to follow entry ${s.headSeq} ${toHex(s.headHash).slice(0, 16)}…, but here it follows entry ${seq - 1} ${toHex(before).slice(0, 16)}…: a decision copied from elsewhere, or entries before it rewritten`);
    }
    if (!adjudicationSignatureValid(body, signature, publicKey)) fail(seq, 'bad-signature', 'the adjudication signature does not verify with the station key');
    const castSeq = castById.get(serialProbe(s.ballotId));
    if (castSeq < 0) fail(seq, 'invalid', `the adjudication names ballot ${s.ballotId}, which was never cast in this ledger`);
    if (castSeq !== s.castSeq) fail(seq, 'invalid', `the adjudication says ballot ${s.ballotId} was cast at entry ${s.castSeq}; it was cast at entry ${castSeq}`);
    const cast = this.entryAt.get(castSeq) as { kind: number; payload: Buffer } | undefined;
    if (cast === undefined || cast.kind !== EntryKind.cast) fail(seq, 'invalid', `entry ${castSeq} is not the cast entry of ballot ${s.ballotId}`);
    const pending = this.entryAt.get(decodeCast((cast as { payload: Buffer }).payload)) as { kind: number; payload: Buffer } | undefined;
    if (pending === undefined || pending.kind !== EntryKind.pending) fail(seq, 'invalid', `the cast entry ${castSeq} settles no pending entry`);
    const p = decodePending((pending as { payload: Buffer }).payload);
    if (!bytesEqual(leafHash(p.record), s.leafHash)) fail(seq, 'invalid', `the adjudication names a leaf hash that is not ballot ${s.ballotId}'s record`);
    const record = decodeRecord(p.record);
    const session = this.session;
    if (session === undefined || session.seq !== s.adjudicator.session || session.role !== s.adjudicator.role) {
      fail(seq, 'invalid', `the adjudicator (${s.adjudicator.role}, signed in at entry ${s.adjudicator.session}) is not the ${(ADJUDICATOR_ROLES as readonly string[]).join(' or ')} signed in at the station when it was written${session === undefined ? ' (nobody was)' : ` (the ${session.role} signed in at entry ${session.seq} was)`}`);
    }
    const key = itemKey(s.ballotId, s.contest, s.option);
    const first = this.decided.get(key);
    if (first !== undefined) fail(seq, 'duplicate', `a second decision on ballot ${s.ballotId}, contest "${s.contest}", ${s.option === null ? 'the contest as a whole' : `option "${s.option}"`} (the first is entry ${first})`);
    const detail = marginalDetailOf(p);
    const problem = adjudicationProblem(genesis, record, detail, s);
    if (problem !== undefined) fail(seq, 'invalid', `nothing to adjudicate: ${problem}`);
    this.decided.set(key, seq);
    this.count += 1;
    return { seq, statement: s, record, detail };
  }
}

export type { AdjudicatorRole };
