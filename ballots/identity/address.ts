import { HDKey } from '@scure/bip32';
import { address as btcAddress, payments } from 'bitcoinjs-lib';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { IdentityError } from './errors';
import { identityError } from './errors';
import type { NetworkName } from './networks';
import { NETWORKS } from './networks';
import { derivePublicChild } from './libsecp';
import { serialHalves } from './serial';

/**
 * Ballot address (QR 1): a P2PKH address, in the election network's base58check format, of the public key
 * at the non-hardened path `0/<hi>/<lo>` below the election's xpub, where hi and lo are the serial's two
 * 30-bit halves (characters 1-6 and 7-12 in Crockford base32, see serial.ts). Branch 0 is for ballots;
 * other branches stay free for later uses of the same xpub.
 *
 * Only public material is needed, so a station, an auditor or anyone with election-public.json can check
 * that a printed address belongs to the election and to that serial. The election office, which holds the
 * xprv, can derive the matching private key (to spend or to sign for that address) along the same path.
 */
export const BALLOT_BRANCH = 0;

export function ballotAddressPath(serial: string): string {
  const { hi, lo } = serialHalves(serial);
  return `${BALLOT_BRANCH}/${hi}/${lo}`;
}

interface AddressSource {
  network: NetworkName;
  xpub: string;
}

// Decoding an xpub costs a point decompression; a station checks thousands of ballots against one.
const branchCache = new Map<string, HDKey>();

function ballotBranch(src: AddressSource): HDKey {
  const key = `${src.network}:${src.xpub}`;
  let node = branchCache.get(key);
  if (!node) {
    node = HDKey.fromExtendedKey(src.xpub, NETWORKS[src.network].bip32).deriveChild(BALLOT_BRANCH);
    if (branchCache.size > 64) branchCache.clear();
    branchCache.set(key, node);
  }
  return node;
}

export function deriveBallotPublicKey(pub: AddressSource, serial: string): Uint8Array {
  const { hi, lo } = serialHalves(serial);
  const branch = ballotBranch(pub);
  if (!branch.publicKey || !branch.chainCode) throw new Error('the xpub holds no public key');
  // libsecp256k1 rather than scure's HDKey here: the station derives one of these per scanned side
  const mid = derivePublicChild({ publicKey: branch.publicKey, chainCode: branch.chainCode }, hi);
  const child = mid && derivePublicChild(mid, lo);
  if (!child) throw new Error(`serial ${serial} falls on an invalid BIP32 index (probability 2^-127): it cannot be issued`);
  return child.publicKey;
}

/** The address printed on the ballot with this serial. Throws on a malformed serial or xpub. */
export function deriveBallotAddress(pub: AddressSource, serial: string): string {
  const out = payments.p2pkh({ pubkey: deriveBallotPublicKey(pub, serial), network: NETWORKS[pub.network] }).address;
  if (!out) throw new Error('bitcoinjs-lib produced no address');
  return out;
}

/**
 * The private key of a ballot's address, for the election office (which holds the xprv) when a chain
 * transaction must be signed for that address. Stations never need it.
 */
export function deriveBallotPrivateKey(priv: { network: NetworkName; xprv: string }, serial: string): Uint8Array {
  const { hi, lo } = serialHalves(serial);
  const child = HDKey.fromExtendedKey(priv.xprv, NETWORKS[priv.network].bip32).deriveChild(BALLOT_BRANCH).deriveChild(hi).deriveChild(lo);
  if (!child.privateKey) throw new Error('the xprv holds no private key');
  return child.privateKey;
}

export interface ParsedAddress {
  version: number;
  hash: Uint8Array;
}

export function parseAddress(s: string): Result<ParsedAddress, IdentityError> {
  try {
    // Bounded first: base58 decoding is quadratic and a QR code can hold kilobytes.
    if (s.length < 25 || s.length > 40) throw new Error('length');
    const { version, hash } = btcAddress.fromBase58Check(s);
    return ok({ version, hash });
  } catch {
    return err(
      identityError('malformed-address', 'The blockchain address code (first QR code) is not a valid address or is damaged.', {
        where: 'address',
        found: s.length > 60 ? `${s.slice(0, 60)}…` : s,
      }),
    );
  }
}
