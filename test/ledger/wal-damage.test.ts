import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ledger } from '../../app/ledger/ledger';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { scanAfterCrash } from '../../app/ledger/wal-scan';
import { genesisFor, mulberry32, randomCapture, tempDir, testSigner } from './fixtures';

const signer = testSigner();

/** A process id that is certainly not running: a child that has exited. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  if (pid === undefined) throw new Error('no child');
  return pid;
}

/**
 * The files of a ledger as a station killed outright leaves them: copied while the writer has it open
 * (the database, its write-ahead log and the log's index, as on disk), with the `.open` marker naming a
 * process that is gone. Every append is its own transaction, so the log ends in one commit frame each.
 */
function killedStation(): { file: string; liveHead: number; pageSize: number } {
  const src = path.join(tempDir('wal-src-'), 'official.sqlite');
  const l = Ledger.create(src, genesisFor('official', signer));
  l.recordEvent({ type: 'polls-opened', role: 'captain' });
  const rand = mulberry32(21);
  for (let i = 0; i < 12; i++) {
    const p = l.appendPending(randomCapture(rand));
    if (!p.ok) throw new Error('append');
    l.confirmCast(p.value.seq);
  }
  // what a running station also logs: a login failure, a rejected sheet, a scanner event
  l.recordEvent({ type: 'login-failed', role: 'captain', detail: { failures: 1 } });
  l.recordEvent({ type: 'ballot-rejected', role: 'system', detail: { reason: 'wrong-election' } });
  l.recordEvent({ type: 'scanner-jam', role: 'system' });
  const liveHead = l.headNow().seq;
  const file = path.join(tempDir('wal-'), 'official.sqlite');
  for (const ext of ['-shm', '-wal', '']) fs.copyFileSync(`${src}${ext}`, `${file}${ext}`);
  fs.writeFileSync(`${file}.open`, `${deadPid()}\n`);
  l.close();
  const wal = fs.readFileSync(`${file}-wal`);
  return { file, liveHead, pageSize: wal.readUInt32BE(8) };
}

describe('a write-ahead log cut short or damaged while the station was down (issue 14, item 2)', () => {
  it('an untouched log of a killed station: nothing lost, nothing reported', () => {
    const k = killedStation();
    expect(scanAfterCrash(k.file)).toMatchObject({ kind: 'scanned', scan: { problems: [] } });
    const r = verifyLedgerFile(k.file);
    expect(r.problem).toBeUndefined();
    expect(r.summary?.head.seq).toBe(k.liveHead);
    expect(r.checked?.some((c) => /^the write-ahead log a stopped station left: \d+ committed frame\(s\), none lost$/.test(c))).toBe(true);
    const l = Ledger.open(k.file, { integrityCheck: true });
    expect(l.startupFindings).toEqual([]);
    expect(l.headNow().seq).toBe(k.liveHead);
    l.close();
  });

  it('the attack: the log cut back by whole frames loses the last entries; verify and the next open both say so, and the log is kept', () => {
    const k = killedStation();
    const wal = `${k.file}-wal`;
    const cut = fs.statSync(wal).size - 2 * (24 + k.pageSize);
    fs.truncateSync(wal, cut);
    const damaged = fs.readFileSync(wal);
    const r = verifyLedgerFile(k.file);
    // SQLite reads around the cut: without the scan this ledger verifies, ending two transactions early
    expect(r.summary?.head.seq).toBeLessThan(k.liveHead);
    expect(r.problem).toMatchObject({ seq: (r.summary?.head.seq as number) + 1, kind: 'truncated' });
    expect(r.problem?.message).toMatch(/its write-ahead log lost committed entries after it: the write-ahead log's index says \d+ frame\(s\) were committed, but only \d+ can be read \(the log holds \d+ whole frame\(s\): it was cut short\)/);

    const l = Ledger.open(k.file, { integrityCheck: true });
    expect(l.startupFindings).toHaveLength(1);
    const f = l.startupFindings[0] as { what: string; message: string; evidence: string[] };
    expect(f.what).toBe('write-ahead-log');
    expect(f.evidence).toHaveLength(2);
    expect(fs.readFileSync(f.evidence[0] as string).equals(damaged)).toBe(true);
    expect(l.headNow().seq).toBeLessThan(k.liveHead);
    l.close();
  });

  it('a damaged frame in the middle of the log: the committed transactions after it are reported lost', () => {
    const k = killedStation();
    const wal = `${k.file}-wal`;
    const b = fs.readFileSync(wal);
    const frames = Math.floor((b.length - 32) / (24 + k.pageSize));
    const at = 32 + Math.floor(frames / 2) * (24 + k.pageSize) + 24 + 100;
    b[at] = (b[at] as number) ^ 0xff;
    fs.writeFileSync(wal, b);
    const r = verifyLedgerFile(k.file);
    expect(r.problem).toMatchObject({ kind: 'truncated' });
    expect(r.problem?.message).toMatch(new RegExp(`frame ${Math.floor(frames / 2) + 1} of the write-ahead log is damaged: \\d+ committed transaction\\(s\\) after it cannot be read`));
    const l = Ledger.open(k.file);
    expect(l.startupFindings.map((x) => x.what)).toEqual(['write-ahead-log']);
    l.close();
  });

  it('a writer killed between a commit frame\'s header and its page (SQLite writes the header first): that transaction was never acknowledged, so nothing is reported lost', () => {
    // the files as they stood after the next-to-last commit (the index says so much was committed)
    const src = path.join(tempDir('wal-src-'), 'official.sqlite');
    const l = Ledger.create(src, genesisFor('official', signer));
    l.recordEvent({ type: 'polls-opened', role: 'captain' });
    for (let i = 0; i < 5; i++) l.recordEvent({ type: 'login-failed', role: 'captain', detail: { failures: 1 } });
    const acknowledged = l.headNow().seq;
    const file = path.join(tempDir('wal-'), 'official.sqlite');
    for (const ext of ['-shm', '-wal', '']) fs.copyFileSync(`${src}${ext}`, `${file}${ext}`);
    const before = fs.readFileSync(`${file}-wal`);
    // the next commit, as the live writer made it: its last frame is the commit frame
    l.recordEvent({ type: 'scanner-jam', role: 'system' });
    const after = fs.readFileSync(`${src}-wal`);
    l.close();
    const pageSize = after.readUInt32BE(8);
    const frameSize = 24 + pageSize;
    const lastAt = after.length - frameSize;
    expect(after.readUInt32BE(lastAt + 4)).not.toBe(0);
    // the kill: every frame of that commit but the last whole, the last one's header written over a page
    // still holding an older frame's bytes (a log reused after a checkpoint is longer than what it holds)
    const torn = Buffer.concat([after.subarray(0, lastAt + 24), Buffer.alloc(pageSize, 0x5a)]);
    expect(torn.length).toBeGreaterThan(before.length);
    fs.writeFileSync(`${file}-wal`, torn);
    fs.writeFileSync(`${file}.open`, `${deadPid()}\n`);
    const scan = scanAfterCrash(file);
    expect(scan).toMatchObject({ kind: 'scanned', scan: { problems: [] } });
    const r = verifyLedgerFile(file);
    expect(r.problem).toBeUndefined();
    expect(r.summary?.head.seq).toBe(acknowledged);
    // the same torn frame with a later commit whole after it would be a loss: still reported (test above)
  });

  it('a log emptied or with a damaged header: the index still says what was committed', () => {
    for (const damage of ['empty', 'header'] as const) {
      const k = killedStation();
      const wal = `${k.file}-wal`;
      if (damage === 'empty') fs.truncateSync(wal, 0);
      else {
        const b = fs.readFileSync(wal);
        b[5] = (b[5] as number) ^ 1;
        fs.writeFileSync(wal, b);
      }
      const r = verifyLedgerFile(k.file);
      expect(r.problem).toMatchObject({ kind: 'truncated' });
      expect(r.problem?.message).toMatch(/the write-ahead log's index says \d+ frame\(s\) were committed, but the log has none that can be read/);
    }
  });

  it('a station still running is not second-guessed: its live log is not scanned, and verify says so', () => {
    const file = path.join(tempDir('wal-'), 'official.sqlite');
    const l = Ledger.create(file, genesisFor('official', signer));
    l.recordEvent({ type: 'polls-opened', role: 'captain' });
    expect(scanAfterCrash(file)).toEqual({ kind: 'writer-running', pid: process.pid });
    const r = verifyLedgerFile(file);
    expect(r.ok).toBe(true);
    expect(r.unchecked).toContain(`a station (process ${process.pid}) has the ledger open: its write-ahead log is live and was not scanned`);
    l.close();
    expect(scanAfterCrash(file)).toEqual({ kind: 'clean' });
  });
});
