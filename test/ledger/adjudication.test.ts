import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AdjudicationStatement } from '../../app/ledger/adjudication';
import { formatAdjudication, parseAdjudication, signAdjudication } from '../../app/ledger/adjudication';
import { adjudicationState, tallyAfterAdjudication } from '../../app/ledger/adjudicated-tally';
import type { CheckpointSigner } from '../../app/ledger/checkpoint';
import type { Genesis } from '../../app/ledger/entries';
import { EntryKind, decodeCheckpointEntry, encodeCast, encodeCheckpointEntry, encodePending, entryHash } from '../../app/ledger/entries';
import { dataLayout } from '../../app/ledger/layout';
import { Ledger } from '../../app/ledger/ledger';
import { leafHash } from '../../app/ledger/merkle';
import type { BallotCapture } from '../../app/ledger/record';
import { encodeCaptureRecord } from '../../app/ledger/record';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { runCli } from '../support/cli';
import { tempDir, testSigner } from './fixtures';

/** An election with write-in lines (ids `write-in-N`, as ballots/election makes them). */
const CONTESTS: Genesis['election']['contests'] = [
  { id: 'mayor', options: ['ada', 'grace', 'write-in-1'], seats: 1 },
  { id: 'council', options: ['a', 'b', 'c', 'write-in-1', 'write-in-2'], seats: 2 },
  { id: 'measure-1', options: ['yes', 'no'], seats: 1 },
];

function genesis(signer: CheckpointSigner): Genesis {
  return {
    format: 'tallyproof-ledger/1',
    mode: 'official',
    election: { hash: 'cd'.repeat(32), title: 'Write-in County', contests: CONTESTS },
    station: { id: 'station-9', number: 9, publicKey: Buffer.from(signer.publicKey).toString('hex') },
  };
}

type Sel = { options: number[]; marginal?: boolean };
function capture(ballotId: string, mayor: Sel, council: Sel, measure: Sel): BallotCapture {
  const sel = (contest: number, s: Sel) => {
    const seats = (CONTESTS[contest] as { seats: number }).seats;
    const writeIn = s.options.some((o) => /^write-in-/.test((CONTESTS[contest] as { options: string[] }).options[o] as string));
    return { contest, options: s.options, overvote: s.options.length > seats, undervote: s.options.length < seats, marginal: s.marginal === true, writeIn };
  };
  return {
    ballotId,
    votingId: 'O:cdcdcdcd:style-1:precinct-1',
    mode: 'official',
    castAsIs: false,
    imageSha256: new Uint8Array(crypto.createHash('sha256').update(ballotId).digest()),
    readerVersion: 1,
    calibrationVersion: 1,
    contests: [sel(0, mayor), sel(1, council), sel(2, measure)],
  };
}

// B1: a marginal mark somewhere in mayor, nothing counted there; B2: mayor write-in; B3: nothing to decide;
// B4: council a + write-in-1 and a marginal mark; B5: mayor ada + marginal (deciding one more mark overvotes)
const B1 = 'A00000000001';
const B2 = 'A00000000002';
const B3 = 'A00000000003';
const B4 = 'A00000000004';
const B5 = 'A00000000005';
const BALLOTS = [
  capture(B1, { options: [], marginal: true }, { options: [0, 1] }, { options: [0] }),
  capture(B2, { options: [2] }, { options: [1, 2] }, { options: [1] }),
  capture(B3, { options: [0] }, { options: [0, 2] }, { options: [0] }),
  capture(B4, { options: [1] }, { options: [0, 3], marginal: true }, { options: [] }),
  capture(B5, { options: [0], marginal: true }, { options: [] }, { options: [1] }),
];

interface Closed {
  dir: string;
  file: string;
  signer: CheckpointSigner;
}

/** A station's official ledger at close: ballots cast, the final checkpoint, the seal. */
function closedElection(seal = true): Closed {
  const dir = tempDir('adjudication-');
  const file = dataLayout(dir).ledger('official');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const signer = testSigner(3);
  const l = Ledger.create(file, genesis(signer));
  l.recordEvent({ type: 'polls-opened', role: 'captain' });
  for (const b of BALLOTS) {
    const p = l.appendPending(b);
    if (!p.ok) throw new Error(`append refused: ${JSON.stringify(p.error)}`);
    if (!l.confirmCast(p.value.seq).ok) throw new Error('cast refused');
  }
  l.recordEvent({ type: 'polls-closed', role: 'captain' });
  if (!l.closeBatch(signer).ok) throw new Error('close refused');
  if (seal && !l.seal(signer).ok) throw new Error('seal refused');
  l.close();
  return { dir, file, signer };
}

/** The auditor signs in at the closed station: the session decisions name. */
function auditorSignsIn(l: Ledger): { role: 'auditor'; session: number } {
  const a = l.recordEvent({ type: 'login', role: 'auditor' });
  return { role: 'auditor', session: a.seq };
}

/** The attacker's tools: a second connection and the published hash rule. */
function appendRaw(file: string, entries: ReadonlyArray<{ kind: number; payload: (seq: number, prev: Uint8Array) => Uint8Array }>): number[] {
  const db = new Database(file);
  const last = db.prepare('SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1').get() as { seq: number; entry_hash: Buffer };
  let prev: Uint8Array = last.entry_hash;
  let seq = last.seq;
  const seqs: number[] = [];
  for (const e of entries) {
    seq += 1;
    const payload = e.payload(seq, prev);
    const hash = entryHash(e.kind, seq, prev, payload);
    db.prepare('INSERT INTO entries (seq, kind, payload, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?)').run(seq, e.kind, payload, prev, hash);
    prev = hash;
    seqs.push(seq);
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return seqs;
}

/** Entries: genesis, polls-opened, then a pending and a cast entry per ballot in BALLOTS order. */
function castSeqOf(_file: string, ballotId: string): { castSeq: number } {
  const i = BALLOTS.findIndex((b) => b.ballotId === ballotId);
  if (i < 0) throw new Error(`no ballot ${ballotId}`);
  return { castSeq: 4 + 2 * i };
}

function leafFor(ballotId: string): Uint8Array {
  const c = BALLOTS.find((b) => b.ballotId === ballotId) as BallotCapture;
  return leafHash(encodeCaptureRecord(c, 9, 1, CONTESTS));
}

/** A decision statement as a program holding `signer` would write it at the end of the file. */
function signedDecision(signer: CheckpointSigner, over: Partial<AdjudicationStatement> & Pick<AdjudicationStatement, 'ballotId' | 'castSeq' | 'contest' | 'option' | 'decision' | 'adjudicator'>) {
  return (seq: number, prev: Uint8Array): Uint8Array => {
    const body = formatAdjudication({ mode: 'official', election: 'cd'.repeat(32), station: 'station-9', headSeq: seq - 1, headHash: prev, ...over, leafHash: over.leafHash ?? leafFor(over.ballotId) });
    return encodeCheckpointEntry(body, signAdjudication(body, signer));
  };
}

describe('adjudication in the ledger', () => {
  it('records signed decisions after the seal; verify accepts them and the tally shows before and after', async () => {
    const { dir, file, signer } = closedElection();
    const l = Ledger.open(file);
    const who = auditorSignsIn(l);
    const r1 = l.adjudicate({ ballotId: B1, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['ada'] }, adjudicator: who }, signer);
    expect(r1.ok).toBe(true);
    const r2 = l.adjudicate({ ballotId: B2.toLowerCase(), contest: 'mayor', option: 'write-in-1', decision: { kind: 'write-in', name: 'Jane Q. Public' }, adjudicator: who }, signer);
    expect(r2.ok).toBe(true);
    const r3 = l.adjudicate({ ballotId: B4, contest: 'council', option: 'write-in-1', decision: { kind: 'no-vote' }, adjudicator: who }, signer);
    expect(r3.ok).toBe(true);
    const r4 = l.adjudicate({ ballotId: B5, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['grace'] }, adjudicator: who }, signer);
    expect(r4.ok).toBe(true);
    l.recordEvent({ type: 'logout', role: 'auditor' });
    l.close();

    const report = verifyLedgerFile(file);
    expect(report.problem).toBeUndefined();
    expect(report.summary?.adjudications).toBe(4);
    const s = adjudicationState(file);
    const t = s.tally;
    if (t === undefined) throw new Error('no tally');
    // before: what the station counted, marginal marks for nothing
    expect(t.before.contests[0]?.votes).toEqual({ ada: 2, grace: 1, 'write-in-1': 1 });
    // after: B1's marginal mark for ada counts; B5's mark for grace overvotes mayor on that ballot (ada's vote goes)
    expect(t.after.contests[0]).toMatchObject({ votes: { ada: 2, grace: 1, 'write-in-1': 1 }, overvotedBallots: 1, marginalBallots: 0 });
    expect(t.after.contests[0]?.undervotedBallots).toBe(0);
    // B4's write-in line does not count: council keeps a alone on that ballot
    expect(t.before.contests[1]?.votes['write-in-1']).toBe(1);
    expect(t.after.contests[1]?.votes).toEqual({ a: 3, b: 2, c: 2, 'write-in-1': 0, 'write-in-2': 0 });
    expect(t.after.contests[1]).toMatchObject({ marginalBallots: 1, undervotedBallots: 2 });
    expect(t.before.contests[1]).toMatchObject({ marginalBallots: 1, undervotedBallots: 1 });
    expect(t.writeIns[0]).toEqual({ id: 'mayor', writeInNames: { 'write-in-1': { 'Jane Q. Public': 1 } }, unnamedWriteIns: 0 });
    expect(t.decisions).toBe(4);
    // B4's council marginal mark is still waiting
    expect(s.items?.filter((i) => i.decision === undefined)).toEqual([expect.objectContaining({ ballotId: B4, contest: 'council', option: null, kind: 'contest-marginal', counted: ['a', 'write-in-1'] })]);
    expect(t.undecided).toBe(1);
    expect(t.after.ballots.cast).toBe(t.before.ballots.cast);

    const cli = await runCli(['ledger', 'tally', '--data', dir]);
    expect(cli.code).toBe(0);
    const printed = JSON.parse(cli.stdout) as { contests: Array<{ votes: Record<string, number> }>; adjudication: { after: { contests: Array<{ votes: Record<string, number> }> }; decisions: number; undecided: number } };
    expect(printed.contests[0]?.votes).toEqual(t.before.contests[0]?.votes);
    expect(printed.adjudication.after.contests[1]?.votes).toEqual(t.after.contests[1]?.votes);
    expect(printed.adjudication).toMatchObject({ decisions: 4, undecided: 1 });
    const after = tallyAfterAdjudication(file);
    expect(after.ok && after.tally.contests[0]?.overvotedBallots).toBe(1);
  });

  it('refuses, writing nothing, every decision verify would reject', () => {
    const { file, signer } = closedElection(false);
    const early = Ledger.open(file);
    const none = { role: 'auditor' as const, session: 2 };
    expect(early.adjudicate({ ballotId: B1, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['ada'] }, adjudicator: none }, signer)).toMatchObject({ ok: false, error: { kind: 'not-sealed' } });
    expect(early.seal(signer).ok).toBe(true);
    const headBefore = early.headNow().seq;
    const who = auditorSignsIn(early);
    const refusals: Array<[Parameters<Ledger['adjudicate']>[0], string, RegExp]> = [
      [{ ballotId: B3, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['grace'] }, adjudicator: who }, 'not-adjudicable', /has no marginal mark in contest "mayor"/],
      [{ ballotId: 'Z99999999999', contest: 'mayor', option: null, decision: { kind: 'marks', options: [] }, adjudicator: who }, 'not-cast', /was not cast/],
      [{ ballotId: 'not a ballot', contest: 'mayor', option: null, decision: { kind: 'marks', options: [] }, adjudicator: who }, 'not-cast', /was not cast/],
      [{ ballotId: B1, contest: 'mayor', option: 'ada', decision: { kind: 'counts' }, adjudicator: who }, 'not-adjudicable', /without per-sheet detail/],
      [{ ballotId: B1, contest: 'mayor', option: null, decision: { kind: 'counts' }, adjudicator: who }, 'not-adjudicable', /lists the options whose marks count/],
      [{ ballotId: B1, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['write-in-1'] }, adjudicator: who }, 'not-adjudicable', /cannot be counted at contest level/],
      [{ ballotId: B5, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['ada'] }, adjudicator: who }, 'not-adjudicable', /already counted by the station/],
      [{ ballotId: B1, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['nobody'] }, adjudicator: who }, 'not-adjudicable', /has no option "nobody"/],
      [{ ballotId: B1, contest: 'sheriff', option: null, decision: { kind: 'marks', options: [] }, adjudicator: who }, 'not-adjudicable', /no contest "sheriff"/],
      [{ ballotId: B3, contest: 'mayor', option: 'write-in-1', decision: { kind: 'write-in', name: 'X' }, adjudicator: who }, 'not-adjudicable', /is not marked/],
      [{ ballotId: B2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'counts' }, adjudicator: who }, 'not-adjudicable', /"write-in <name>"\) or "no-vote", not "counts"/],
      [{ ballotId: B2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'write-in', name: ' Jane' }, adjudicator: who }, 'bad-input', /begins or ends with a space/],
      [{ ballotId: B2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'write-in', name: 'Jane\nDoe' }, adjudicator: who }, 'bad-input', /control character|line break/],
      [{ ballotId: B2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'write-in', name: 'x'.repeat(65) }, adjudicator: who }, 'bad-input', /longer than 64/],
      [{ ballotId: B2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'no-vote' }, adjudicator: { role: 'auditor', session: who.session - 1 } }, 'not-signed-in', /is not signed in at the station now/],
      [{ ballotId: B2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'no-vote' }, adjudicator: { role: 'captain', session: who.session } }, 'not-signed-in', /is not signed in/],
    ];
    for (const [input, kind, message] of refusals) {
      const r = early.adjudicate(input, signer);
      expect(r.ok ? 'written' : `${r.error.kind}: ${r.error.message}`).toMatch(new RegExp(`^${kind}: .*${message.source}`));
    }
    expect(early.headNow().seq).toBe(who.session);
    expect(early.adjudicate({ ballotId: B2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'no-vote' }, adjudicator: who }, signer).ok).toBe(true);
    // a second decision on the same item, even the same one, is refused; the first stands
    expect(early.adjudicate({ ballotId: B2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'write-in', name: 'Jane' }, adjudicator: who }, signer)).toMatchObject({ ok: false, error: { kind: 'decided' } });
    early.recordEvent({ type: 'logout', role: 'auditor' });
    expect(early.adjudicate({ ballotId: B1, contest: 'mayor', option: null, decision: { kind: 'marks', options: [] }, adjudicator: who }, signer)).toMatchObject({ ok: false, error: { kind: 'not-signed-in' } });
    expect(() => early.adjudicate({ ballotId: B1, contest: 'mayor', option: null, decision: { kind: 'marks', options: [] }, adjudicator: who }, testSigner(4))).toThrow(/not the station key/);
    early.close();
    // the decided item and the session survive a restart of the ledger
    const again = Ledger.open(file);
    const who2 = auditorSignsIn(again);
    expect(again.adjudicate({ ballotId: B2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'write-in', name: 'Jane' }, adjudicator: who2 }, signer)).toMatchObject({ ok: false, error: { kind: 'decided', message: expect.stringContaining(`entry ${who.session + 1}`) } });
    again.close();
    expect(verifyLedgerFile(file).ok).toBe(true);
    expect(headBefore).toBeLessThan(who.session);
  });
});

describe('attacks on adjudication, caught by ledger verify', () => {
  /** A sealed ledger with the auditor signed in at the end: entry `session`. */
  function sealedWithAuditor(): Closed & { session: number } {
    const c = closedElection();
    const l = Ledger.open(c.file);
    const { session } = auditorSignsIn(l);
    l.close();
    return { ...c, session };
  }

  it('a decision on an option with no marginal mark, signed with the station key, is refused', () => {
    const { file, signer, session } = sealedWithAuditor();
    const { castSeq } = castSeqOf(file, B3);
    const [seq] = appendRaw(file, [{ kind: EntryKind.adjudication, payload: signedDecision(signer, { ballotId: B3, castSeq, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['grace'] }, adjudicator: { role: 'auditor', session } }) }]);
    const r = verifyLedgerFile(file);
    expect(r.problem).toMatchObject({ seq, kind: 'invalid' });
    expect(r.problem?.message).toMatch(/nothing to adjudicate: ballot A00000000003 has no marginal mark in contest "mayor"/);
  });

  it('a decision on a ballot that was never cast is refused', () => {
    const { file, signer, session } = sealedWithAuditor();
    const [seq] = appendRaw(file, [
      {
        kind: EntryKind.adjudication,
        payload: (s, prev) => {
          const body = formatAdjudication({ mode: 'official', election: 'cd'.repeat(32), station: 'station-9', headSeq: s - 1, headHash: prev, leafHash: new Uint8Array(32), ballotId: 'Z00000000009', castSeq: 3, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['ada'] }, adjudicator: { role: 'auditor', session } });
          return encodeCheckpointEntry(body, signAdjudication(body, signer));
        },
      },
    ]);
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq, kind: 'invalid', message: expect.stringContaining('ballot Z00000000009, which was never cast') });
  });

  it('a forged signature (any key but the station\'s) is refused', () => {
    const { file, session } = sealedWithAuditor();
    const { castSeq } = castSeqOf(file, B1);
    const [seq] = appendRaw(file, [{ kind: EntryKind.adjudication, payload: signedDecision(testSigner(77), { ballotId: B1, castSeq, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['grace'] }, adjudicator: { role: 'auditor', session } }) }]);
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq, kind: 'bad-signature' });
  });

  it('a decision put before the seal by a local program is refused, signed or not', () => {
    const c = closedElection(false);
    const { castSeq } = castSeqOf(c.file, B1);
    const l0 = Ledger.open(c.file);
    const { session } = auditorSignsIn(l0);
    l0.close();
    const [seq] = appendRaw(c.file, [{ kind: EntryKind.adjudication, payload: signedDecision(c.signer, { ballotId: B1, castSeq, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['grace'] }, adjudicator: { role: 'auditor', session } }) }]);
    const l = Ledger.open(c.file);
    expect(l.seal(c.signer).ok).toBe(true);
    l.close();
    expect(verifyLedgerFile(c.file).problem).toMatchObject({ seq, kind: 'invalid', message: expect.stringContaining('before the ledger was sealed') });
  });

  it('a cast ballot appended after the seal as an adjudication entry, or with one, does not count', () => {
    const { file, signer, session } = sealedWithAuditor();
    const forged = capture('F00000000001', { options: [0] }, { options: [0, 1] }, { options: [0] });
    const record = encodeCaptureRecord(forged, 9, 2, CONTESTS);
    // the ballot's pending payload dressed as an adjudication entry
    const [disguised] = appendRaw(file, [{ kind: EntryKind.adjudication, payload: () => encodePending({ record, imageSha256: forged.imageSha256, votingId: forged.votingId }) }]);
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: disguised, kind: 'invalid', message: expect.stringContaining('adjudication payload is malformed') });

    const second = sealedWithAuditor();
    // a pending + cast pair after the seal and a decision about it: the pair is refused first
    const [pending] = appendRaw(second.file, [
      { kind: EntryKind.pending, payload: () => encodePending({ record, imageSha256: forged.imageSha256, votingId: forged.votingId }) },
      { kind: EntryKind.cast, payload: (s) => encodeCast(s - 1) },
      { kind: EntryKind.adjudication, payload: signedDecision(signer, { ballotId: 'F00000000001', leafHash: leafHash(record), castSeq: second.session + 2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'write-in', name: 'Mallory' }, adjudicator: { role: 'auditor', session } }) },
    ]);
    expect(verifyLedgerFile(second.file).problem).toMatchObject({ seq: pending, kind: 'invalid', message: expect.stringContaining('after the ledger was sealed') });
  });

  it('a decision replayed to another ballot, or again later in the chain, is refused', () => {
    const { file, signer } = closedElection();
    const l = Ledger.open(file);
    const who = auditorSignsIn(l);
    const written = l.adjudicate({ ballotId: B2, contest: 'mayor', option: 'write-in-1', decision: { kind: 'write-in', name: 'Jane' }, adjudicator: who }, signer);
    if (!written.ok) throw new Error(written.error.message);
    l.close();
    const db = new Database(file, { readonly: true });
    const payload = (db.prepare('SELECT payload FROM entries WHERE seq = ?').get(written.value.seq) as { payload: Buffer }).payload;
    db.close();
    const { body, signature } = decodeCheckpointEntry(payload);
    // the same entry again at the end: signed for another place in the chain
    const [again] = appendRaw(file, [{ kind: EntryKind.adjudication, payload: () => payload }]);
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: again, kind: 'invalid', message: expect.stringContaining('a decision copied from elsewhere') });

    // the statement moved to another ballot (B4 has a marked write-in-1 in council), its signature kept
    const other = closedElection();
    const l2 = Ledger.open(other.file);
    const who2 = auditorSignsIn(l2);
    l2.close();
    const s = parseAdjudication(body);
    const { castSeq } = castSeqOf(other.file, B4);
    const [moved] = appendRaw(other.file, [
      {
        kind: EntryKind.adjudication,
        payload: (seq, prev) => encodeCheckpointEntry(formatAdjudication({ ...s, headSeq: seq - 1, headHash: prev, ballotId: B4, castSeq, leafHash: leafFor(B4), contest: 'council', adjudicator: { role: 'auditor', session: who2.session } }), signature),
      },
    ]);
    expect(verifyLedgerFile(other.file).problem).toMatchObject({ seq: moved, kind: 'bad-signature' });
  });

  it('a decision that names no open sign-in is refused, even signed with the station key', () => {
    const { file, signer, session } = sealedWithAuditor();
    const { castSeq } = castSeqOf(file, B1);
    const l = Ledger.open(file);
    l.recordEvent({ type: 'logout', role: 'auditor' });
    l.close();
    const [seq] = appendRaw(file, [{ kind: EntryKind.adjudication, payload: signedDecision(signer, { ballotId: B1, castSeq, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['grace'] }, adjudicator: { role: 'auditor', session } }) }]);
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq, kind: 'invalid', message: expect.stringContaining('(nobody was)') });
  });

  it('a tampered decision fails verify, and the after tally is refused with it', async () => {
    const { dir, file, signer } = closedElection();
    const l = Ledger.open(file);
    const who = auditorSignsIn(l);
    const w = l.adjudicate({ ballotId: B1, contest: 'mayor', option: null, decision: { kind: 'marks', options: ['ada'] }, adjudicator: who }, signer);
    if (!w.ok) throw new Error(w.error.message);
    l.close();
    const good = tallyAfterAdjudication(file);
    expect(good.ok && good.tally.contests[0]?.votes['ada']).toBe(3);
    // the decision turned to grace, every hash from it on recomputed: the station's signature no longer matches
    const db = new Database(file);
    db.exec('DROP TRIGGER entries_append_only_update');
    const rows = db.prepare('SELECT seq, kind, payload FROM entries WHERE seq >= ? ORDER BY seq').all(w.value.seq) as Array<{ seq: number; kind: number; payload: Buffer }>;
    let prev = (db.prepare('SELECT entry_hash FROM entries WHERE seq = ?').get(w.value.seq - 1) as { entry_hash: Buffer }).entry_hash as Uint8Array;
    for (const r of rows) {
      let payload: Uint8Array = r.payload;
      if (r.seq === w.value.seq) {
        const { body, signature } = decodeCheckpointEntry(r.payload);
        payload = encodeCheckpointEntry(body.replace('marks ada', 'marks grace'), signature);
      }
      const hash = entryHash(r.kind, r.seq, prev, payload);
      db.prepare('UPDATE entries SET payload = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?').run(payload, prev, hash, r.seq);
      prev = hash;
    }
    db.close();
    const r = verifyLedgerFile(file);
    expect(r.problem).toMatchObject({ seq: w.value.seq, kind: 'bad-signature' });
    expect(tallyAfterAdjudication(file).ok).toBe(false);
    const cli = await runCli(['ledger', 'verify', '--data', dir]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`entry ${w.value.seq}: bad-signature`);
    expect((await runCli(['ledger', 'tally', '--data', dir])).code).toBe(1);
  });
});
