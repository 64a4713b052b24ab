/**
 * Size of one ballot's .ots proof (budget <= 2 KB) for 10,000- and 1,000,000-leaf batches anchored in a
 * 1-transaction and a 3,000-transaction block, and the time to build and check one. Same-run baseline:
 * hashing the batch's leaves once.
 *   node scripts/run-ts.js test/bench/audit-proof-size.bench.ts
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { parseTx } from '../../app/formats/raw-tx';
import { blockMerkleRoot, displayFromInternal } from '../../app/formats/block-proof';
import { anchorCommitment, encodeAnchor } from '../../app/formats/publication-formats';
import { buildBallotOts, checkBallotOts } from '../../app/formats/ots-ballot';
import { MerkleTree, leafHash } from '../../app/ledger/merkle';
import { encodeRecord, recordFromCapture } from '../../app/ledger/record';
import { CONTESTS, mulberry32, randomCapture } from '../ledger/fixtures';

const secondsSince = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;

/** A station anchor as the publisher signs it: one P2WPKH input, the 68-byte OP_RETURN, a P2WPKH change output. */
function anchorTx(data: Uint8Array): string {
  const opReturn = Buffer.concat([Buffer.alloc(8), Buffer.from([data.length + 2, 0x6a, data.length]), Buffer.from(data)]);
  const change = Buffer.concat([Buffer.from('a086010000000000', 'hex'), Buffer.from([22, 0x00, 0x14]), crypto.randomBytes(20)]);
  const input = Buffer.concat([crypto.randomBytes(32), Buffer.alloc(4), Buffer.from([0]), Buffer.from('fdffffff', 'hex')]);
  const witness = Buffer.concat([Buffer.from([2, 71]), crypto.randomBytes(71), Buffer.from([33]), crypto.randomBytes(33)]);
  return Buffer.concat([Buffer.from('020000000001', 'hex'), Buffer.from([1]), input, Buffer.from([2]), opReturn, change, witness, Buffer.alloc(4)]).toString('hex');
}

function measure(leaves: number, blockTxs: number, rand: () => number): Record<string, number> {
  const record = encodeRecord(recordFromCapture(randomCapture(rand), 7, 1, CONTESTS));
  const hashes: Buffer[] = new Array<Buffer>(leaves);
  let t = process.hrtime.bigint();
  for (let i = 0; i < leaves; i++) hashes[i] = crypto.createHash('sha256').update(Buffer.from([0, i & 0xff, i >> 8, i >> 16])).digest();
  const baselineS = secondsSince(t);
  const index = Math.floor(rand() * leaves);
  hashes[index] = leafHash(record);
  const tree = new MerkleTree(hashes);
  const tx = parseTx(anchorTx(encodeAnchor(tree.root(), anchorCommitment(crypto.randomBytes(32), crypto.randomBytes(32)))), { floData: false });
  const txids = Array.from({ length: blockTxs }, () => displayFromInternal(crypto.randomBytes(32)));
  txids[Math.floor(rand() * blockTxs)] = tx.txid;
  const input = {
    record,
    leafIndex: index,
    treeSize: leaves,
    inclusionProof: tree.inclusionProof(index),
    batchRoot: tree.root(),
    anchorTx: tx.stripped,
    blockTxids: txids,
    anchorTxid: tx.txid,
    height: 900_000,
    headerMerkleRoot: blockMerkleRoot(txids.map((x) => Buffer.from(x, 'hex').reverse())),
  };
  t = process.hrtime.bigint();
  const ots = buildBallotOts(input);
  const buildMs = secondsSince(t) * 1000;
  t = process.hrtime.bigint();
  const ok = checkBallotOts(ots, input).ok;
  const checkMs = secondsSince(t) * 1000;
  if (!ok) throw new Error('proof does not check');
  return { leaves, blockTxs, proofBytes: ots.length, inclusionHashes: input.inclusionProof.length, anchorTxStrippedBytes: tx.stripped.length, buildMs, checkMs, baselineLeafHashS: baselineS };
}

function main(): void {
  const rand = mulberry32(7);
  const results = [];
  for (const leaves of [10_000, 1_000_000]) for (const blockTxs of [1, 3_000]) results.push(measure(leaves, blockTxs, rand));
  const worst = Math.max(...results.map((r) => r.proofBytes as number));
  console.log(
    JSON.stringify({
      bench: 'audit-proof-size',
      budgetBytes: 2048,
      worstProofBytes: worst,
      withinBudget: worst <= 2048,
      results,
      machine: { cpu: os.cpus()[0]?.model, nproc: os.cpus().length, node: process.version },
    }),
  );
}

main();
