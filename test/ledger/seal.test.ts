import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { CheckpointSigner } from '../../app/ledger/checkpoint';
import { EntryKind, encodeCast, encodeCheckpointEntry, encodeEvent, encodePending, entryHash } from '../../app/ledger/entries';
import { formatSignedHead, signHeadStatement } from '../../app/ledger/signed-head';
import { LedgerError } from '../../app/ledger/errors';
import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import { Ledger } from '../../app/ledger/ledger';
import type { BallotCapture } from '../../app/ledger/record';
import { encodeCaptureRecord } from '../../app/ledger/record';
import { TallyCollector } from '../../app/ledger/tally';
import { readHeadsFile, verifyLedgerFile } from '../../app/ledger/verify';
import { runCli } from '../support/cli';
import { CONTESTS, genesisFor, mulberry32, randomCapture, tempDir, testSigner } from './fixtures';

const BALLOTS = 24;

/**
 * An official ledger as the station leaves it at close: polls opened, 24 ballots cast, polls closed, the
 * final batch checkpoint, (with `seal`) the seal, and the results-tape head in heads.jsonl.
 */
function closedElection(dir: string, signer: CheckpointSigner, seal: boolean): { file: string; headsFile: string } {
  const layout = dataLayout(dir);
  const file = layout.ledger('official');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const l = Ledger.create(file, genesisFor('official', signer));
  const rand = mulberry32(5);
  l.recordEvent({ type: 'polls-opened', role: 'captain' });
  for (let i = 0; i < BALLOTS; i++) {
    const p = l.appendPending(randomCapture(rand));
    if (!p.ok) throw new Error(`append refused: ${p.error.kind}`);
    if (!l.confirmCast(p.value.seq).ok) throw new Error('cast refused');
  }
  l.recordEvent({ type: 'polls-closed', role: 'captain' });
  if (!l.closeBatch(signer).ok) throw new Error('close refused');
  if (seal && !l.seal(signer).ok) throw new Error('seal refused');
  l.noteExternalHead(layout.heads('official'), 'the results tape');
  l.close();
  return { file, headsFile: layout.heads('official') };
}

/** The attacker's tools: a second connection and the published hash rule. */
function appendRaw(file: string, entries: ReadonlyArray<{ kind: number; payload: (seq: number) => Uint8Array }>): number[] {
  const db = new Database(file);
  const last = db.prepare('SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1').get() as { seq: number; entry_hash: Buffer };
  let prev: Uint8Array = last.entry_hash;
  let seq = last.seq;
  const seqs: number[] = [];
  for (const e of entries) {
    seq += 1;
    const payload = e.payload(seq);
    const hash = entryHash(e.kind, seq, prev, payload);
    db.prepare('INSERT INTO entries (seq, kind, payload, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?)').run(seq, e.kind, payload, prev, hash);
    prev = hash;
    seqs.push(seq);
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return seqs;
}

/** A pending + cast pair for a ballot with a new serial, in the batch replay has open after the close. */
function forgedBallot(capture: BallotCapture, batch = 2): Array<{ kind: number; payload: (seq: number) => Uint8Array }> {
  const record = encodeCaptureRecord(capture, 7, batch, CONTESTS);
  return [
    { kind: EntryKind.pending, payload: () => encodePending({ record, imageSha256: capture.imageSha256, votingId: capture.votingId }) },
    { kind: EntryKind.cast, payload: (seq) => encodeCast(seq - 1) },
  ];
}

function event(type: AuditEvent['type']): { kind: number; payload: () => Uint8Array } {
  return { kind: EntryKind.event, payload: () => encodeEvent({ type, role: 'captain', at: '2026-11-03T20:00:00Z', detail: {} }) };
}

function tallied(file: string, headsFile: string): { ok: boolean; cast?: number; problem?: unknown } {
  const t = new TallyCollector();
  const r = verifyLedgerFile(file, { expectedHeads: readHeadsFile(headsFile) }, t.visitor);
  return r.ok ? { ok: true, cast: r.summary?.cast as number } : { ok: false, problem: r.problem };
}

describe('closing the polls seals the ledger (issue 14, item 1)', () => {
  const signer = testSigner();
  let dir: string;
  beforeEach(() => {
    dir = tempDir('seal-');
  });

  it('the attack: a forged pending+cast pair appended after the polls closed, hashes recomputed, is refused (even on a ledger closed before the seal existed)', () => {
    const { file, headsFile } = closedElection(dir, signer, false);
    expect(tallied(file, headsFile)).toEqual({ ok: true, cast: BALLOTS });
    const [pendingSeq] = appendRaw(file, forgedBallot(randomCapture(mulberry32(999))));
    const r = tallied(file, headsFile);
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ seq: pendingSeq, kind: 'invalid' });
    expect(String((r.problem as { message: string }).message)).toMatch(/a ballot entered after the polls closed at entry \d+/);
  });

  it('the same attack on a sealed ledger names the seal; `ledger tally` refuses to count', async () => {
    const { file, headsFile } = closedElection(dir, signer, true);
    const before = verifyLedgerFile(file, { expectedHeads: readHeadsFile(headsFile) });
    expect(before.ok).toBe(true);
    const sealedAt = before.summary?.sealedAt as number;
    expect(sealedAt).toBe((before.summary?.head.seq as number));
    const [pendingSeq] = appendRaw(file, forgedBallot(randomCapture(mulberry32(998))));
    const r = verifyLedgerFile(file);
    expect(r.problem).toMatchObject({ seq: pendingSeq, kind: 'invalid' });
    expect(r.problem?.message).toContain(`after the ledger was sealed at entry ${sealedAt}`);
    const cli = await runCli(['ledger', 'tally', '--data', dir]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`entry ${pendingSeq}`);
    expect(cli.stdout).toBe('');
  });

  it('reopening the polls in a forged event does not let a ballot in: after the seal, and after a close', () => {
    const sealed = closedElection(dir, signer, true);
    const [opened] = appendRaw(sealed.file, [event('polls-opened'), ...forgedBallot(randomCapture(mulberry32(997)))]);
    expect(verifyLedgerFile(sealed.file).problem).toMatchObject({ seq: opened, kind: 'invalid', message: expect.stringContaining('"polls-opened" event after the ledger was sealed') });

    const unsealed = closedElection(tempDir('seal-'), signer, false);
    const [resumed] = appendRaw(unsealed.file, [event('polls-resumed'), ...forgedBallot(randomCapture(mulberry32(996)))]);
    expect(verifyLedgerFile(unsealed.file).problem).toMatchObject({ seq: resumed, kind: 'invalid', message: 'the polls resumed while they were closed' });
  });

  it('a ballot entered while the polls were paused, or before they opened, is refused by verify and by the ledger', () => {
    const file = path.join(dir, 'official.sqlite');
    const l = Ledger.create(file, genesisFor('official', signer));
    const rand = mulberry32(6);
    l.recordEvent({ type: 'polls-opened', role: 'captain' });
    const p = l.appendPending(randomCapture(rand));
    expect(p.ok).toBe(true);
    l.recordEvent({ type: 'polls-paused', role: 'poll-worker' });
    // a ballot pending at the pause still settles: the scanner confirms a drop it was already making
    expect(l.confirmCast(p.ok ? p.value.seq : 0).ok).toBe(true);
    expect(l.appendPending(randomCapture(rand))).toEqual({ ok: false, error: { kind: 'polls-not-open', polls: 'paused' } });
    l.close();
    expect(verifyLedgerFile(file).ok).toBe(true);
    const [forged] = appendRaw(file, forgedBallot(randomCapture(mulberry32(995)), 1));
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: forged, kind: 'invalid', message: 'a ballot entered while the polls were paused' });

    // a ballot before the polls opened: the ledger refuses to open them after it, and so does verify
    const early = path.join(dir, 'early.sqlite');
    const e = Ledger.create(early, genesisFor('official', signer));
    expect(e.appendPending(randomCapture(rand)).ok).toBe(true);
    expect(() => e.recordEvent({ type: 'polls-opened', role: 'captain' })).toThrow('the polls cannot open: 1 ballot(s) were already entered');
    e.close();
    const [opened] = appendRaw(early, [event('polls-opened')]);
    expect(verifyLedgerFile(early).problem).toMatchObject({ seq: opened, kind: 'invalid', message: 'the polls opened after 1 ballot(s) had already been entered' });
  });

  it('after the seal the ledger takes only the events of a closed station, and verify accepts exactly those', () => {
    const { file } = closedElection(dir, signer, true);
    const l = Ledger.open(file);
    const sealedAt = l.sealedAt as number;
    expect(sealedAt).toBeGreaterThan(BALLOTS * 2);
    expect(l.pollsWindow).toBe('closed');
    // a restarted station: what it does after close goes in
    for (const type of ['software-started', 'scanner-connected', 'login', 'tape-printed', 'export', 'publish', 'ledger-verified', 'logout'] as const) l.recordEvent({ type, role: 'captain' });
    l.useHeadSigning({ signer, every: 1000 });
    expect(l.signHead('start').headSeq).toBe(sealedAt + 8);
    // what cannot follow a close is refused, with the seal named
    expect(l.appendPending(randomCapture(mulberry32(1)))).toEqual({ ok: false, error: { kind: 'polls-not-open', polls: 'closed', sealedAt } });
    for (const type of ['polls-opened', 'polls-resumed', 'mode-changed', 'ballot-rejected', 'election-loaded'] as const) {
      let thrown: unknown;
      try {
        l.recordEvent({ type, role: 'captain' });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(LedgerError);
      expect((thrown as LedgerError).kind).toBe('sealed');
    }
    expect(() => l.closeBatch(signer)).toThrow(`the ledger was sealed at entry ${sealedAt}: it takes no batch checkpoint`);
    expect(l.seal(signer)).toEqual({ ok: false, error: { kind: 'already-sealed', sealedAt } });
    l.close();
    const r = verifyLedgerFile(file);
    expect(r.problem).toBeUndefined();
    expect(r.summary).toMatchObject({ sealedAt, cast: BALLOTS });
    expect(r.checked).toContain(`sealed at entry ${sealedAt} when the polls closed: only the events of a closed station follow it`);

    // a forged event of a kind that may not follow the seal, or a second checkpoint, is named
    const [rejected] = appendRaw(file, [event('ballot-rejected')]);
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq: rejected, kind: 'invalid' });
  });

  it('the ledger refuses to seal open polls, pending ballots or cast ballots outside a checkpoint', () => {
    const file = path.join(dir, 'official.sqlite');
    const l = Ledger.create(file, genesisFor('official', signer));
    l.recordEvent({ type: 'polls-opened', role: 'captain' });
    expect(l.seal(signer)).toEqual({ ok: false, error: { kind: 'polls-not-closed' } });
    const p = l.appendPending(randomCapture(mulberry32(2)));
    if (!p.ok) throw new Error('append');
    l.recordEvent({ type: 'polls-closed', role: 'captain' });
    expect(l.seal(signer)).toEqual({ ok: false, error: { kind: 'pending', pendingSeqs: [p.value.seq] } });
    l.confirmCast(p.value.seq);
    expect(l.seal(signer)).toEqual({ ok: false, error: { kind: 'open-batch', castInOpenBatch: 1 } });
    expect(() => l.seal(testSigner(2))).toThrow('the signing key is not the station key');
    expect(l.closeBatch(signer).ok).toBe(true);
    expect(l.seal(signer).ok).toBe(true);
    l.close();
    expect(verifyLedgerFile(file).ok).toBe(true);
  });

  it('a seal in a ledger whose polls never closed, or over cast ballots in no checkpoint, does not verify', () => {
    // written by hand and signed with the station key, as only a holder of that key could: verify still holds the rules
    const sealEntry = (polls: 'open' | 'closed-uncheckpointed'): { file: string; seq: number } => {
      const file = path.join(tempDir('seal-'), 'official.sqlite');
      const g = genesisFor('official', signer);
      const l = Ledger.create(file, g);
      l.recordEvent({ type: 'polls-opened', role: 'captain' });
      const p = l.appendPending(randomCapture(mulberry32(3)));
      if (!p.ok) throw new Error('append');
      l.confirmCast(p.value.seq);
      if (polls === 'closed-uncheckpointed') l.recordEvent({ type: 'polls-closed', role: 'captain' });
      const head = l.headNow();
      l.close();
      const body = formatSignedHead({ mode: 'official', election: g.election.hash, station: g.station.id, headSeq: head.seq, headHash: head.hash, reason: 'seal' });
      const [seq] = appendRaw(file, [{ kind: EntryKind.signedHead, payload: () => encodeCheckpointEntry(body, signHeadStatement(body, signer)) }]);
      return { file, seq: seq as number };
    };
    const open = sealEntry('open');
    expect(verifyLedgerFile(open.file).problem).toMatchObject({ seq: open.seq, kind: 'invalid', message: 'the ledger was sealed while the polls were not closed' });
    const loose = sealEntry('closed-uncheckpointed');
    expect(verifyLedgerFile(loose.file).problem).toMatchObject({ seq: loose.seq, kind: 'invalid', message: 'the ledger was sealed with 1 cast ballot(s) in no signed checkpoint' });
  });
});
