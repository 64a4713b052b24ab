import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LedgerError } from '../../app/ledger/errors';
import { Ledger } from '../../app/ledger/ledger';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { ExternalHead } from '../../app/ledger/verify';
import { toHex } from '../../lib/bytes';
import { genesisFor, mulberry32, randomCapture, tempDir } from './fixtures';

function thrown(fn: () => unknown): LedgerError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LedgerError) return e;
    throw e;
  }
  throw new Error('expected a LedgerError, nothing was thrown');
}

/** Appends ballots until the ledger refuses; returns what was acknowledged and the refusal. */
function fillUntilFull(ledger: Ledger, seed: number, max = 100_000): { acked: ExternalHead[]; error: LedgerError } {
  const rand = mulberry32(seed);
  const acked: ExternalHead[] = [];
  for (let i = 0; i < max; i++) {
    try {
      const p = ledger.appendPending(randomCapture(rand));
      if (!p.ok) throw new Error('refused');
      acked.push({ seq: p.value.seq, hash: toHex(p.value.entryHash), what: 'an acknowledged entry' });
      const c = ledger.confirmCast(p.value.seq);
      if (!c.ok) throw new Error('refused');
      acked.push({ seq: c.value.seq, hash: toHex(c.value.entryHash), what: 'an acknowledged entry' });
    } catch (e) {
      if (e instanceof LedgerError) return { acked, error: e };
      throw e;
    }
  }
  throw new Error('never filled up');
}

function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir('mnt-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('storage failures: a clear error naming the file, and nothing committed lost', () => {
  it('a full disk (the file capped with max_page_count)', () => {
    const file = path.join(tempDir(), 'official.sqlite');
    Ledger.create(file, genesisFor()).close();
    const ledger = Ledger.open(file, { maxPageCount: 40 });
    const { acked, error } = fillUntilFull(ledger, 1);
    expect(error.kind).toBe('disk-full');
    expect(error.message).toContain(file);
    expect(error.message).toContain('NOT recorded');
    expect(acked.length).toBeGreaterThan(20);
    // the failed append left no trace in memory either: the same ballot is not "already pending"
    const pendingBefore = ledger.pendingBallots().length;
    const retry = thrown(() => ledger.appendPending(randomCapture(mulberry32(999))));
    expect(retry.kind).toBe('disk-full');
    expect(ledger.pendingBallots().length).toBe(pendingBefore);
    expect(ledger.headNow().seq).toBe(acked[acked.length - 1]?.seq);
    ledger.close();
    const r = verifyLedgerFile(file, { expectedHeads: acked });
    expect(r.problem).toBeUndefined();
    expect(r.summary?.head.seq).toBe(acked[acked.length - 1]?.seq);
  });

  it('a full disk (a real file system that runs out: a small tmpfs when this machine lets us mount one, else the capped file again)', () => {
    const dir = tempDir();
    const mounted = canMountTmpfs();
    if (mounted) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=160k', 'tmpfs', dir]);
    try {
      const file = path.join(dir, 'official.sqlite');
      Ledger.create(file, genesisFor()).close();
      const ledger = Ledger.open(file, mounted ? {} : { maxPageCount: 30 });
      const { acked, error } = fillUntilFull(ledger, 2);
      expect(error.kind === 'disk-full' || error.kind === 'io').toBe(true);
      expect(error.message).toContain(file);
      expect(() => ledger.close()).not.toThrow(/internal/);
      const copy = path.join(tempDir(), 'copy.sqlite');
      for (const suffix of ['', '-wal', '.open']) if (fs.existsSync(file + suffix)) fs.copyFileSync(file + suffix, copy + suffix);
      const r = verifyLedgerFile(copy, { expectedHeads: acked });
      expect(r.problem).toBeUndefined();
    } finally {
      if (mounted) execFileSync('umount', ['-l', dir]);
    }
  });

  it('a read-only ledger file: the station refuses to start on it, verify still reads it', () => {
    const file = path.join(tempDir(), 'official.sqlite');
    const l = Ledger.create(file, genesisFor());
    const rand = mulberry32(3);
    for (let i = 0; i < 5; i++) {
      const p = l.appendPending(randomCapture(rand));
      if (p.ok) l.confirmCast(p.value.seq);
    }
    l.close();
    const root = process.getuid?.() === 0;
    // root ignores permission bits; the immutable attribute stops it as a read-only mount would
    if (root) execFileSync('chattr', ['+i', file]);
    else fs.chmodSync(file, 0o444);
    try {
      const e = thrown(() => Ledger.open(file));
      expect(e.kind).toBe('read-only');
      expect(e.message).toContain(file);
      const r = verifyLedgerFile(file);
      expect(r.problem).toBeUndefined();
      expect(r.summary?.cast).toBe(5);
    } finally {
      if (root) execFileSync('chattr', ['-i', file]);
      else fs.chmodSync(file, 0o644);
    }
  });

  it('a corrupted page: refused with the file named, and the file left exactly as found', () => {
    const file = path.join(tempDir(), 'official.sqlite');
    const l = Ledger.create(file, genesisFor());
    const rand = mulberry32(4);
    let marker = new Uint8Array();
    for (let i = 0; i < 200; i++) {
      const c = randomCapture(rand);
      if (i === 100) marker = c.imageSha256;
      const p = l.appendPending(c);
      if (p.ok) l.confirmCast(p.value.seq);
    }
    l.close();
    const raw = fs.readFileSync(file);
    const pageSize = raw.readUInt16BE(16);
    const at = raw.indexOf(Buffer.from(marker));
    const page = Math.floor(at / pageSize);
    expect(page).toBeGreaterThan(0);
    crypto.randomFillSync(raw, page * pageSize, pageSize);
    fs.writeFileSync(file, raw);
    const before = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

    const e = thrown(() => Ledger.open(file));
    expect(e.kind).toBe('corrupt');
    expect(e.message).toContain(file);
    const v = (() => {
      try {
        return verifyLedgerFile(file);
      } catch (err) {
        return err;
      }
    })();
    // verify either reports the damaged entry or fails with the same clear storage error
    if (v instanceof LedgerError) expect(v.message).toContain(file);
    else expect((v as ReturnType<typeof verifyLedgerFile>).ok).toBe(false);
    expect(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')).toBe(before);
  });

  it('a garbage header: not a database, said plainly', () => {
    const file = path.join(tempDir(), 'official.sqlite');
    Ledger.create(file, genesisFor()).close();
    const raw = fs.readFileSync(file);
    raw.write('this is not sqlite', 0);
    fs.writeFileSync(file, raw);
    const e = thrown(() => Ledger.open(file));
    expect(e.kind).toBe('corrupt');
    expect(e.message).toContain(file);
  });

  it('a missing WAL after a crash: refused until it is put back, then every entry is there', () => {
    const dir = tempDir();
    const file = path.join(dir, 'official.sqlite');
    const l = Ledger.create(file, genesisFor());
    const rand = mulberry32(5);
    const acked: ExternalHead[] = [];
    for (let i = 0; i < 30; i++) {
      const p = l.appendPending(randomCapture(rand));
      if (p.ok) {
        const c = l.confirmCast(p.value.seq);
        if (c.ok) acked.push({ seq: c.value.seq, hash: toHex(c.value.entryHash), what: 'an acknowledged entry' });
      }
    }
    // the files as a power cut would leave them: copied while the writer still has them open
    const crashed = path.join(tempDir(), 'official.sqlite');
    for (const suffix of ['', '-wal', '.open']) fs.copyFileSync(file + suffix, crashed + suffix);
    l.close();
    const wal = fs.readFileSync(`${crashed}-wal`);
    expect(wal.length).toBeGreaterThan(0);
    fs.rmSync(`${crashed}-wal`);

    const e = thrown(() => Ledger.open(crashed));
    expect(e.kind).toBe('missing-wal');
    expect(e.message).toContain(`${crashed}-wal`);
    expect(thrown(() => verifyLedgerFile(crashed)).kind).toBe('missing-wal');
    expect(fs.existsSync(`${crashed}-wal`)).toBe(false);

    fs.writeFileSync(`${crashed}-wal`, wal);
    const back = Ledger.open(crashed);
    back.close();
    expect(verifyLedgerFile(crashed, { expectedHeads: acked }).problem).toBeUndefined();
  });
});
