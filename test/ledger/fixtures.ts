import { CROCKFORD_ALPHABET } from '../../ballots/identity/serial';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { schnorr } from '@noble/curves/secp256k1';
import type { CheckpointSigner } from '../../app/ledger/checkpoint';
import type { Genesis } from '../../app/ledger/entries';
import type { BallotCapture, LedgerMode } from '../../app/ledger/record';
import { Ledger } from '../../app/ledger/ledger';
import { seededRandom as mulberry32Rng } from '../../firmware-bridge/simulator/faults';

export const CONTESTS: Genesis['election']['contests'] = [
  { id: 'mayor', options: ['ada', 'grace', 'alan'], seats: 1 },
  { id: 'council', options: ['a', 'b', 'c', 'd', 'e'], seats: 2 },
  { id: 'measure-1', options: ['yes', 'no'], seats: 1 },
];

export function tempDir(prefix = 'ledger-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A signer from a fixed seed so tests need no key file or scrypt. */
export function testSigner(seed = 1): CheckpointSigner {
  const secret = new Uint8Array(32);
  secret[31] = seed;
  return { publicKey: schnorr.getPublicKey(secret), sign: (m) => schnorr.sign(m, secret, new Uint8Array(32)) };
}

export function genesisFor(mode: LedgerMode = 'official', signer: CheckpointSigner = testSigner()): Genesis {
  return {
    format: 'tallyproof-ledger/1',
    mode,
    election: { hash: 'ab'.repeat(32), title: 'Test County General', contests: CONTESTS },
    station: { id: 'station-7', number: 7, publicKey: Buffer.from(signer.publicKey).toString('hex') },
  };
}

const B32 = CROCKFORD_ALPHABET;

/** A random 12-character serial from `rand` (deterministic when rand is). */
export function serialFrom(rand: () => number): string {
  let s = '';
  for (let i = 0; i < 12; i++) s += B32[Math.floor(rand() * 32)];
  return s;
}

/** The same seeded mulberry32 generator the scanner simulator replays its soaks from. */
export { seededRandom as mulberry32 } from '../../firmware-bridge/simulator/faults';

/** A plausible ballot: each contest gets 0..seats+1 marks, flags consistent with the count. */
export function randomCapture(rand: () => number, mode: LedgerMode = 'official', ballotId = serialFrom(rand)): BallotCapture {
  const contests = CONTESTS.map((c, contest) => {
    const n = Math.floor(rand() * (c.seats + 2));
    const pool = c.options.map((_, i) => i);
    const options: number[] = [];
    for (let k = 0; k < n && pool.length > 0; k++) options.push(pool.splice(Math.floor(rand() * pool.length), 1)[0] as number);
    options.sort((a, b) => a - b);
    return { contest, options, overvote: options.length > c.seats, undervote: options.length < c.seats, marginal: rand() < 0.1, writeIn: false };
  });
  return {
    ballotId,
    votingId: `${mode === 'test' ? 'T' : 'O'}:abababab:style-1:precinct-12`,
    mode,
    castAsIs: contests.some((c) => c.overvote) && rand() < 0.5,
    imageSha256: new Uint8Array(crypto.createHash('sha256').update(ballotId).digest()),
    readerVersion: 1,
    calibrationVersion: 3,
    contests,
  };
}

/** A ledger file with closed batches of random cast ballots, `sizes[i]` ballots in batch i + 1. */
export function ledgerWithBatches(file: string, sizes: readonly number[], seeds: { signer: number; ballots: number }): void {
  const signer = testSigner(seeds.signer);
  const l = Ledger.create(file, genesisFor('official', signer));
  const rand = mulberry32Rng(seeds.ballots);
  try {
    for (const n of sizes) {
      for (let i = 0; i < n; i++) {
        const p = l.appendPending(randomCapture(rand));
        if (!p.ok) throw new Error(`append refused: ${JSON.stringify(p.error)}`);
        if (!l.confirmCast(p.value.seq).ok) throw new Error('confirm refused');
      }
      if (!l.closeBatch(signer).ok) throw new Error('close refused');
    }
  } finally {
    l.close();
  }
}

/**
 * The capture with a sheet detail as the station writes one: `sides` random image IDs, every target scored
 * (marked options high, a marginal option in each contest flagged marginal), consistent with the capture.
 */
export function withRandomDetail(rand: () => number, c: BallotCapture, sides = 1, kept = true): BallotCapture {
  const hexOf = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 256).toString(16).padStart(2, '0')).join('');
  const contests = c.contests.map((sel) => {
    const def = CONTESTS[sel.contest];
    if (def === undefined) throw new Error(`no contest ${sel.contest}`);
    const scores = def.options.map((_, i) => (sel.options.includes(i) ? 6000 + Math.floor(rand() * 4001) : Math.floor(rand() * 800)));
    const free = def.options.map((_, i) => i).filter((i) => !sel.options.includes(i));
    const marginal = sel.marginal && free.length > 0 ? [free[Math.floor(rand() * free.length)] as number] : [];
    for (const m of marginal) scores[m] = 1500 + Math.floor(rand() * 2000);
    return { contest: sel.contest, scores, marginal };
  });
  // a contest flagged marginal with no unmarked option to be the marginal one is not flagged
  const fixed = c.contests.map((sel, i) => ({ ...sel, marginal: (contests[i]?.marginal.length ?? 0) > 0 }));
  return {
    ...c,
    contests: fixed,
    detail: { sides: Array.from({ length: sides }, () => ({ imageId: hexOf(16), sha256: Uint8Array.from(Buffer.from(hexOf(32), 'hex')), kept })), contests },
  };
}
