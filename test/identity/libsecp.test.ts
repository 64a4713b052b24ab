import fs from 'node:fs';
import path from 'node:path';
import { schnorr } from '@noble/curves/secp256k1';
import { HDKey } from '@scure/bip32';
import fc from 'fast-check';
import { derivePublicChild, verifyBip340 } from '../../ballots/identity/libsecp';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

interface Bip340Vector {
  index: string;
  secretKey: string;
  publicKey: string;
  auxRand: string;
  message: string;
  signature: string;
  valid: boolean;
  comment: string;
}

function bip340Vectors(): Bip340Vector[] {
  const lines = fs.readFileSync(path.join(__dirname, 'vectors', 'bip340-test-vectors.csv'), 'utf8').trim().split('\n');
  return lines.slice(1).map((line) => {
    const [index, secretKey, publicKey, auxRand, message, signature, result, ...comment] = line.split(',');
    return { index: index!, secretKey: secretKey!, publicKey: publicKey!, auxRand: auxRand!, message: message!, signature: signature!, valid: result === 'TRUE', comment: comment.join(',') };
  });
}

describe('BIP340 verification through libsecp256k1', () => {
  const vectors = bip340Vectors();

  it('has every vector of the BIP', () => {
    expect(vectors.map((v) => v.index)).toEqual(Array.from({ length: 15 }, (_, i) => String(i)));
  });

  it.each(vectors.map((v) => [v.index, v.comment || (v.valid ? 'valid' : 'invalid'), v] as const))('vector %s (%s)', (_i, _c, v) => {
    expect(verifyBip340(hex(v.message), hex(v.publicKey), hex(v.signature))).toBe(v.valid);
  });

  it('the signer (noble) reproduces the BIP’s signatures, so what the office issues is what the station checks', () => {
    const signing = vectors.filter((v) => v.secretKey !== '');
    expect(signing.length).toBe(4);
    for (const v of signing) {
      expect(Buffer.from(schnorr.sign(hex(v.message), hex(v.secretKey), hex(v.auxRand))).toString('hex').toUpperCase()).toBe(v.signature);
    }
  });

  it('agrees with noble on random keys, messages, and signatures with one bit flipped', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: -1, max: 64 * 8 - 1 }), (seed, msg, flip) => {
        const sk = new Uint8Array(seed);
        sk[0] = (sk[0]! % 0x7f) + 1; // below the curve order, never zero
        const pub = schnorr.getPublicKey(sk);
        const sig = schnorr.sign(msg, sk, new Uint8Array(32));
        if (flip >= 0) sig[flip >> 3]! ^= 1 << (flip & 7);
        expect(verifyBip340(msg, pub, sig)).toBe(schnorr.verify(sig, msg, pub));
        expect(verifyBip340(msg, pub, sig)).toBe(flip < 0);
      }),
      { numRuns: 200 },
    );
  });

  it('says false, never throws, for inputs of the wrong length', () => {
    const v = vectors[1]!;
    expect(verifyBip340(hex(v.message).subarray(1), hex(v.publicKey), hex(v.signature))).toBe(false);
    expect(verifyBip340(hex(v.message), hex(`02${v.publicKey}`), hex(v.signature))).toBe(false);
    expect(verifyBip340(hex(v.message), hex(v.publicKey), hex(v.signature).subarray(0, 63))).toBe(false);
    expect(verifyBip340(hex(v.message), hex(v.publicKey), hex(v.signature))).toBe(true);
  });
});

describe('BIP32 public child derivation through libsecp256k1', () => {
  it('BIP32 test vector 1: M/0H/1 from the xpub of m/0H', () => {
    const parent = HDKey.fromExtendedKey('xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw');
    const expected = HDKey.fromExtendedKey('xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ');
    const child = derivePublicChild({ publicKey: parent.publicKey!, chainCode: parent.chainCode! }, 1);
    expect(Buffer.from(child!.publicKey).toString('hex')).toBe(Buffer.from(expected.publicKey!).toString('hex'));
    expect(Buffer.from(child!.chainCode).toString('hex')).toBe(Buffer.from(expected.chainCode!).toString('hex'));
  });

  it('matches scure’s HDKey for random parents and indices, two levels deep', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 0, max: 0x7fffffff }), (seed, a, b) => {
        const root = HDKey.fromMasterSeed(seed);
        const node = HDKey.fromExtendedKey(root.publicExtendedKey);
        const ours = derivePublicChild(derivePublicChild({ publicKey: node.publicKey!, chainCode: node.chainCode! }, a)!, b)!;
        const theirs = node.deriveChild(a).deriveChild(b);
        expect(Buffer.from(ours.publicKey).equals(Buffer.from(theirs.publicKey!))).toBe(true);
        expect(Buffer.from(ours.chainCode).equals(Buffer.from(theirs.chainCode!))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses hardened indices and malformed parents with a clear error', () => {
    const node = { publicKey: new Uint8Array(33).fill(2), chainCode: new Uint8Array(32) };
    expect(() => derivePublicChild(node, 0x80000000)).toThrow(/non-hardened/);
    expect(() => derivePublicChild(node, -1)).toThrow(/non-hardened/);
    expect(() => derivePublicChild({ ...node, publicKey: new Uint8Array(65) }, 0)).toThrow(/33-byte/);
  });
});
