import fs from 'node:fs';
import path from 'node:path';
import {
  MerkleAccumulator,
  MerkleTree,
  leafHash,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from '../../app/ledger/merkle';
import * as flat from '../../app/ledger/flat-merkle';
import * as parallel from '../../app/ledger/parallel-merkle';

// The shared vectors sit beside the project (../shared/vectors), as they do on CI.
const VECTORS = path.resolve(__dirname, '../../../shared/vectors/rfc6962');
const TESTDATA = path.join(VECTORS, 'testdata');

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
const proofOf = (p: string[] | null): Buffer[] => (p ?? []).map(b64);

interface Vector {
  wantErr: boolean;
  desc: string;
  [k: string]: unknown;
}

function load(kind: string): Array<[string, Vector]> {
  const files = walk(path.join(TESTDATA, kind)).filter((f) => f.endsWith('.json'));
  return files.map((f) => [path.relative(TESTDATA, f), JSON.parse(fs.readFileSync(f, 'utf8')) as Vector]);
}

function outcome(fn: () => void): 'ok' | 'error' {
  try {
    fn();
    return 'ok';
  } catch {
    return 'error';
  }
}

describe('RFC 6962 vectors', () => {
  it('finds the vector directory with all four kinds', () => {
    for (const kind of ['inclusion', 'consistency', 'subtreeinclusion', 'subtreeconsistency']) expect(load(kind).length).toBeGreaterThan(10);
  });

  it.each(load('inclusion'))('inclusion %s', (_name, v) => {
    const got = outcome(() => verifyInclusion(v.leafIdx as number, v.treeSize as number, b64(v.leafHash as string), proofOf(v.proof as string[] | null), b64(v.root as string)));
    expect(got).toBe(v.wantErr ? 'error' : 'ok');
  });

  it.each(load('consistency'))('consistency %s', (_name, v) => {
    const got = outcome(() => verifyConsistency(v.size1 as number, v.size2 as number, b64(v.root1 as string), b64(v.root2 as string), proofOf(v.proof as string[] | null)));
    expect(got).toBe(v.wantErr ? 'error' : 'ok');
  });

  it.each(load('subtreeinclusion'))('subtree inclusion %s', (_name, v) => {
    const got = outcome(() =>
      verifySubtreeInclusion(v.leafIdx as number, v.start as number, v.end as number, b64(v.leafHash as string), proofOf(v.proof as string[] | null), b64(v.root as string)),
    );
    expect(got).toBe(v.wantErr ? 'error' : 'ok');
  });

  it.each(load('subtreeconsistency'))('subtree consistency %s', (_name, v) => {
    const got = outcome(() =>
      verifySubtreeConsistency(v.start as number, v.end as number, v.size as number, b64(v.root1 as string), b64(v.root2 as string), proofOf(v.proof as string[] | null)),
    );
    expect(got).toBe(v.wantErr ? 'error' : 'ok');
  });

  it('builds the published roots for every prefix of the reference leaves', () => {
    const roots = JSON.parse(fs.readFileSync(path.join(VECTORS, 'roots.json'), 'utf8')) as { leafInputsHex: string[]; rootAtSizeHex: Record<string, string>; emptyRootHex: string };
    const leaves = roots.leafInputsHex.map((h) => leafHash(Buffer.from(h, 'hex')));
    expect(merkleRoot([]).toString('hex')).toBe(roots.emptyRootHex);
    for (const [size, hex] of Object.entries(roots.rootAtSizeHex)) {
      const prefix = leaves.slice(0, Number(size));
      expect(merkleRoot(prefix).toString('hex')).toBe(hex);
      expect(new MerkleTree(prefix).root().toString('hex')).toBe(hex);
      const acc = new MerkleAccumulator();
      for (const l of prefix) acc.push(l);
      expect(acc.root().toString('hex')).toBe(hex);
    }
  });
});

describe('proofs the tree makes', () => {
  const leaves = Array.from({ length: 37 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));

  it('every inclusion proof and every consistency proof verifies, and a flipped bit fails', () => {
    for (let n = 1; n <= leaves.length; n++) {
      const tree = new MerkleTree(leaves.slice(0, n));
      for (let i = 0; i < n; i++) {
        const proof = tree.inclusionProof(i);
        expect(outcome(() => verifyInclusion(i, n, leaves[i] as Buffer, proof, tree.root()))).toBe('ok');
        if (proof.length > 0) {
          const bad = proof.map((p) => Buffer.from(p));
          const b0 = bad[0] as Buffer;
          b0[0] = (b0[0] as number) ^ 1;
          expect(outcome(() => verifyInclusion(i, n, leaves[i] as Buffer, bad, tree.root()))).toBe('error');
        }
      }
      for (let m = 1; m <= n; m++) {
        const old = new MerkleTree(leaves.slice(0, m)).root();
        const proof = tree.consistencyProof(m);
        expect(outcome(() => verifyConsistency(m, n, old, tree.root(), proof))).toBe('ok');
        expect(outcome(() => verifyConsistency(m, n, leaves[0] as Buffer, tree.root(), proof))).toBe(m === 1 ? "ok" : "error");
      }
    }
  });
});

describe('flat-buffer Merkle path (used for large batches)', () => {
  it('gives the same leaf order and root as the object path, ties on the 32-bit prefix included', () => {
    const { leafHashesFlat, orderFlat, permuteFlat, rootFlat } = flat;
    for (const n of [0, 1, 2, 3, 5, 8, 13, 64, 100, 257]) {
      const records = Array.from({ length: n }, (_, i) => Buffer.from(`record ${i}`));
      const f = leafHashesFlat(records);
      const objs = records.map((r) => leafHash(r));
      // force ties: give every third leaf the same first 4 bytes as the first leaf
      for (let i = 3; i < n; i += 3) {
        (objs[0] as Buffer).copy(f, i * 32, 0, 4);
        (objs[0] as Buffer).copy(objs[i] as Buffer, 0, 0, 4);
      }
      const order = orderFlat(f, n);
      const sortedObjs = objs.map((o) => o.toString('hex')).sort();
      const sortedFlat = Array.from(order, (i) => f.subarray(i * 32, i * 32 + 32).toString('hex'));
      expect(sortedFlat).toEqual(sortedObjs);
      expect(rootFlat(permuteFlat(f, order), n).toString('hex')).toBe(merkleRoot(sortedObjs.map((h) => Buffer.from(h, 'hex'))).toString('hex'));
    }
  });
});

describe('parallel batch root', () => {
  it('equals the single-threaded root and order', async () => {
    const { parallelBatchRoot } = parallel;
    for (const n of [0, 1, 2, 3, 7, 64, 1000, 4097]) {
      const records = Array.from({ length: n }, (_, i) => Buffer.from(`ballot record ${i} ${'x'.repeat(i % 50)}`));
      const f = flat.leafHashesFlat(records);
      const order = flat.orderFlat(f, n);
      const want = flat.rootFlat(flat.permuteFlat(f, order), n);
      const got = await parallelBatchRoot(records, 2);
      expect(got.root.toString('hex')).toBe(want.toString('hex'));
      expect(Array.from(got.order)).toEqual(Array.from(order));
    }
  });
});
