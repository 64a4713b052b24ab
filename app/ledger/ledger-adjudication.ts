import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { AdjudicationStatement, AdjudicatorRole, Decision } from './adjudication';
import { ADJUDICATOR_ROLES, adjudicationProblem, formatAdjudication, itemKey, parseAdjudication, signAdjudication, writeInNameProblem } from './adjudication';
import { marginalDetailOf } from './adjudication-detail';
import type { CheckpointSigner } from './checkpoint';
import type { Genesis } from './entries';
import { EntryKind, decodeCast, decodeCheckpointEntry, decodeEvent, decodePending } from './entries';
import type { AuditEvent } from './events';
import { leafHash } from './merkle';
import { decodeRecord } from './record';
import type { Db } from './storage';

/** One decision as the station or the command line asks for it. */
export interface AdjudicationInput {
  readonly ballotId: string;
  readonly contest: string;
  /** null: the contest as a whole (a ballot recorded without per-sheet detail) */
  readonly option: string | null;
  readonly decision: Decision;
  /** the signed-in person: role and the `login` entry of their sign-in (Ledger.adjudicationSession) */
  readonly adjudicator: { readonly role: AdjudicatorRole; readonly session: number };
}

export type AdjudicationRefusal = {
  readonly kind: 'not-sealed' | 'not-cast' | 'not-signed-in' | 'decided' | 'not-adjudicable' | 'bad-input';
  readonly message: string;
};

export interface AdjudicationWritten {
  readonly seq: number;
  readonly entryHash: Uint8Array;
  readonly statement: AdjudicationStatement;
  /** the signed head written after it, when head signing is on */
  readonly signedHead?: { readonly seq: number; readonly file?: string; readonly secondLocationError?: string };
}

/**
 * The ledger's side of adjudication: rebuilt from the entries after the seal at open, kept as events are
 * recorded. It prepares a decision with the same checks replay-adjudication.ts applies in `verify`, so the
 * ledger never writes one `verify` would refuse.
 */
export class LedgerAdjudication {
  private open: { seq: number; role: AuditEvent['role'] } | undefined;
  private readonly done = new Map<string, number>();
  private readonly entryAt;

  constructor(
    db: Db,
    private readonly genesis: Genesis,
    sealSeq: number | undefined,
  ) {
    this.entryAt = db.prepare('SELECT kind, payload FROM entries WHERE seq = ?');
    if (sealSeq === undefined) return;
    const rows = db.prepare('SELECT seq, kind, payload FROM entries WHERE seq > ? AND kind IN (?, ?) ORDER BY seq').raw(true);
    for (const [seq, kind, payload] of rows.iterate(sealSeq, EntryKind.event, EntryKind.adjudication) as IterableIterator<[number, number, Buffer]>) {
      if (kind === EntryKind.event) {
        this.event(decodeEvent(payload), seq);
      } else {
        const s = parseAdjudication(decodeCheckpointEntry(payload).body);
        this.done.set(itemKey(s.ballotId, s.contest, s.option), seq);
      }
    }
  }

  get session(): { readonly seq: number; readonly role: string } | undefined {
    return this.open;
  }

  /** An event after the seal: a sign-in opens a session, a sign-out or a restart ends it. */
  event(ev: AuditEvent, seq: number): void {
    if (ev.type === 'login') this.open = { seq, role: ev.role };
    else if (ev.type === 'logout' || ev.type === 'software-started') this.open = undefined;
  }

  decided(key: string, seq: number): void {
    this.done.set(key, seq);
  }

  /** The entry of an earlier decision on the same item, if any. */
  decisionOn(ballotId: string, contest: string, option: string | null): number | undefined {
    return this.done.get(itemKey(ballotId, contest, option));
  }

  prepare(
    input: AdjudicationInput,
    castSeq: number | undefined,
    head: { readonly seq: number; readonly hash: Uint8Array },
    signer: CheckpointSigner,
  ): Result<{ body: string; signature: Uint8Array; statement: AdjudicationStatement; key: string }, AdjudicationRefusal> {
    const ballotId = input.ballotId.toUpperCase();
    if (castSeq === undefined) return err({ kind: 'not-cast', message: `ballot ${ballotId} was not cast in this ledger` });
    const who = input.adjudicator;
    if (!(ADJUDICATOR_ROLES as readonly string[]).includes(who.role)) return err({ kind: 'not-signed-in', message: `a ${who.role} cannot adjudicate: ${ADJUDICATOR_ROLES.join(' or ')} only` });
    const open = this.open;
    if (open === undefined || open.seq !== who.session || open.role !== who.role) {
      return err({ kind: 'not-signed-in', message: `the ${who.role} signed in at entry ${who.session} is not signed in at the station now${open === undefined ? '' : ` (the ${open.role} signed in at entry ${open.seq} is)`}` });
    }
    if (input.decision.kind === 'write-in') {
      const problem = writeInNameProblem(input.decision.name);
      if (problem !== undefined) return err({ kind: 'bad-input', message: problem });
    }
    const key = itemKey(ballotId, input.contest, input.option);
    const first = this.done.get(key);
    if (first !== undefined) {
      return err({ kind: 'decided', message: `ballot ${ballotId}, contest "${input.contest}", ${input.option === null ? 'the contest as a whole' : `option "${input.option}"`} was already decided (entry ${first}); a decision is not written over` });
    }
    const cast = this.entryAt.get(castSeq) as { kind: number; payload: Buffer };
    const pending = decodePending((this.entryAt.get(decodeCast(cast.payload)) as { payload: Buffer }).payload);
    const record = decodeRecord(pending.record);
    const problem = adjudicationProblem(this.genesis, record, marginalDetailOf(pending), input);
    if (problem !== undefined) return err({ kind: 'not-adjudicable', message: problem });
    const statement: AdjudicationStatement = {
      mode: this.genesis.mode,
      election: this.genesis.election.hash,
      station: this.genesis.station.id,
      headSeq: head.seq,
      headHash: head.hash,
      ballotId,
      castSeq,
      leafHash: leafHash(pending.record),
      contest: input.contest,
      option: input.option,
      decision: input.decision,
      adjudicator: who,
    };
    let body: string;
    try {
      body = formatAdjudication(statement);
      parseAdjudication(body);
    } catch (e) {
      return err({ kind: 'bad-input', message: (e as Error).message });
    }
    return ok({ body, signature: signAdjudication(body, signer), statement, key });
  }
}
