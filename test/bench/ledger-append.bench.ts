/**
 * Durable appends: the ledger's entries (appendPending, then confirmCast: one transaction each, WAL +
 * synchronous=FULL, an fsync per commit) against bare better-sqlite3 INSERTs of the same row shapes (a
 * ~110-byte pending row, a small cast row) with the same pragmas, one commit each. The two alternate in
 * blocks of 50 ballots so both meet the same disk (these machines are shared and fsync times swing).
 * A ballot is two durable commits, so ballots/s is half of appends/s.
 * Budget: >= 1,000 ballots/s; ledger appends at >= 0.7 of the bare insert rate.
 *   node scripts/run-ts.js test/bench/ledger-append.bench.ts [ballots=3000]
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Ledger } from '../../app/ledger/ledger';
import { genesisFor, mulberry32, randomCapture, tempDir } from '../ledger/fixtures';

const N = Number(process.argv[2] ?? 3000);
const BLOCK = 50;
const now = (): bigint => process.hrtime.bigint();

function main(): void {
  const dir = tempDir('bench-append-');
  const bare = new Database(path.join(dir, 'bare.sqlite'));
  bare.pragma('journal_mode = WAL');
  bare.pragma('synchronous = FULL');
  bare.exec('CREATE TABLE entries (seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, payload BLOB NOT NULL, prev_hash BLOB NOT NULL, entry_hash BLOB NOT NULL) STRICT');
  const ins = bare.prepare('INSERT INTO entries (seq, kind, payload, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?)');
  const payload = crypto.randomBytes(110);
  const castPayload = crypto.randomBytes(2);
  const h = crypto.randomBytes(32);

  const ledger = Ledger.create(path.join(dir, 'official.sqlite'), genesisFor());
  const rand = mulberry32(1);
  const captures = Array.from({ length: N }, () => randomCapture(rand));

  let bareNs = 0n;
  let bareCount = 0;
  let pendingNs = 0n;
  let castNs = 0n;
  let seq = 0;
  for (let b = 0; b * BLOCK < N; b++) {
    const block = captures.slice(b * BLOCK, (b + 1) * BLOCK);
    let t = now();
    for (let i = 0; i < block.length; i++) ins.run(++seq, 1, payload, h, h);
    for (let i = 0; i < block.length; i++) ins.run(++seq, 2, castPayload, h, h);
    bareNs += now() - t;
    bareCount += 2 * block.length;
    const seqs: number[] = [];
    t = now();
    for (const c of block) {
      const p = ledger.appendPending(c);
      if (!p.ok) throw new Error('refused');
      seqs.push(p.value.seq);
    }
    pendingNs += now() - t;
    t = now();
    for (const s of seqs) if (!ledger.confirmCast(s).ok) throw new Error('refused');
    castNs += now() - t;
  }
  ledger.close();
  bare.close();
  const perSec = (n: number, ns: bigint): number => n / (Number(ns) / 1e9);
  const bareRate = perSec(bareCount, bareNs);
  const appendRate = perSec(2 * N, pendingNs + castNs);
  const pendingRate = perSec(N, pendingNs);
  const castRate = perSec(N, castNs);
  const ballotRate = perSec(N, pendingNs + castNs);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ledger-append',
      ballots: N,
      ledgerAppendsPerSec: Math.round(appendRate),
      ledgerPendingAppendsPerSec: Math.round(pendingRate),
      ledgerCastConfirmsPerSec: Math.round(castRate),
      ledgerBallotsPerSec: Math.round(ballotRate),
      baselineBareInsertsPerSec: Math.round(bareRate),
      ratio: Number((appendRate / bareRate).toFixed(3)),
      budget: { ballotsPerSec: 1000, ratio: 0.7 },
      pass: ballotRate >= 1000 && appendRate / bareRate >= 0.7,
      machine: { cpu: os.cpus()[0]?.model, nproc: os.cpus().length, node: process.version, dir, load: os.loadavg().map((x) => Number(x.toFixed(2))) },
    })}\n`,
  );
}

main();
