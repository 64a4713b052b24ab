/**
 * Durable appends: Ledger.appendPending (one transaction, WAL + synchronous=FULL, fsync per commit) against
 * a bare better-sqlite3 INSERT of the same row shape with the same pragmas, one commit each, alternated in
 * rounds so both see the same disk. Budget: >= 1,000 ballots/s and ratio >= 0.7.
 *   node scripts/run-ts.js test/bench/ledger-append.bench.ts [appends per round=2000] [rounds=3]
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Ledger } from '../../app/ledger/ledger';
import { genesisFor, mulberry32, randomCapture, tempDir } from '../ledger/fixtures';

const N = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 3);

function bare(dir: string, n: number): number {
  const db = new Database(path.join(dir, `bare-${crypto.randomBytes(4).toString('hex')}.sqlite`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE entries (seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, payload BLOB NOT NULL, prev_hash BLOB NOT NULL, entry_hash BLOB NOT NULL) STRICT');
  const ins = db.prepare('INSERT INTO entries (seq, kind, payload, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?)');
  const payload = crypto.randomBytes(110);
  const h = crypto.randomBytes(32);
  const t = process.hrtime.bigint();
  for (let i = 1; i <= n; i++) ins.run(i, 1, payload, h, h);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  db.close();
  return n / s;
}

function ledgerAppends(dir: string, n: number, seed: number): { appends: number; ballots: number } {
  const l = Ledger.create(path.join(dir, `ledger-${seed}.sqlite`), genesisFor());
  const rand = mulberry32(seed);
  const captures = Array.from({ length: n }, () => randomCapture(rand));
  let t = process.hrtime.bigint();
  const seqs: number[] = [];
  for (const c of captures) {
    const p = l.appendPending(c);
    if (!p.ok) throw new Error('refused');
    seqs.push(p.value.seq);
  }
  const appendS = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  for (const s of seqs) if (!l.confirmCast(s).ok) throw new Error('refused');
  const castS = Number(process.hrtime.bigint() - t) / 1e9;
  l.close();
  // a ballot is two durable commits: pending before the drop, cast after it
  return { appends: n / appendS, ballots: n / (appendS + castS) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function main(): void {
  const dir = tempDir('bench-append-');
  bare(dir, 200); // warm up the disk and the module
  ledgerAppends(dir, 200, 999);
  const bares: number[] = [];
  const appends: number[] = [];
  const ballots: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    bares.push(bare(dir, N));
    const l = ledgerAppends(dir, N, r + 1);
    appends.push(l.appends);
    ballots.push(l.ballots);
  }
  const ratio = median(appends) / median(bares);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ledger-append',
      appendsPerRound: N,
      rounds: ROUNDS,
      ledgerAppendsPerSec: Math.round(median(appends)),
      ledgerBallotsPerSec: Math.round(median(ballots)),
      baselineBareInsertsPerSec: Math.round(median(bares)),
      ratio: Number(ratio.toFixed(3)),
      budget: { appendsPerSec: 1000, ratio: 0.7 },
      pass: median(ballots) >= 1000 && ratio >= 0.7,
      all: { ledger: appends.map(Math.round), bare: bares.map(Math.round), ballots: ballots.map(Math.round) },
      dir,
      machine: { cpu: os.cpus()[0]?.model, nproc: os.cpus().length, node: process.version, fs: os.tmpdir() },
    })}\n`,
  );
}

main();
