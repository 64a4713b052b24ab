import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EntryKind, entryHash } from '../../app/ledger/entries';
import { dataLayout } from '../../app/ledger/layout';
import { Ledger } from '../../app/ledger/ledger';
import { readSignedHeadsFile, signedHeadsFile } from '../../app/ledger/signed-heads-file';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { runCli } from '../support/cli';
import { genesisFor, mulberry32, randomCapture, tempDir, testSigner } from './fixtures';

const signer = testSigner();
const STATION = genesisFor('official', signer).station.id;

/** A station's official ledger with heads signed every `every` entries into `second`; polls open, 30 ballots. */
function running(dir: string, second: string, every = 10): { file: string; headsFile: string } {
  const layout = dataLayout(dir);
  const file = layout.ledger('official');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const l = Ledger.create(file, genesisFor('official', signer));
  l.useHeadSigning({ signer, every, dir: second });
  l.recordEvent({ type: 'polls-opened', role: 'captain' });
  l.noteExternalHead(layout.heads('official'), 'the zero tape');
  const rand = mulberry32(12);
  for (let i = 0; i < 30; i++) {
    const p = l.appendPending(randomCapture(rand));
    if (!p.ok) throw new Error('append');
    l.confirmCast(p.value.seq);
    if (i % 7 === 3) l.recordEvent({ type: 'login-failed', role: 'poll-worker', detail: { failures: 1 } });
  }
  l.close();
  return { file, headsFile: layout.heads('official') };
}

/** The attacker cuts the ledger back to `keep` entries (a second connection, the triggers dropped). */
function cutTo(file: string, keep: number): void {
  const db = new Database(file);
  db.exec('DROP TRIGGER entries_append_only_update; DROP TRIGGER entries_append_only_delete;');
  db.prepare('DELETE FROM entries WHERE seq > ?').run(keep);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

describe('signed heads: into the ledger and a second location (issue 14, item 2)', () => {
  let dir: string;
  let second: string;
  beforeEach(() => {
    dir = tempDir('heads-');
    second = tempDir('heads-second-');
  });

  it('are written every N entries, into the ledger and as lines of the second location, and verify checks both', () => {
    const { file } = running(dir, second);
    const r = verifyLedgerFile(file, { signedHeadsDir: second });
    expect(r.problem).toBeUndefined();
    const inLedger = [...(r.summary?.signedHeads.values() ?? [])];
    // every 10 entries counting the signed heads themselves: one each 11 entries after the genesis
    expect(inLedger.length).toBe(Math.floor(((r.summary?.entries as number) - 1) / 11));
    expect(inLedger.every((h) => h.reason === 'periodic' && h.headSeq === h.seq - 1)).toBe(true);
    const lines = readSignedHeadsFile(signedHeadsFile(second, STATION, 'official'));
    expect(lines?.lines.map((l) => l.entry)).toEqual(inLedger.map((h) => h.seq));
    const last = inLedger[inLedger.length - 1] as { seq: number; headSeq: number };
    expect(r.checked).toContain(`${inLedger.length} signed head(s) in ${signedHeadsFile(second, STATION, 'official')}: the ledger ends at entry ${r.summary?.head.seq}; the last signed head says ${last.headSeq} (signed at entry ${last.seq})`);
  });

  it('the attack: heads.jsonl deleted and the ledger cut short; verify with the second location says where it ends and what the last signed head says', async () => {
    const { file, headsFile } = running(dir, second);
    const full = verifyLedgerFile(file, { signedHeadsDir: second });
    const lastSigned = full.summary?.lastSignedHead as { seq: number; headSeq: number };
    fs.rmSync(headsFile);
    const keep = lastSigned.seq - 15;
    cutTo(file, keep);
    // without the second location the shortened ledger is self-consistent, and verify says what it could not check
    const blind = verifyLedgerFile(file);
    expect(blind.ok).toBe(true);
    expect(blind.unchecked).toContain('second heads location not given (--heads <dir>) and no printed head: shortening not checkable');
    const r = verifyLedgerFile(file, { signedHeadsDir: second });
    expect(r.problem).toMatchObject({ seq: keep + 1, kind: 'truncated' });
    expect(r.problem?.message).toContain(`the ledger ends at entry ${keep}; the last signed head`);
    expect(r.problem?.message).toMatch(/says entry \d+, signed at entry \d+: entries from \d+ on were cut off/);

    const cli = await runCli(['ledger', 'verify', '--data', dir, '--heads', second]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`entry ${keep + 1}: truncated: the ledger ends at entry ${keep}`);
    const tally = await runCli(['ledger', 'tally', '--data', dir, '--heads', second]);
    expect(tally.code).toBe(1);
    expect(tally.stderr).toContain('the ledger does not verify, so it is not tallied');
    const noHeads = await runCli(['ledger', 'verify', '--data', dir]);
    expect(noHeads.code).toBe(0);
    expect(noHeads.stdout).toContain('  not checked: second heads location not given (--heads <dir>)');
    expect((await runCli(['ledger', 'verify', '--data', dir, '--heads', path.join(second, 'nope')])).stderr).toContain('--heads names no directory');
  });

  it('a rewrite of entries before a signed head (hashes recomputed, no printed head) is caught by the ledger alone', () => {
    const { file } = running(dir, second);
    const db = new Database(file);
    db.exec('DROP TRIGGER entries_append_only_update; DROP TRIGGER entries_append_only_delete;');
    // change the first failed login into two failed logins, then re-chain everything after it
    const target = (db.prepare("SELECT seq FROM entries WHERE kind = 4 AND seq > 3 ORDER BY seq LIMIT 1").pluck().get() as number);
    const payload = Buffer.from(db.prepare('SELECT payload FROM entries WHERE seq = ?').pluck().get(target) as Buffer);
    const rewritten = Buffer.from(payload.toString('utf8').replace('"failures":1', '"failures":2'));
    const rows = db.prepare('SELECT seq, kind, payload FROM entries WHERE seq >= ? ORDER BY seq').all(target) as Array<{ seq: number; kind: number; payload: Buffer }>;
    let prev = db.prepare('SELECT entry_hash FROM entries WHERE seq = ?').pluck().get(target - 1) as Buffer;
    for (const row of rows) {
      const p = row.seq === target ? rewritten : row.payload;
      const h = entryHash(row.kind, row.seq, prev, p);
      db.prepare('UPDATE entries SET payload = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?').run(p, prev, h, row.seq);
      prev = h;
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const firstSignedAfter = (verifyLedgerFile(file).problem as { seq: number; kind: string }) ?? { seq: 0, kind: '' };
    expect(firstSignedAfter.kind).toBe('rewritten');
    expect(firstSignedAfter.seq).toBeGreaterThan(target);
    expect(firstSignedAfter.seq - target).toBeLessThanOrEqual(11);
  });

  it("signed heads in the ledger that never reached the second location (the device away when they were signed) are named, not passed over", () => {
    const { file } = running(dir, second);
    const f = signedHeadsFile(second, STATION, 'official');
    const lines = fs.readFileSync(f, 'utf8').trim().split('\n');
    const entries = lines.map((l) => (JSON.parse(l) as { entry: number }).entry);
    expect(entries.length).toBeGreaterThanOrEqual(3);
    // the device held only the first head: the rest were signed while it was away
    fs.writeFileSync(f, `${lines[0] as string}\n`);
    const r = verifyLedgerFile(file, { signedHeadsDir: second });
    expect(r.ok).toBe(true);
    const missing = entries.slice(1);
    expect(r.unchecked).toContainEqual(
      expect.stringContaining(`come after the last signed head in the second location: a cut after entry ${entries[0] as number} is not caught; the ledger holds ${missing.length} signed head(s) after that which never reached it (at entries ${missing.slice(0, 5).join(', ')}`),
    );
    // none reached it: the file holds no line, and the ledger's heads are named all the same
    fs.writeFileSync(f, '');
    expect(verifyLedgerFile(file, { signedHeadsDir: second }).unchecked).toContainEqual(expect.stringContaining(`holds no signed head: shortening after entry 0 not checkable; the ledger holds ${entries.length} signed head(s) after that which never reached it`));
  });

  it('a forged or mismatched line in the second location is named; a torn last line is ignored and reported', () => {
    const { file } = running(dir, second);
    const f = signedHeadsFile(second, STATION, 'official');
    const text = fs.readFileSync(f, 'utf8');
    const lines = text.trim().split('\n');
    const first = JSON.parse(lines[0] as string) as { entry: number; statement: string; signature: string };

    fs.writeFileSync(f, `${text}{"entry":9`);
    const torn = verifyLedgerFile(file, { signedHeadsDir: second });
    expect(torn.ok).toBe(true);
    expect(torn.unchecked).toContain(`${f} ends in a line cut short (a write cut by a crash or a pulled device): it was ignored`);

    const badSig = { ...first, signature: `${first.signature.slice(0, 127)}${first.signature.endsWith('0') ? '1' : '0'}` };
    fs.writeFileSync(f, `${JSON.stringify(badSig)}\n`);
    expect(verifyLedgerFile(file, { signedHeadsDir: second }).problem).toMatchObject({ seq: first.entry, kind: 'bad-signature' });

    fs.writeFileSync(f, `${JSON.stringify({ ...first, entry: first.entry + 1 })}\n`);
    expect(verifyLedgerFile(file, { signedHeadsDir: second }).problem).toMatchObject({ kind: 'invalid', message: expect.stringContaining(`but its statement signs entry ${first.entry - 1}`) });

    fs.writeFileSync(f, 'not json\n');
    expect(() => verifyLedgerFile(file, { signedHeadsDir: second })).toThrow(`${f}: line 1 is not JSON`);
  });

  it('a second location that cannot be written never fails the ballot that triggered the signed head', () => {
    const blocked = path.join(second, 'not-a-dir');
    fs.writeFileSync(blocked, 'a file where the directory should be');
    const file = path.join(dir, 'official.sqlite');
    const l = Ledger.create(file, genesisFor('official', signer));
    const errors: string[] = [];
    expect(() => l.useHeadSigning({ signer, every: 0 })).toThrow('give a whole number of at least 1');
    expect(() => l.useHeadSigning({ signer: testSigner(3), every: 5 })).toThrow('the signing key is not the station key');
    l.useHeadSigning({ signer, every: 3, dir: blocked, onError: (e) => errors.push(e.message) });
    l.recordEvent({ type: 'polls-opened', role: 'captain' });
    const rand = mulberry32(1);
    for (let i = 0; i < 5; i++) {
      const p = l.appendPending(randomCapture(rand));
      expect(p.ok).toBe(true);
      if (p.ok) expect(l.confirmCast(p.value.seq).ok).toBe(true);
    }
    expect(errors.length).toBeGreaterThan(0);
    const paused = l.recordEvent({ type: 'polls-paused', role: 'captain' });
    const signed = l.signHead('pause');
    // the pause event itself may have been the 3rd entry since the last head: a periodic one then came first
    expect(signed.headSeq).toBeGreaterThanOrEqual(paused.seq);
    expect(signed.headSeq).toBeLessThanOrEqual(paused.seq + 1);
    expect(signed.secondLocationError).toMatch(/not-a-dir/);
    l.close();
    const r = verifyLedgerFile(file);
    expect(r.ok).toBe(true);
    expect(r.summary?.cast).toBe(5);
    expect(r.summary?.lastSignedHead).toMatchObject({ reason: 'pause', seq: signed.seq });
  });

  it('a line torn by a crash is cut off before the next one is written, so the file stays readable', () => {
    const file = path.join(dir, 'official.sqlite');
    const l = Ledger.create(file, genesisFor('official', signer));
    l.useHeadSigning({ signer, every: 1000, dir: second });
    l.signHead('start');
    const f = signedHeadsFile(second, STATION, 'official');
    fs.appendFileSync(f, '{"entry":3,"statement":"tallyproof signed h');
    expect(readSignedHeadsFile(f)?.torn).toBe(true);
    const next = l.signHead('pause');
    const read = readSignedHeadsFile(f);
    expect(read?.torn).toBe(false);
    expect(read?.lines.map((x) => x.entry)).toEqual([2, next.seq]);
    l.close();
    expect(verifyLedgerFile(file, { signedHeadsDir: second }).problem).toBeUndefined();
  });

  it('a signed head is never written inside a transaction, where a rollback could take its entry away after the line went out', () => {
    const file = path.join(dir, 'official.sqlite');
    const l = Ledger.create(file, genesisFor('official', signer));
    l.useHeadSigning({ signer, every: 1000, dir: second });
    expect(() => l.transaction(() => l.signHead('pause'))).toThrow('a signed head is written on its own, not inside a transaction');
    expect(readSignedHeadsFile(signedHeadsFile(second, STATION, 'official'))).toBeUndefined();
    expect(l.headNow().seq).toBe(1);
    l.close();
  });

  it('a signed head with a bad signature or naming the wrong entry in the ledger itself is named', () => {
    const { file } = running(dir, second);
    const seq = verifyLedgerFile(file).summary?.lastSignedHead?.seq as number;
    const db = new Database(file);
    db.exec('DROP TRIGGER entries_append_only_update; DROP TRIGGER entries_append_only_delete;');
    const row = db.prepare('SELECT payload, prev_hash FROM entries WHERE seq = ?').get(seq) as { payload: Buffer; prev_hash: Buffer };
    const p = Buffer.from(row.payload);
    p[p.length - 1] = (p[p.length - 1] as number) ^ 1;
    const h = entryHash(EntryKind.signedHead, seq, row.prev_hash, p);
    db.prepare('UPDATE entries SET payload = ?, entry_hash = ? WHERE seq = ?').run(p, h, seq);
    db.prepare('DELETE FROM entries WHERE seq > ?').run(seq);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    expect(verifyLedgerFile(file).problem).toMatchObject({ seq, kind: 'bad-signature' });
  });
});
