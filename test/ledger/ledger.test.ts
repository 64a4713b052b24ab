import fs from 'node:fs';
import path from 'node:path';
import { Ledger } from '../../app/ledger/ledger';
import { LedgerError } from '../../app/ledger/errors';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { proveBallot } from '../../app/ledger/proofs';
import { leafHash, verifyInclusion } from '../../app/ledger/merkle';
import { genesisFor, mulberry32, randomCapture, tempDir, testSigner } from './fixtures';

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(`unexpected refusal: ${JSON.stringify(r.error)}`);
  return r.value;
}

describe('Ledger', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = tempDir();
    file = path.join(dir, 'official.sqlite');
  });

  it('takes a ballot through pending and cast, and verify agrees', () => {
    const rand = mulberry32(1);
    const l = Ledger.create(file, genesisFor());
    const p = unwrap(l.appendPending(randomCapture(rand)));
    expect(p.seq).toBe(2);
    expect(l.pendingBallots().map((b) => b.pendingSeq)).toEqual([2]);
    const c = unwrap(l.confirmCast(p.seq));
    expect(c.seq).toBe(3);
    expect(l.pendingBallots()).toEqual([]);
    l.close();
    const report = verifyLedgerFile(file);
    expect(report.problem).toBeUndefined();
    expect(report.summary?.cast).toBe(1);
    expect(report.summary?.entries).toBe(3);
  });

  it('refuses a second copy of a cast ballot with the seq of the first', () => {
    const rand = mulberry32(2);
    const l = Ledger.create(file, genesisFor());
    const capture = randomCapture(rand);
    const first = unwrap(l.appendPending(capture));
    const cast = unwrap(l.confirmCast(first.seq));
    const again = l.appendPending({ ...capture, imageSha256: new Uint8Array(32) });
    expect(again).toEqual({ ok: false, error: { kind: 'duplicate', ballotId: capture.ballotId, firstSeq: cast.seq, firstPendingSeq: first.seq } });
    l.close();
  });

  it('lets a returned ballot be fed again, and refuses one already pending', () => {
    const rand = mulberry32(3);
    const l = Ledger.create(file, genesisFor());
    const capture = randomCapture(rand);
    const p1 = unwrap(l.appendPending(capture));
    expect(l.appendPending(capture)).toEqual({ ok: false, error: { kind: 'already-pending', ballotId: capture.ballotId, pendingSeq: p1.seq } });
    unwrap(l.markReturned(p1.seq, 'overvote:mayor'));
    expect(l.confirmCast(p1.seq).ok).toBe(false);
    const p2 = unwrap(l.appendPending({ ...capture, castAsIs: true }));
    unwrap(l.confirmCast(p2.seq));
    l.close();
    const r = verifyLedgerFile(file);
    expect(r.ok).toBe(true);
    expect(r.summary?.returned).toBe(1);
    expect(r.summary?.cast).toBe(1);
  });

  it('keeps test and official ballots apart', () => {
    const rand = mulberry32(4);
    const l = Ledger.create(file, genesisFor('official'));
    expect(l.appendPending(randomCapture(rand, 'test'))).toEqual({ ok: false, error: { kind: 'wrong-mode', ledgerMode: 'official', ballotMode: 'test' } });
    l.close();
    const t = Ledger.create(path.join(dir, 'test.sqlite'), genesisFor('test'));
    expect(t.appendPending(randomCapture(rand, 'test')).ok).toBe(true);
    expect(t.appendPending(randomCapture(rand, 'official')).ok).toBe(false);
    t.close();
  });

  it('rejects captures that do not fit the election, with the reason', () => {
    const rand = mulberry32(5);
    const l = Ledger.create(file, genesisFor());
    const c = randomCapture(rand);
    const bad = l.appendPending({ ...c, contests: [{ contest: 9, options: [0], overvote: false, undervote: false, marginal: false, writeIn: false }] });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.kind === 'invalid' && bad.error.detail).toContain('contest index 9');
    const flags = l.appendPending({ ...c, contests: [{ contest: 0, options: [0, 1], overvote: false, undervote: false, marginal: false, writeIn: false }] });
    expect(!flags.ok && flags.error.kind === 'invalid' && flags.error.detail).toContain('overvote flag disagrees');
    const serial = l.appendPending({ ...c, ballotId: 'NOT-A-SERIAL' });
    expect(!serial.ok && serial.error.kind === 'invalid' && serial.error.detail).toContain('ballotId');
    l.close();
  });

  it('after a restart, refuses new ballots until pending ones are reconciled, and logs the decision', () => {
    const rand = mulberry32(6);
    let l = Ledger.create(file, genesisFor());
    const a = unwrap(l.appendPending(randomCapture(rand)));
    unwrap(l.confirmCast(a.seq));
    const b = unwrap(l.appendPending(randomCapture(rand)));
    const c = unwrap(l.appendPending(randomCapture(rand)));
    const d = unwrap(l.appendPending(randomCapture(rand)));
    l.close();
    l = Ledger.open(file);
    expect(l.unreconciledBallots().map((x) => x.pendingSeq)).toEqual([b.seq, c.seq, d.seq]);
    const refused = l.appendPending(randomCapture(rand));
    expect(refused).toEqual({ ok: false, error: { kind: 'unreconciled', pendingSeqs: [b.seq, c.seq, d.seq] } });
    expect(l.reconcile(new Map([[b.seq, 'dropped']]))).toEqual({ ok: false, error: { kind: 'missing-report', pendingSeqs: [c.seq, d.seq] } });
    const out = unwrap(
      l.reconcile(
        new Map([
          [b.seq, 'dropped'],
          [c.seq, 'returned'],
          [d.seq, 'unknown'],
        ]),
      ),
    );
    expect(out.map((o) => o.decision)).toEqual(['cast', 'returned', 'returned']);
    expect(out[2]?.instruction).toContain('call the captain');
    expect(l.unreconciledBallots()).toEqual([]);
    expect(l.appendPending(randomCapture(rand)).ok).toBe(true);
    l.close();
    const events: string[] = [];
    const r = verifyLedgerFile(file, {}, { onEvent: (e) => events.push(`${e.type} ${JSON.stringify(e.detail)}`) });
    expect(r.ok).toBe(true);
    expect(r.summary?.cast).toBe(2);
    expect(r.summary?.pending).toBe(1);
    expect(events).toEqual(['pending-reconciled {"cast":1,"returned":1,"unknown":1}']);
  });

  it('closes batches into signed checkpoints that verify checks', () => {
    const rand = mulberry32(7);
    const signer = testSigner();
    const l = Ledger.create(file, genesisFor('official', signer));
    for (let batch = 1; batch <= 3; batch++) {
      for (let i = 0; i < 5 * batch; i++) unwrap(l.confirmCast(unwrap(l.appendPending(randomCapture(rand))).seq));
      const pendingOne = unwrap(l.appendPending(randomCapture(rand)));
      expect(l.closeBatch(signer)).toEqual({ ok: false, error: { kind: 'pending', pendingSeqs: [pendingOne.seq] } });
      unwrap(l.markReturned(pendingOne.seq, 'voter-request'));
      const closed = unwrap(l.closeBatch(signer));
      expect(closed.batch).toBe(batch);
      expect(closed.body).toContain(`tree-size ${[5, 15, 30][batch - 1]}`);
    }
    expect(() => l.closeBatch(testSigner(2))).toThrow(LedgerError);
    l.recordEvent({ type: 'polls-closed', role: 'captain' });
    l.close();
    const r = verifyLedgerFile(file);
    expect(r.problem).toBeUndefined();
    expect(r.summary?.batches.map((b) => b.checkpoint.treeSize)).toEqual([5, 15, 30]);
    expect(r.summary?.openBatch).toBe(4);
  });

  it('rebuilds its ballot states and open batch on reopen: duplicates still refused, the batch still whole', () => {
    const rand = mulberry32(8);
    const signer = testSigner();
    let l = Ledger.create(file, genesisFor('official', signer));
    const first = randomCapture(rand);
    const p = unwrap(l.appendPending(first));
    const c = unwrap(l.confirmCast(p.seq));
    for (let i = 0; i < 4; i++) unwrap(l.confirmCast(unwrap(l.appendPending(randomCapture(rand))).seq));
    unwrap(l.closeBatch(signer));
    for (let i = 0; i < 3; i++) unwrap(l.confirmCast(unwrap(l.appendPending(randomCapture(rand))).seq));
    l.close();
    l = Ledger.open(file);
    expect(l.currentBatch).toBe(2);
    expect(l.appendPending(first)).toEqual({ ok: false, error: { kind: 'duplicate', ballotId: first.ballotId, firstSeq: c.seq, firstPendingSeq: p.seq } });
    for (let i = 0; i < 2; i++) unwrap(l.confirmCast(unwrap(l.appendPending(randomCapture(rand))).seq));
    const closed = unwrap(l.closeBatch(signer));
    expect(closed.treeSize).toBe(10);
    l.close();
    const r = verifyLedgerFile(file);
    expect(r.problem).toBeUndefined();
    expect(r.summary?.batches.map((b) => [b.checkpoint.batchStart, b.checkpoint.treeSize])).toEqual([
      [0, 5],
      [5, 10],
    ]);
  });

  it('refuses to create over an existing ledger and to open a missing one, naming the file', () => {
    Ledger.create(file, genesisFor()).close();
    expect(() => Ledger.create(file, genesisFor())).toThrow(`${file}: a ledger already exists here`);
    const missing = path.join(dir, 'nope.sqlite');
    expect(() => Ledger.open(missing)).toThrow(`${missing}: no ledger here`);
    expect(fs.existsSync(missing)).toBe(false);
  });
});

describe('proveBallot', () => {
  it('gives an inclusion proof for a cast ballot against its batch checkpoint, and nothing for others', () => {
    const file = path.join(tempDir(), 'official.sqlite');
    const rand = mulberry32(77);
    const signer = testSigner();
    const l = Ledger.create(file, genesisFor('official', signer));
    const ids: string[] = [];
    for (let b = 0; b < 3; b++) {
      for (let i = 0; i < 9; i++) {
        const c = randomCapture(rand);
        ids.push(c.ballotId);
        unwrap(l.confirmCast(unwrap(l.appendPending(c)).seq));
      }
      unwrap(l.closeBatch(signer));
    }
    const late = randomCapture(rand);
    unwrap(l.confirmCast(unwrap(l.appendPending(late)).seq));
    l.close();
    const p = proveBallot(file, ids[13] as string);
    expect(p?.batch).toBe(2);
    expect(() => verifyInclusion(p?.leafIndex as number, p?.treeSize as number, leafHash(p?.record as Uint8Array), p?.inclusionProof ?? [], p?.root as Uint8Array)).not.toThrow();
    expect(proveBallot(file, late.ballotId)).toBeUndefined();
  });
});
