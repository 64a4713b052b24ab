import { loadNativeBip340, type NativeBip340 } from '../../../lib/bip340-native';
import { verifyBip340 } from '../../../ballots/identity/libsecp';
import { assertNever, err, ok, type Result } from '../../../lib/result';

/**
 * Who checks a station entry's BIP-340 signature. Both verifiers are libsecp256k1 and agree on every BIP-340
 * vector and on random and corrupted signatures (test/native/bip340-native.test.ts); they differ in speed
 * only: the native build (lib/bip340-native.ts) takes ≈45 µs a signature on this project's machine,
 * tiny-secp256k1's WebAssembly ≈250 µs. A monitor of a million entries needs the native one for its minute.
 *
 * Where the native one is not built, `auto` falls back to WebAssembly and says so, with the reason: the
 * verdicts are the same, so an observer without a compiler can still monitor, and the output names the
 * verifier so nobody takes the slower run for a slower log. `native` refuses instead (the benchmark).
 */

export type VerifierChoice = 'auto' | 'native' | 'wasm';

export interface StationSignatureVerifier {
  readonly kind: 'native' | 'wasm';
  /** for people: the library, and why not the native one where it fell back */
  readonly description: string;
  /** one signature over a 32-byte digest under a 32-byte x-only key */
  verify(digest: Uint8Array, publicKey: Uint8Array, signature: Uint8Array): boolean;
  /** n signatures: digests and keys 32 bytes each, signatures 64, packed end to end; 1 or 0 for each */
  verifyBatch(digests: Uint8Array, publicKeys: Uint8Array, signatures: Uint8Array): Uint8Array;
  /**
   * A batch check against a fixed set of keys (a registry's stations), each parsed once: n digests and
   * signatures packed as for `verifyBatch`, each one's key given by its index into `keys`.
   */
  forKeys(keys: readonly Uint8Array[]): (digests: Uint8Array, keyIndexes: Uint32Array, signatures: Uint8Array) => Uint8Array;
}

function keysOf32(keys: readonly Uint8Array[]): void {
  const bad = keys.findIndex((k) => k.length !== 32);
  if (bad >= 0) throw new RangeError(`key ${bad} is ${keys[bad]?.length} bytes, not a 32-byte x-only key`);
}

function native(addon: NativeBip340): StationSignatureVerifier {
  return {
    kind: 'native',
    description: `${addon.library} through native/bip340`,
    verify: (d, p, s) => addon.verify(d, p, s),
    verifyBatch: (d, p, s) => addon.verifyBatch(d, p, s),
    forKeys: (keys) => {
      keysOf32(keys);
      const prepared = addon.prepareKeys(Buffer.concat(keys));
      return (d, i, s) => addon.verifyBatchWithKeys(prepared, d, i, s);
    },
  };
}

function wasm(why: string | undefined): StationSignatureVerifier {
  const verifyBatch = (digests: Uint8Array, publicKeys: Uint8Array, signatures: Uint8Array): Uint8Array => {
    const n = digests.length / 32;
    if (!Number.isInteger(n) || publicKeys.length !== n * 32 || signatures.length !== n * 64) {
      throw new RangeError(`verifyBatch: ${n} digests need ${n * 32} key and ${n * 64} signature bytes, got ${publicKeys.length} and ${signatures.length}`);
    }
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = verifyBip340(digests.subarray(i * 32, i * 32 + 32), publicKeys.subarray(i * 32, i * 32 + 32), signatures.subarray(i * 64, i * 64 + 64)) ? 1 : 0;
    }
    return out;
  };
  return {
    kind: 'wasm',
    description: `tiny-secp256k1 (WebAssembly, about 5 times slower)${why === undefined ? '' : `: ${why}`}`,
    verify: verifyBip340,
    verifyBatch,
    forKeys: (keys) => {
      keysOf32(keys);
      return (digests, keyIndexes, signatures) => {
        if (keyIndexes.some((k) => k >= keys.length)) throw new RangeError(`a key index past the ${keys.length} keys`);
        return verifyBatch(digests, Buffer.concat([...keyIndexes].map((k) => keys[k] as Uint8Array)), signatures);
      };
    },
  };
}

/** The verifier `choice` names: `native` is an error where the addon is not built; `auto` falls back. */
export function stationSignatureVerifier(choice: VerifierChoice = 'auto'): Result<StationSignatureVerifier, string> {
  switch (choice) {
    case 'wasm':
      return ok(wasm(undefined));
    case 'native': {
      const addon = loadNativeBip340();
      return addon.ok ? ok(native(addon.value)) : err(addon.error.message);
    }
    case 'auto':
      return ok(auto());
    default:
      return assertNever(choice, 'verifier choice');
  }
}

function auto(): StationSignatureVerifier {
  const addon = loadNativeBip340();
  return addon.ok ? native(addon.value) : wasm(addon.error.message);
}

let byDefault: StationSignatureVerifier | undefined;

/** The verifier for one-at-a-time checks (the log's add-entry): native where built, else WebAssembly. */
export function defaultStationSignatureVerifier(): StationSignatureVerifier {
  byDefault ??= auto();
  return byDefault;
}
