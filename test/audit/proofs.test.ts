import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseTx, opReturnPayloads } from '../../app/formats/raw-tx';
import { BlockProofError, blockMerkleRoot, branchOps, displayFromInternal, merkleBranch, rootFromBranch, sha256d } from '../../app/formats/block-proof';
import { anchorCommitment, encodeAnchor } from '../../app/formats/publication-formats';
import { HeaderError, checkHeaderChain, meetsTarget, networkFor, parseHeader, targetFromBits } from '../../app/formats/headers';
import { applyOp, parseDetached, reachedAttestations, serializeDetached } from '../../app/formats/ots';
import { buildCountyOts, checkCountyOts, encodeCountyAnchor, noteDigest } from '../../app/formats/county-anchor';
import type { CountyProofInput } from '../../app/formats/county-anchor';
import { mineHeader } from './regtest-header';
import type { OtsOp } from '../../app/formats/ots';
import type { BallotProofInput } from '../../app/formats/ots-ballot';
import { BallotProofError, anchorPathFor, buildBallotOts, checkBallotOts, inclusionOps } from '../../app/formats/ots-ballot';
import { MerkleTree, leafHash } from '../../app/ledger/merkle';
import { encodeRecord, recordFromCapture } from '../../app/ledger/record';
import { CONTESTS, mulberry32, randomCapture } from '../ledger/fixtures';

const run = (ops: readonly OtsOp[], m: Uint8Array): Uint8Array => ops.reduce((acc, op) => applyOp(op, acc), m);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function varint(n: number): Buffer {
  if (n < 0xfd) return Buffer.from([n]);
  return Buffer.from([0xfd, n & 0xff, n >> 8]);
}

/** A plausible one-input transaction paying to a P2PKH and carrying `data` in an OP_RETURN, witness optional. */
function anchorTx(data: Uint8Array, witness: boolean): Buffer {
  const out1 = Buffer.concat([Buffer.alloc(8, 0), varint(data.length + 2), Buffer.from([0x6a, data.length]), Buffer.from(data)]);
  const p2pkh = Buffer.concat([Buffer.from('76a914', 'hex'), crypto.randomBytes(20), Buffer.from('88ac', 'hex')]);
  const out2 = Buffer.concat([Buffer.from('a086010000000000', 'hex'), varint(p2pkh.length), p2pkh]);
  const input = Buffer.concat([crypto.randomBytes(32), Buffer.alloc(4), Buffer.from([0]), Buffer.from('fdffffff', 'hex')]);
  const body = Buffer.concat([Buffer.from([1]), input, Buffer.from([2]), out1, out2]);
  const wit = Buffer.concat([Buffer.from([2, 71]), crypto.randomBytes(71), Buffer.from([33]), crypto.randomBytes(33)]);
  return Buffer.concat([Buffer.from('02000000', 'hex'), witness ? Buffer.from('0001', 'hex') : Buffer.alloc(0), body, witness ? wit : Buffer.alloc(0), Buffer.alloc(4)]);
}

interface Scenario {
  input: BallotProofInput;
  tree: MerkleTree;
}

function scenario(leaves: number, blockTxs: number, seed: number, witness = true): Scenario {
  const rand = mulberry32(seed);
  const record = encodeRecord(recordFromCapture(randomCapture(rand), 7, 1, CONTESTS));
  const hashes: Buffer[] = Array.from({ length: leaves }, () => crypto.randomBytes(32));
  const leafIndex = Math.floor(rand() * leaves);
  hashes[leafIndex] = leafHash(record);
  const tree = new MerkleTree(hashes);
  const root = tree.root();
  const tx = anchorTx(encodeAnchor(root, anchorCommitment(crypto.randomBytes(32), crypto.randomBytes(32))), witness);
  const parsed = parseTx(tx.toString('hex'), { floData: false });
  const txids = Array.from({ length: blockTxs }, () => displayFromInternal(crypto.randomBytes(32)));
  const at = Math.floor(rand() * blockTxs);
  txids[at] = parsed.txid;
  const merkleRoot = blockMerkleRoot(txids.map((t) => Buffer.from(t, 'hex').reverse()));
  return {
    tree,
    input: {
      record,
      leafIndex,
      treeSize: leaves,
      inclusionProof: tree.inclusionProof(leafIndex),
      batchRoot: root,
      anchorTx: parsed.stripped,
      blockTxids: txids,
      anchorTxid: parsed.txid,
      height: 1234,
      headerMerkleRoot: merkleRoot,
    },
  };
}

describe('RFC 6962 inclusion paths as OpenTimestamps operations', () => {
  it('lead every leaf of random trees to the root', () => {
    const rand = mulberry32(5);
    for (const size of [1, 2, 3, 5, 6, 7, 8, 13, 100, 257, 1000]) {
      const leaves = Array.from({ length: size }, () => crypto.randomBytes(32));
      const tree = new MerkleTree(leaves);
      const picks = size <= 16 ? Array.from({ length: size }, (_, i) => i) : Array.from({ length: 20 }, () => Math.floor(rand() * size));
      for (const i of picks) {
        expect(hex(run(inclusionOps(i, size, tree.inclusionProof(i)), leaves[i] as Buffer))).toBe(hex(tree.root()));
      }
    }
  });

  it('refuse proofs of the wrong length', () => {
    const tree = new MerkleTree(Array.from({ length: 9 }, () => crypto.randomBytes(32)));
    const p = tree.inclusionProof(4);
    expect(() => inclusionOps(4, 9, p.slice(1))).toThrow(/too few/);
    expect(() => inclusionOps(4, 9, [...p, p[0] as Buffer])).toThrow(/too many/);
    expect(() => inclusionOps(9, 9, p)).toThrow(BallotProofError);
  });
});

describe('block merkle branches', () => {
  it('reach the root from every position of odd- and even-sized blocks', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 11, 33]) {
      const txids = Array.from({ length: n }, () => new Uint8Array(crypto.randomBytes(32)));
      const root = blockMerkleRoot(txids);
      for (let i = 0; i < n; i++) {
        const branch = merkleBranch(txids, i);
        expect(hex(rootFromBranch(txids[i] as Uint8Array, branch))).toBe(hex(root));
        expect(hex(run(branchOps(branch), txids[i] as Uint8Array))).toBe(hex(root));
      }
    }
  });

  it("matches Bitcoin's odd-duplication rule on a 3-transaction block", () => {
    const [a, b, c] = [1, 2, 3].map(() => new Uint8Array(crypto.randomBytes(32))) as [Uint8Array, Uint8Array, Uint8Array];
    const cat = (x: Uint8Array, y: Uint8Array): Uint8Array => Buffer.concat([x, y]);
    expect(hex(blockMerkleRoot([a, b, c]))).toBe(hex(sha256d(cat(sha256d(cat(a, b)), sha256d(cat(c, c))))));
  });

  it('refuses a block listing a txid twice (CVE-2012-2459)', () => {
    const a = new Uint8Array(crypto.randomBytes(32));
    expect(() => blockMerkleRoot([a, a])).toThrow(BlockProofError);
  });
});

describe('block headers', () => {
  it('decodes compact targets as Bitcoin does', () => {
    expect(targetFromBits(0x1d00ffff)).toBe(0xffffn << 208n);
    expect(targetFromBits(0x207fffff)).toBe(0x7fffffn << 232n);
    expect(() => targetFromBits(0x04923456)).toThrow(/negative/);
    expect(() => targetFromBits(0x23000001)).toThrow(/overflows/);
  });

  it("parses Bitcoin's real genesis header, which meets its own target", () => {
    // Bitcoin's genesis header
    const genesis = Buffer.from(
      '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c',
      'hex',
    );
    const h = parseHeader(genesis);
    expect(h.hash).toBe('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f');
    expect(meetsTarget(genesis, 'sha256d')).toBe(true);
    expect(networkFor('bitcoin', 'main', h.hash).family).toBe('bitcoin');
    expect(() => networkFor('litecoin-regtest', 'regtest', h.hash)).toThrow(HeaderError);
  });

  it('checks links and work along a chain and names the height that breaks', () => {
    const headers: { height: number; header: Buffer }[] = [];
    let prev: Uint8Array = new Uint8Array(32);
    for (let i = 0; i < 6; i++) {
      const h = mineHeader(prev, crypto.randomBytes(32), 1_700_000_000 + i);
      headers.push({ height: 100 + i, header: h });
      prev = sha256d(h);
    }
    expect(checkHeaderChain(headers, 'sha256d').tipHeight).toBe(105);
    const broken = headers.map((x) => ({ ...x, header: Buffer.from(x.header) }));
    const b3 = (broken[3] as { header: Buffer }).header;
    b3[5] = (b3[5] as number) ^ 1;
    expect(() => checkHeaderChain(broken, 'sha256d')).toThrow(/height 103 does not link/);
    expect(() => checkHeaderChain([headers[0], headers[2]] as { height: number; header: Buffer }[], 'sha256d')).toThrow(/not contiguous|does not link/);
    const hard = Buffer.from(headers[0]?.header as Buffer);
    hard.writeUInt32LE(0x1d00ffff, 72);
    expect(() => checkHeaderChain([{ height: 1, header: hard }], 'sha256d')).toThrow(/does not meet its own sha256d target/);
  });
});

describe('a ballot proof from leaf to block header', () => {
  it('builds a proof that an OpenTimestamps walk takes to the header merkle root, and checks it', () => {
    for (const witness of [false, true]) {
      const { input } = scenario(37, 9, witness ? 3 : 4, witness);
      const ots = buildBallotOts(input);
      const d = parseDetached(ots);
      expect(hex(d.digest)).toBe(hex(leafHash(input.record)));
      const reached = reachedAttestations(d);
      expect(reached).toHaveLength(1);
      expect(reached[0]?.attestation).toEqual({ kind: 'bitcoin', height: 1234 });
      expect(hex(reached[0]?.msg as Uint8Array)).toBe(hex(input.headerMerkleRoot));
      expect(checkBallotOts(ots, input)).toEqual({ ok: true, height: 1234 });
    }
  });

  it('refuses a proof with any byte changed, and one for another record', () => {
    const { input } = scenario(100, 7, 9);
    const ots = Buffer.from(buildBallotOts(input));
    for (const at of [40, 80, ots.length - 40, ots.length - 2]) {
      const bad = Buffer.from(ots);
      bad[at] = (bad[at] as number) ^ 0x01;
      expect(checkBallotOts(bad, input).ok).toBe(false);
    }
    const other = scenario(100, 7, 10);
    expect(checkBallotOts(ots, other.input).problem).toMatch(/leaf hash/);
  });

  it('gives the same bytes with the batch-wide anchor path computed once', () => {
    const { input } = scenario(50, 11, 13);
    expect(hex(buildBallotOts({ ...input, anchorPath: anchorPathFor(input) }))).toBe(hex(buildBallotOts(input)));
    // a wrong cached path is caught by the end-to-end check
    expect(() => buildBallotOts({ ...input, anchorPath: anchorPathFor(input).slice(0, -1) })).toThrow(/does not reach the header merkle root/);
  });

  it('will not build a proof through a transaction that does not carry the root', () => {
    const { input } = scenario(10, 3, 11);
    expect(() => buildBallotOts({ ...input, batchRoot: crypto.randomBytes(32) })).toThrow(BallotProofError);
    expect(() => buildBallotOts({ ...input, headerMerkleRoot: crypto.randomBytes(32) })).toThrow(/merkle root/);
  });

  it('stays under 2 KB for a 10,000-leaf batch anchored in a 3,000-transaction block', () => {
    const { input } = scenario(10_000, 3_000, 12);
    const ots = buildBallotOts(input);
    expect(checkBallotOts(ots, input).ok).toBe(true);
    expect(ots.length).toBeLessThanOrEqual(2048);
  });
});

describe("the .ots checks' first steps (read, file digest, attestations), shared by the ballot and the county check", () => {
  /** A county log of `entries` station checkpoints, one of them anchored by a "TPC" v1 transaction in a block. */
  function countyScenario(entries: number, seed: number): CountyProofInput {
    const rand = mulberry32(seed);
    const texts = Array.from({ length: entries }, (_, i) => Buffer.from(`station-${i}\n${entries}\nroot ${crypto.randomBytes(32).toString('hex')}\n`));
    const index = Math.floor(rand() * entries);
    const tree = new MerkleTree(texts.map((t) => leafHash(t)));
    const root = tree.root();
    const parsed = parseTx(anchorTx(encodeCountyAnchor({ root, size: entries, noteDigest: noteDigest('a cosigned note') }), true).toString('hex'), { floData: false });
    const blockTxids = [parsed.txid, ...Array.from({ length: 4 }, () => displayFromInternal(crypto.randomBytes(32)))];
    return {
      entry: texts[index] as Buffer,
      index,
      treeSize: entries,
      inclusionProof: tree.inclusionProof(index),
      root,
      anchorTx: parsed.stripped,
      anchorTxid: parsed.txid,
      blockTxids,
      height: 1234,
      headerMerkleRoot: blockMerkleRoot(blockTxids.map((t) => Buffer.from(t, 'hex').reverse())),
      attestation: 'bitcoin',
    };
  }
  const pendingOnly = (leaf: Uint8Array): Uint8Array => serializeDetached({ fileHashOp: 'sha256', digest: leaf, timestamp: { items: [{ attestation: { kind: 'pending', uri: 'https://calendar.test' } }] } });
  const notAnOts = new Uint8Array(40);

  it("tell a ballot's auditor exactly what is wrong", () => {
    const { input } = scenario(20, 5, 21);
    const other = scenario(20, 5, 22);
    expect(checkBallotOts(buildBallotOts(input), input)).toEqual({ ok: true, height: 1234 });
    expect(checkBallotOts(notAnOts, input)).toEqual({ ok: false, problem: 'not a readable .ots: not an OpenTimestamps proof (the header magic is wrong)' });
    expect(checkBallotOts(buildBallotOts(other.input), input)).toEqual({ ok: false, problem: "its file digest is not this ballot record's leaf hash" });
    expect(checkBallotOts(pendingOnly(leafHash(input.record)), input)).toEqual({ ok: false, problem: 'it has no block header attestation' });
    expect(checkBallotOts(buildBallotOts({ ...input, height: 1235 }), input)).toEqual({ ok: false, problem: 'no attestation reaches the merkle root of block 1234 (attests 1235)' });
  });

  it("tell a county proof's auditor exactly what is wrong", () => {
    const input = countyScenario(9, 23);
    const other = countyScenario(9, 24);
    expect(checkCountyOts(buildCountyOts(input), input)).toEqual({ ok: true });
    expect(checkCountyOts(notAnOts, input)).toEqual({ ok: false, problem: 'not a readable .ots: not an OpenTimestamps proof (the header magic is wrong)' });
    expect(checkCountyOts(buildCountyOts(other), input)).toEqual({ ok: false, problem: "its file digest is not this station checkpoint's leaf hash" });
    expect(checkCountyOts(pendingOnly(leafHash(input.entry)), input)).toEqual({ ok: false, problem: 'no attestation reaches the merkle root of block 1234' });
    expect(checkCountyOts(buildCountyOts({ ...input, height: 1235 }), input)).toEqual({ ok: false, problem: 'no attestation reaches the merkle root of block 1234' });
  });
});

describe('transactions', () => {
  it("parses the hello-world proof's real Bitcoin transaction to its txid", () => {
    const d = parseDetached(fs.readFileSync(path.join(__dirname, 'vectors', 'hello-world.txt.ots')));
    const path0 = reachedAttestations(d)[0]?.path as OtsOp[];
    const txBytes = run(path0.slice(0, 3), d.digest);
    const tx = parseTx(hex(txBytes), { floData: false });
    expect(tx.txid).toBe('7e9f0f7d9daa2d9e51b2e22f4abe814c3f90539afa778a9bef88dc64627cb2ec');
    expect(tx.outputs).toHaveLength(2);
    expect(opReturnPayloads(tx)).toEqual([]);
  });

  it('reads a real Florincoin mainnet transaction: floData after nLockTime, inside the txid', () => {
    // the other engineer's vector (test/chain/vectors, sourced there): block 4666153
    const v = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'chain', 'vectors', 'flo-mainnet-b704842d.json'), 'utf8')) as { txid: string; hex: string; floData: string };
    const tx = parseTx(v.hex, { floData: true });
    expect(tx.txid).toBe(v.txid);
    expect(Buffer.from(tx.floData as Uint8Array).toString('utf8')).toBe(v.floData);
  });

  it('strips witnesses for the txid and reads a Florincoin floData tail', () => {
    const tx = anchorTx(new Uint8Array(68).fill(9), true);
    const p = parseTx(tx.toString('hex'), { floData: false });
    expect(p.stripped.length).toBeLessThan(tx.length);
    expect(hex(opReturnPayloads(p)[0] as Uint8Array)).toBe('09'.repeat(68));
    const flo = Buffer.concat([tx, Buffer.from([3]), Buffer.from('abc')]);
    const pf = parseTx(flo.toString('hex'), { floData: true });
    expect(Buffer.from(pf.floData as Uint8Array).toString()).toBe('abc');
    expect(pf.txid).not.toBe(p.txid);
    expect(() => parseTx(flo.toString('hex'), { floData: false })).toThrow(/bytes after the end/);
  });
});

