import { hmac } from '@noble/hashes/hmac';
import { sha512 } from '@noble/hashes/sha512';
import * as secp from 'tiny-secp256k1';

/**
 * The two elliptic-curve operations a station pays for on every scanned side — checking the ballot ID's
 * BIP340 signature and deriving the ballot's address key from the election xpub — done by libsecp256k1
 * (Bitcoin Core's library, compiled to WebAssembly by bitcoinjs' tiny-secp256k1). On this project's
 * 2-core machine they took ~3.7 ms per side in pure JavaScript (noble + scure) and ~0.8 ms here: a fifth of
 * the reader's work after decoding. Signing and key generation stay with noble (the office, not the hot path).
 * The WASM module is synchronous, loaded from node_modules, and allocates nothing per call.
 */

/** BIP340 verification of a 64-byte signature over a 32-byte message; false (never a throw) for bad input. */
export function verifyBip340(message32: Uint8Array, xOnlyPublicKey: Uint8Array, signature: Uint8Array): boolean {
  if (message32.length !== 32 || xOnlyPublicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return secp.verifySchnorr(message32, xOnlyPublicKey, signature);
  } catch {
    // tiny-secp256k1 throws for a public key that is not an x coordinate on the curve (BIP340 vectors 5
    // and 14): for a verifier that is simply "does not verify".
    return false;
  }
}

export interface PublicNode {
  /** Compressed SEC1 public key, 33 bytes. */
  readonly publicKey: Uint8Array;
  readonly chainCode: Uint8Array;
}

/**
 * BIP32 public child derivation (CKDpub) for a non-hardened index: I = HMAC-SHA512(chain code,
 * serP(K) || ser32(i)); child K = point(I_L) + K, chain code I_R. Returns undefined for the
 * once-in-2^127 invalid index (I_L ≥ n or the child at infinity), as BIP32 says to skip it.
 */
export function derivePublicChild(parent: PublicNode, index: number): PublicNode | undefined {
  if (!Number.isInteger(index) || index < 0 || index >= 0x80000000) throw new Error(`not a non-hardened BIP32 index: ${index}`);
  if (parent.publicKey.length !== 33) throw new Error('the parent key must be a 33-byte compressed public key');
  const data = new Uint8Array(37);
  data.set(parent.publicKey, 0);
  new DataView(data.buffer).setUint32(33, index, false);
  const i = hmac(sha512, parent.chainCode, data);
  let child: Uint8Array | null;
  try {
    child = secp.pointAddScalar(parent.publicKey, i.subarray(0, 32), true);
  } catch {
    return undefined; // I_L ≥ n: tiny-secp256k1 refuses the tweak
  }
  if (child === null) return undefined;
  return { publicKey: child, chainCode: i.slice(32) };
}
