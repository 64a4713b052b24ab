import fs from 'node:fs';
import { secp256k1, schnorr } from '@noble/curves/secp256k1';
import { payments } from 'bitcoinjs-lib';
import type { Signer } from 'bitcoinjs-lib';
import { openWithPassphrase } from '../../ballots/identity/passphrase-box';
import { toHex } from '../../lib/bytes';
import { StationKeyFileSchema } from '../ledger/station-key';
import type { NetworkParams } from '../../ballots/identity/networks';
import { PublishError } from './errors';

/**
 * The station key as a transaction signer. The same secp256k1 secret that signs checkpoints (BIP 340
 * Schnorr) signs the station's transactions (ECDSA, low-S, RFC 6979 deterministic nonces), so one key,
 * already in a passphrase box, is all a station holds; its funding address on each chain is derived from
 * it (P2WPKH or P2PKH of the compressed public key).
 */
export type AddressType = 'p2wpkh' | 'p2pkh';

export interface StationWallet {
  /** 33-byte compressed public key */
  readonly publicKey: Uint8Array;
  /** BIP 340 x-only key, the one in keys/station.json and the ledger's genesis */
  readonly xOnlyPublicKey: Uint8Array;
  readonly signer: Signer;
  address(network: NetworkParams, type: AddressType): string;
  outputScript(network: NetworkParams, type: AddressType): Uint8Array;
}

export function walletFromSecret(secret: Uint8Array): StationWallet {
  if (secret.length !== 32) throw new PublishError('input', 'a station secret is 32 bytes');
  const publicKey = secp256k1.getPublicKey(secret, true);
  const key = Uint8Array.from(secret);
  const signer: Signer = {
    publicKey,
    sign: (hash: Uint8Array): Uint8Array => secp256k1.sign(hash, key, { lowS: true }).toCompactRawBytes(),
  };
  // payments.* re-validates the key (a point decompression) on every call: one per network and type is enough
  const cache = new Map<string, { address: string; output: Uint8Array }>();
  const pay = (network: NetworkParams, type: AddressType): { address: string; output: Uint8Array } => {
    const k = `${network.name}:${type}`;
    let p = cache.get(k);
    if (p === undefined) {
      const made = type === 'p2wpkh' ? payments.p2wpkh({ pubkey: publicKey, network }) : payments.p2pkh({ pubkey: publicKey, network });
      p = { address: made.address as string, output: made.output as Uint8Array };
      cache.set(k, p);
    }
    return p;
  };
  return {
    publicKey,
    xOnlyPublicKey: schnorr.getPublicKey(key),
    signer,
    address: (network, type) => pay(network, type).address,
    outputScript: (network, type) => pay(network, type).output,
  };
}

/** Unlocks keys/station.json with its passphrase (the same box the ledger's checkpoint signer opens). */
export function unlockStationWallet(keyFile: string, passphrase: string): StationWallet {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
  } catch (e) {
    throw new PublishError('input', `${keyFile}: cannot read the station key: ${(e as Error).message}`);
  }
  const parsed = StationKeyFileSchema.safeParse(json);
  if (!parsed.success) throw new PublishError('input', `${keyFile}: the station key file is malformed`);
  const opened = openWithPassphrase(parsed.data.secret, passphrase);
  if (!opened.ok) throw new PublishError('input', `${keyFile}: wrong passphrase for the station key (or the key file was altered)`);
  const wallet = walletFromSecret(opened.value);
  if (toHex(wallet.xOnlyPublicKey) !== parsed.data.publicKey) throw new PublishError('input', `${keyFile}: the public key in the key file does not match its secret`);
  return wallet;
}
