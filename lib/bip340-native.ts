import fs from 'node:fs';
import path from 'node:path';
import { err, ok, type Result } from './result';

/**
 * The native BIP-340 verifier (native/bip340: libsecp256k1 through Node-API), about five times faster than
 * tiny-secp256k1's WebAssembly on this project's machine: what lets a county monitor check a million station
 * signatures within its minute. Built by scripts/build-native.js (`npm ci`, `npm run build`, and the checks
 * before `npm test` and `npm start`); where it is not built, `loadNativeBip340` says why instead of loading.
 *
 * Bad input throws (it is a caller's bug, not a verdict): a value that is not a Uint8Array a TypeError with
 * code ERR_BIP340_NOT_BYTES, a wrong length a RangeError with code ERR_BIP340_LENGTH. A public key that is not
 * a curve point's x coordinate is not an error: the signature is not valid.
 */

export interface NativeBip340 {
  /** BIP-340 verification of a 64-byte signature over a message (here a 32-byte digest) under a 32-byte x-only key. */
  verify(message: Uint8Array, publicKey: Uint8Array, signature: Uint8Array): boolean;
  /**
   * n verifications in one call: 32-byte messages, 32-byte keys and 64-byte signatures, each packed end to
   * end; the answer holds 1 (valid) or 0 for each.
   */
  verifyBatch(messages: Uint8Array, publicKeys: Uint8Array, signatures: Uint8Array): Uint8Array;
  /** k keys (32 bytes each, packed) parsed once, for `verifyBatchWithKeys` (a key that is no curve point verifies nothing) */
  prepareKeys(publicKeys: Uint8Array): PreparedBip340Keys;
  /** as `verifyBatch`, each message's key given by its index into prepared keys */
  verifyBatchWithKeys(keys: PreparedBip340Keys, messages: Uint8Array, keyIndexes: Uint32Array, signatures: Uint8Array): Uint8Array;
  /** which library verifies */
  readonly library: string;
}

/** Keys parsed by the addon: an opaque handle, tagged so no other object passes for one. */
export interface PreparedBip340Keys {
  readonly __preparedBip340Keys: never;
}

const INPUT_ERRORS = ['ERR_BIP340_NOT_BYTES', 'ERR_BIP340_LENGTH', 'ERR_BIP340_ARGUMENTS', 'ERR_BIP340_KEY_INDEX', 'ERR_BIP340_NOT_KEYS'] as const;
export type NativeBip340InputErrorCode = (typeof INPUT_ERRORS)[number];

/** A call the native verifier refused (not bytes, wrong length, a key index past the keys): `code` says which. */
export function nativeBip340InputError(e: unknown): NativeBip340InputErrorCode | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return INPUT_ERRORS.find((c) => c === code);
}

export interface NativeBip340Unavailable {
  readonly kind: 'native-bip340-unavailable';
  /** what is missing and the command that builds it */
  readonly message: string;
}

/** where node-gyp puts the addon, from lib/ in the sources and from dist/lib/ in the build */
export const NATIVE_BIP340_CANDIDATES: readonly string[] = [
  path.join(__dirname, '..', 'native', 'bip340', 'build', 'Release', 'bip340.node'),
  path.join(__dirname, '..', '..', 'native', 'bip340', 'build', 'Release', 'bip340.node'),
];

let loaded: Result<NativeBip340, NativeBip340Unavailable> | undefined;

/** The addon, loaded once per thread (Node-API addons load in every worker thread that asks). */
export function loadNativeBip340(): Result<NativeBip340, NativeBip340Unavailable> {
  loaded ??= loadFrom(NATIVE_BIP340_CANDIDATES);
  return loaded;
}

export function loadFrom(candidates: readonly string[]): Result<NativeBip340, NativeBip340Unavailable> {
  const file = candidates.find((c) => fs.existsSync(c));
  const build = 'node scripts/build-native.js (it needs Debian package libsecp256k1-dev)';
  if (file === undefined) return err({ kind: 'native-bip340-unavailable', message: `the native BIP-340 verifier is not built (native/bip340): run ${build}` });
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a compiled addon loads only through require
    const addon = require(file) as Partial<NativeBip340>;
    const functions = [addon.verify, addon.verifyBatch, addon.prepareKeys, addon.verifyBatchWithKeys];
    if (functions.some((f) => typeof f !== 'function') || typeof addon.library !== 'string') {
      return err({ kind: 'native-bip340-unavailable', message: `${file} is not the BIP-340 verifier this code expects: rebuild it with ${build}` });
    }
    return ok(addon as NativeBip340);
  } catch (e) {
    // e.g. libsecp256k1.so.1 removed after the build
    return err({ kind: 'native-bip340-unavailable', message: `the native BIP-340 verifier (${file}) does not load: ${(e as Error).message}; rebuild it with ${build}` });
  }
}
