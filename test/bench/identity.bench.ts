import os from 'node:os';
import { schnorr } from '@noble/curves/secp256k1';
import { sha256 } from '@noble/hashes/sha256';
import type { BallotCodes, VotingId } from '../../ballots/identity';
import { deriveBallotAddress, deterministicRng, generateElectionKeys, issueBallotCodes, randomSerials, verifyBallotCodes } from '../../ballots/identity';

/*
 * Ballot identity throughput on one core: codes issued per second (what a print run or a test deck pays per
 * sheet side) and verified per second (what a station pays per scanned side). The same-run baseline is the
 * bare BIP340 sign / verify of one message, the floor under both, so the ratios are comparable across
 * shared, noisy machines.
 * Usage: node scripts/run-ts.js test/bench/identity.bench.ts [--count N]
 */
function argCount(): number {
  const i = process.argv.indexOf('--count');
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  const n = raw === undefined ? 3000 : Number(raw);
  if (!Number.isInteger(n) || n < 10) throw new Error(`--count must be a whole number >= 10, got ${raw}`);
  return n;
}

function perSecond(count: number, body: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) body(i);
  const ns = Number(process.hrtime.bigint() - t0);
  return Math.round((count / ns) * 1e9);
}

const count = argCount();
const keys = generateElectionKeys('florincoin-main', deterministicRng('bench'));
const serials = randomSerials(count, deterministicRng('bench-serials'));
const vid: VotingId = { electionHashPrefix: '9f86d081884c7d65', precinctId: 'north-1', styleId: 'style-a', side: 'front', mode: 'official' };
const expected = { electionHash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', mode: 'official' as const, precinctId: 'north-1' };

// Warm-up: JIT and the precomputed tables of the curve library.
for (const s of serials.slice(0, 50)) verifyBallotCodes(issueBallotCodes(keys.private, keys.public, vid, s), keys.public, expected);

const codes: BallotCodes[] = new Array<BallotCodes>(count);
const issuePerSec = perSecond(count, (i) => {
  codes[i] = issueBallotCodes(keys.private, keys.public, vid, serials[i] as string);
});
let failures = 0;
const verifyPerSec = perSecond(count, (i) => {
  if (!verifyBallotCodes(codes[i] as BallotCodes, keys.public, expected).ok) failures += 1;
});
if (failures > 0) throw new Error(`${failures} genuine ballots failed to verify`);
const addressPerSec = perSecond(count, (i) => void deriveBallotAddress(keys.public, serials[i] as string));
const serialRuns = 20;
const serialsRate = Math.round(perSecond(serialRuns, () => void randomSerials(count)) * count);

// Baseline: bare BIP340 on 32-byte messages, same key, same run.
const msgs = serials.map((s) => sha256(new TextEncoder().encode(s)));
const zero = new Uint8Array(32);
const sigs: Uint8Array[] = new Array<Uint8Array>(count);
const signPerSec = perSecond(count, (i) => {
  sigs[i] = schnorr.sign(msgs[i] as Uint8Array, keys.private.issuingPrivateKey, zero);
});
const pubBytes = schnorr.getPublicKey(keys.private.issuingPrivateKey);
const schnorrVerifyPerSec = perSecond(count, (i) => void schnorr.verify(sigs[i] as Uint8Array, msgs[i] as Uint8Array, pubBytes));

const cpus = os.cpus();
process.stdout.write(
  `${JSON.stringify({
    bench: 'identity',
    count,
    issuedPerSecond: issuePerSec,
    verifiedPerSecond: verifyPerSec,
    addressesDerivedPerSecond: addressPerSec,
    serialsDrawnPerSecond: serialsRate,
    baseline: { bip340SignPerSecond: signPerSec, bip340VerifyPerSecond: schnorrVerifyPerSec },
    ratioToBaseline: {
      issue: Math.round((issuePerSec / signPerSec) * 100) / 100,
      verify: Math.round((verifyPerSec / schnorrVerifyPerSec) * 100) / 100,
    },
    machine: { cpu: cpus[0]?.model ?? 'unknown', nproc: cpus.length, node: process.version, platform: `${os.platform()} ${os.arch()}` },
  })}\n`,
);
