import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import * as secp from 'tiny-secp256k1';
import { loadFrom, loadNativeBip340, nativeBip340InputError, NATIVE_BIP340_CANDIDATES, type NativeBip340 } from '../../lib/bip340-native';
import { verifyBip340 } from '../../ballots/identity/libsecp';
import { stationSignatureVerifier } from '../../app/county/log/station-signature';

/**
 * The native BIP-340 verifier (native/bip340, Debian's libsecp256k1) against the BIP's own vectors and, on
 * random and corrupted signatures, against tiny-secp256k1, the WebAssembly build the project signs with and
 * fell back to before. `npm test` builds the addon first (scripts/ensure-system.js); run directly, build it
 * with `node scripts/build-native.js`.
 */

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

interface Vector {
  index: number;
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  valid: boolean;
  comment: string;
}

function vectors(): Vector[] {
  const lines = fs.readFileSync(path.join(__dirname, 'vectors', 'bip340-test-vectors.csv'), 'utf8').trim().split(/\r?\n/);
  expect(lines[0]).toBe('index,secret key,public key,aux_rand,message,signature,verification result,comment');
  return lines.slice(1).map((line) => {
    const [index, , publicKey, , message, signature, result, ...comment] = line.split(',');
    expect(['TRUE', 'FALSE']).toContain(result);
    return { index: Number(index), publicKey: hex(publicKey!), message: hex(message!), signature: hex(signature!), valid: result === 'TRUE', comment: comment.join(',') };
  });
}

function addon(): NativeBip340 {
  const loaded = loadNativeBip340();
  if (!loaded.ok) throw new Error(loaded.error.message);
  return loaded.value;
}

const all = vectors();
const digestSized = all.filter((v) => v.message.length === 32);

describe('BIP-340 test vectors', () => {
  it('has all 19 of the BIP (0-14 with 32-byte messages, 15-18 with 0, 1, 17 and 100 bytes), 10 of them invalid (5-14)', () => {
    expect(all.map((v) => v.index)).toEqual(Array.from({ length: 19 }, (_, i) => i));
    expect(all.slice(15).map((v) => v.message.length)).toEqual([0, 1, 17, 100]);
    expect(all.filter((v) => !v.valid).map((v) => v.index)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it.each(all.map((v) => [v.index, v.comment || (v.valid ? 'valid' : 'invalid'), v] as const))('native: vector %s (%s)', (_i, _c, v) => {
    expect(addon().verify(v.message, v.publicKey, v.signature)).toBe(v.valid);
  });

  it.each(digestSized.map((v) => [v.index, v.comment || (v.valid ? 'valid' : 'invalid'), v] as const))('tiny-secp256k1 (the fallback): vector %s (%s)', (_i, _c, v) => {
    expect(verifyBip340(v.message, v.publicKey, v.signature)).toBe(v.valid);
  });

  it('tiny-secp256k1 throws for the two keys that are not x coordinates (5, 14) where native says "not valid"', () => {
    for (const v of all.filter((x) => x.index === 5 || x.index === 14)) {
      expect(() => secp.verifySchnorr(v.message, v.publicKey, v.signature)).toThrow(/Expected Point/);
      expect(addon().verify(v.message, v.publicKey, v.signature)).toBe(false);
    }
  });

  it('tiny-secp256k1 takes only 32-byte messages, so vectors 15-18 are the native verifier’s alone', () => {
    for (const v of all.slice(15)) expect(() => secp.verifySchnorr(v.message, v.publicKey, v.signature)).toThrow(/Expected Hash/);
  });

  it('the batch form gives every 32-byte vector’s verdict in one call, the two bad keys among them', () => {
    const out = addon().verifyBatch(
      Buffer.concat(digestSized.map((v) => v.message)),
      Buffer.concat(digestSized.map((v) => v.publicKey)),
      Buffer.concat(digestSized.map((v) => v.signature)),
    );
    expect([...out]).toEqual(digestSized.map((v) => (v.valid ? 1 : 0)));
  });
});

describe('native against tiny-secp256k1 on random signatures', () => {
  const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp.isPrivate(k));
  const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
  // what to corrupt: nothing, one bit of the signature, of the message, or of the key
  const flipArb = fc.oneof(
    fc.constant({ where: 'none' as const, bit: 0 }),
    fc.record({ where: fc.constant('signature' as const), bit: fc.integer({ min: 0, max: 511 }) }),
    fc.record({ where: fc.constant('message' as const), bit: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ where: fc.constant('key' as const), bit: fc.integer({ min: 0, max: 255 }) }),
  );

  it('agree on 400 random keys and messages, signed by tiny-secp256k1, each intact or with one bit flipped; single and batch agree', () => {
    const cases: { m: Uint8Array; p: Uint8Array; s: Uint8Array; expected: boolean }[] = [];
    fc.assert(
      fc.property(keyArb, bytes32, bytes32, flipArb, (sk, msg, aux, flip) => {
        const m = Uint8Array.from(msg);
        const p = Uint8Array.from(secp.xOnlyPointFromScalar(sk));
        const s = Uint8Array.from(secp.signSchnorr(m, sk, aux));
        const target = flip.where === 'signature' ? s : flip.where === 'message' ? m : flip.where === 'key' ? p : undefined;
        if (target !== undefined) target[flip.bit >> 3]! ^= 1 << (flip.bit & 7);
        const native = addon().verify(m, p, s);
        expect(native).toBe(verifyBip340(m, p, s));
        expect(native).toBe(flip.where === 'none');
        cases.push({ m, p, s, expected: native });
      }),
      { numRuns: 400 },
    );
    const out = addon().verifyBatch(Buffer.concat(cases.map((c) => c.m)), Buffer.concat(cases.map((c) => c.p)), Buffer.concat(cases.map((c) => c.s)));
    expect([...out]).toEqual(cases.map((c) => (c.expected ? 1 : 0)));
    expect(cases.filter((c) => c.expected).length).toBeGreaterThan(50);
  });

  it('agree that random bytes are no signature (r or s out of range included), and that r ≥ p and s ≥ n fail', () => {
    fc.assert(
      fc.property(bytes32, bytes32, fc.uint8Array({ minLength: 64, maxLength: 64 }), (m, p, s) => {
        expect(addon().verify(m, p, s)).toBe(false);
        expect(verifyBip340(m, p, s)).toBe(false);
      }),
      { numRuns: 300 },
    );
    const sk = new Uint8Array(32).fill(9);
    const m = new Uint8Array(32).fill(3);
    const p = secp.xOnlyPointFromScalar(sk);
    const good = secp.signSchnorr(m, sk, new Uint8Array(32));
    expect(addon().verify(m, p, good)).toBe(true);
    const rTooBig = Uint8Array.from(good);
    rTooBig.fill(0xff, 0, 32);
    const sTooBig = Uint8Array.from(good);
    sTooBig.fill(0xff, 32, 64);
    for (const s of [rTooBig, sTooBig]) {
      expect(addon().verify(m, p, s)).toBe(false);
      expect(verifyBip340(m, p, s)).toBe(false);
    }
  });

  it('a batch where consecutive entries share a key still checks each signature against its own message', () => {
    const sk = new Uint8Array(32).fill(5);
    const p = secp.xOnlyPointFromScalar(sk);
    const msgs = Array.from({ length: 6 }, (_, i) => new Uint8Array(32).fill(i + 1));
    const sigs = msgs.map((m) => Uint8Array.from(secp.signSchnorr(m, sk, new Uint8Array(32))));
    [sigs[2], sigs[3]] = [sigs[3]!, sigs[2]!]; // two signatures swapped: each good, on the other's message
    const bad = Uint8Array.from(p);
    bad[0]! ^= 1;
    const keys = [p, p, p, p, bad, p];
    const out = addon().verifyBatch(Buffer.concat(msgs), Buffer.concat(keys), Buffer.concat(sigs));
    expect([...out]).toEqual([1, 1, 0, 0, 0, 1]);
  });
});

describe('prepared keys (a registry’s stations parsed once)', () => {
  const sks = [1, 2, 3].map((b) => new Uint8Array(32).fill(b));
  const keys = sks.map((sk) => Uint8Array.from(secp.xOnlyPointFromScalar(sk)));
  const notAPoint = all.find((v) => v.index === 5)!.publicKey;

  it('checks each message against the key its index names; a key that is no point verifies nothing; native and tiny-secp256k1 agree', () => {
    const table = [...keys, notAPoint];
    const msgs = Array.from({ length: 8 }, (_, i) => new Uint8Array(32).fill(0x40 + i));
    const signer = [0, 1, 2, 0, 1, 2, 0, 0];
    const sigs = msgs.map((m, i) => Uint8Array.from(secp.signSchnorr(m, sks[signer[i]!]!, new Uint8Array(32))));
    // the indexes: right, right, right, wrong key, right, wrong key, the bad key, right
    const indexes = Uint32Array.from([0, 1, 2, 1, 1, 0, 3, 0]);
    const expected = [1, 1, 1, 0, 1, 0, 0, 1];
    const native = addon().verifyBatchWithKeys(addon().prepareKeys(Buffer.concat(table)), Buffer.concat(msgs), indexes, Buffer.concat(sigs));
    expect([...native]).toEqual(expected);
    for (const kind of ['native', 'wasm'] as const) {
      const v = stationSignatureVerifier(kind);
      if (!v.ok) throw new Error(v.error);
      expect([...v.value.forKeys(table)(Buffer.concat(msgs), indexes, Buffer.concat(sigs))]).toEqual(expected);
    }
  });

  it('refuses an index past the keys, a handle it did not make, and keys that are not whole 32-byte keys', () => {
    const prepared = addon().prepareKeys(Buffer.concat(keys));
    const m = new Uint8Array(32);
    const s = new Uint8Array(64);
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return `${(e as Error).name} ${nativeBip340InputError(e)} ${(e as Error).message}`;
      }
      return undefined;
    };
    expect(codeOf(() => addon().verifyBatchWithKeys(prepared, m, Uint32Array.from([3]), s))).toBe('RangeError ERR_BIP340_KEY_INDEX bip340: key index 3 at 0 is past the 3 prepared keys');
    expect(codeOf(() => addon().verifyBatchWithKeys({} as never, m, Uint32Array.from([0]), s))).toMatch(/^TypeError ERR_BIP340_NOT_KEYS/);
    expect(codeOf(() => addon().verifyBatchWithKeys(prepared, m, Uint8Array.from([0]) as unknown as Uint32Array, s))).toMatch(/^TypeError ERR_BIP340_NOT_BYTES .*Uint32Array/);
    expect(codeOf(() => addon().verifyBatchWithKeys(prepared, m, Uint32Array.from([0, 0]), s))).toMatch(/^RangeError ERR_BIP340_LENGTH .*one index per message \(1\), got 2/);
    expect(codeOf(() => addon().prepareKeys(new Uint8Array(33)))).toMatch(/^RangeError ERR_BIP340_LENGTH/);
    const wasm = stationSignatureVerifier('wasm');
    expect(wasm.ok && codeOf(() => wasm.value.forKeys(keys)(m, Uint32Array.from([3]), s))).toMatch(/^RangeError/);
    expect(wasm.ok && codeOf(() => wasm.value.forKeys([new Uint8Array(31)]))).toMatch(/^RangeError undefined key 0 is 31 bytes/);
    const native = stationSignatureVerifier('native');
    expect(native.ok && codeOf(() => native.value.forKeys([keys[0]!, new Uint8Array(33)]))).toMatch(/^RangeError undefined key 1 is 33 bytes/);
  });
});

describe('what the native verifier refuses', () => {
  const v = all[1]!;
  const refused = (f: () => unknown): { name: string; code: string | undefined; message: string } => {
    try {
      f();
    } catch (e) {
      return { name: (e as Error).name, code: nativeBip340InputError(e), message: (e as Error).message };
    }
    throw new Error('accepted');
  };

  it('keys and signatures of the wrong length: a RangeError with code ERR_BIP340_LENGTH naming the argument', () => {
    expect(refused(() => addon().verify(v.message, v.publicKey.subarray(1), v.signature))).toEqual({ name: 'RangeError', code: 'ERR_BIP340_LENGTH', message: 'bip340: publicKey (x-only) must be 32 bytes, got 31' });
    expect(refused(() => addon().verify(v.message, Buffer.concat([Buffer.from([2]), v.publicKey]), v.signature))).toMatchObject({ code: 'ERR_BIP340_LENGTH', message: expect.stringMatching(/got 33/) });
    expect(refused(() => addon().verify(v.message, v.publicKey, v.signature.subarray(0, 63)))).toMatchObject({ name: 'RangeError', code: 'ERR_BIP340_LENGTH', message: 'bip340: signature must be 64 bytes, got 63' });
  });

  it('what is not a Uint8Array: a TypeError with code ERR_BIP340_NOT_BYTES; a wrong argument count: ERR_BIP340_ARGUMENTS', () => {
    const verify = addon().verify as unknown as (...a: unknown[]) => boolean;
    expect(refused(() => verify(Buffer.from(v.message).toString('hex'), v.publicKey, v.signature))).toEqual({ name: 'TypeError', code: 'ERR_BIP340_NOT_BYTES', message: 'bip340: message must be a Uint8Array' });
    expect(refused(() => verify(v.message, new Uint16Array(16), v.signature))).toMatchObject({ code: 'ERR_BIP340_NOT_BYTES', message: 'bip340: publicKey must be a Uint8Array' });
    expect(refused(() => verify(v.message, v.publicKey, null))).toMatchObject({ code: 'ERR_BIP340_NOT_BYTES' });
    expect(refused(() => verify(v.message, v.publicKey))).toMatchObject({ name: 'TypeError', code: 'ERR_BIP340_ARGUMENTS' });
    expect(refused(() => (addon().verifyBatch as unknown as (...a: unknown[]) => unknown)(v.message))).toMatchObject({ code: 'ERR_BIP340_ARGUMENTS' });
  });

  it('verify and verifyBatch word their argument errors each for its own arguments, checked in order', () => {
    const verify = addon().verify as unknown as (...a: unknown[]) => unknown;
    const verifyBatch = addon().verifyBatch as unknown as (...a: unknown[]) => unknown;
    const bytes = [v.message, v.publicKey, v.signature];
    expect(refused(() => verify(...bytes, v.message))).toEqual({ name: 'TypeError', code: 'ERR_BIP340_ARGUMENTS', message: 'bip340: verify(message, publicKey, signature) takes 3 arguments' });
    expect(refused(() => verifyBatch(v.message, v.publicKey))).toEqual({ name: 'TypeError', code: 'ERR_BIP340_ARGUMENTS', message: 'bip340: verifyBatch(messages, publicKeys, signatures) takes 3 arguments' });
    expect(refused(() => verifyBatch(v.message, v.publicKey, v.signature, v.message))).toMatchObject({ code: 'ERR_BIP340_ARGUMENTS' });
    expect(refused(() => verify(v.message, v.publicKey, [1]))).toEqual({ name: 'TypeError', code: 'ERR_BIP340_NOT_BYTES', message: 'bip340: signature must be a Uint8Array' });
    // the first argument that is not bytes is the one named, before any length is looked at
    expect(refused(() => verifyBatch('ab', 7, v.signature))).toEqual({ name: 'TypeError', code: 'ERR_BIP340_NOT_BYTES', message: 'bip340: messages must be a Uint8Array' });
    expect(refused(() => verifyBatch(new Uint8Array(33), null, v.signature))).toEqual({ name: 'TypeError', code: 'ERR_BIP340_NOT_BYTES', message: 'bip340: publicKeys must be a Uint8Array' });
    expect(refused(() => verifyBatch(new Uint8Array(33), v.publicKey, new Int8Array(64)))).toEqual({ name: 'TypeError', code: 'ERR_BIP340_NOT_BYTES', message: 'bip340: signatures must be a Uint8Array' });
    expect(refused(() => verifyBatch(new Uint8Array(33), v.publicKey, v.signature))).toEqual({ name: 'RangeError', code: 'ERR_BIP340_LENGTH', message: 'bip340: messages must be 32-byte digests end to end, got 33 bytes' });
  });

  it('a batch whose parts do not line up: messages not whole digests, or keys and signatures not one per message', () => {
    const batch = (m: number, p: number, s: number): unknown => addon().verifyBatch(new Uint8Array(m), new Uint8Array(p), new Uint8Array(s));
    expect(refused(() => batch(33, 32, 64))).toMatchObject({ name: 'RangeError', code: 'ERR_BIP340_LENGTH', message: expect.stringMatching(/32-byte digests end to end, got 33/) });
    expect(refused(() => batch(64, 32, 128))).toMatchObject({ code: 'ERR_BIP340_LENGTH', message: 'bip340: publicKeys (32 bytes per message) must be 64 bytes, got 32' });
    expect(refused(() => batch(64, 64, 127))).toMatchObject({ code: 'ERR_BIP340_LENGTH', message: 'bip340: signatures (64 bytes per message) must be 128 bytes, got 127' });
    expect([...(batch(0, 0, 0) as Uint8Array)]).toEqual([]);
  });

  it('reads views at an offset into a larger buffer where they start, not at the buffer’s start', () => {
    const whole = Buffer.concat([Buffer.from('padding'), v.message, v.publicKey, v.signature, Buffer.from('tail')]);
    const at = (o: number, n: number): Uint8Array => new Uint8Array(whole.buffer, whole.byteOffset + o, n);
    expect(addon().verify(at(7, 32), at(39, 32), at(71, 64))).toBe(true);
    expect(addon().verify(at(8, 32), at(39, 32), at(71, 64))).toBe(false);
    expect([...addon().verifyBatch(at(7, 32), at(39, 32), at(71, 64))]).toEqual([1]);
  });
});

describe('loading the addon', () => {
  it('where it is not built, the reason names the build command and the Debian package', () => {
    const r = loadFrom([path.join(os.tmpdir(), 'no-such-dir', 'bip340.node')]);
    expect(r).toEqual({ ok: false, error: { kind: 'native-bip340-unavailable', message: expect.stringMatching(/not built.*node scripts\/build-native\.js.*libsecp256k1-dev/) } });
  });

  it('a file there that is not an addon (a half-written build) is reported, not thrown', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bip340-load-'));
    try {
      const file = path.join(dir, 'bip340.node');
      fs.writeFileSync(file, 'not an ELF file');
      expect(loadFrom([file])).toEqual({ ok: false, error: { kind: 'native-bip340-unavailable', message: expect.stringMatching(/does not load.*rebuild it/) } });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is built where the tests run, and the monitor’s `auto` choice takes it', () => {
    expect(NATIVE_BIP340_CANDIDATES.some((f) => fs.existsSync(f))).toBe(true);
    expect(addon().library).toMatch(/libsecp256k1/);
    const auto = stationSignatureVerifier('auto');
    expect(auto.ok && auto.value.kind).toBe('native');
  });

  it('loads and verifies in several worker threads at once (the monitor runs one per core)', async () => {
    const file = NATIVE_BIP340_CANDIDATES.find((f) => fs.existsSync(f)) as string;
    const v = all[1]!;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData.file);
      let n = 0;
      for (let i = 0; i < 200; i++) n += b.verify(workerData.m, workerData.p, workerData.s) ? 1 : 0;
      parentPort.postMessage(n);`;
    const run = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { file, m: v.message, p: v.publicKey, s: v.signature } });
        w.once('message', (n: number) => void w.terminate().then(() => resolve(n)));
        w.once('error', reject);
      });
    expect(await Promise.all([run(), run(), run()])).toEqual([200, 200, 200]);
  });
});
