import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { schnorr } from '@noble/curves/secp256k1';
import { z } from 'zod';
import type { PassphraseBox } from '../../ballots/identity/passphrase-box';
import { DEFAULT_SCRYPT_COST, PassphraseBoxSchema, openWithPassphrase, sealWithPassphrase } from '../../ballots/identity/passphrase-box';
import { fromHex, toHex } from '../../lib/bytes';
import type { CheckpointSigner } from './checkpoint';
import { writeFileDurably } from '../../lib/durable-fs';
import { LedgerError } from './errors';

/**
 * The station key: secp256k1, BIP 340 Schnorr. Made on first start; the secret is kept only inside a
 * passphrase box (scrypt + AES-256-GCM), the public key in clear beside it so that verify, tally and export
 * never need the passphrase.
 */
export const StationKeyFileSchema = z.object({
  format: z.literal('tallyproof-station-key/1'),
  stationId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  algorithm: z.literal('secp256k1-schnorr-bip340'),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  secret: PassphraseBoxSchema,
});
export type StationKeyFile = z.infer<typeof StationKeyFileSchema>;

export interface StationKey extends CheckpointSigner {
  readonly stationId: string;
  /**
   * A 32-byte symmetric key for one purpose (`info`, e.g. "tallyproof image store v1"), derived with
   * HKDF-SHA256 from the station's secret: as locked as the signing key (the passphrase unlocks both), and
   * one purpose's key says nothing of the secret or of another purpose's key.
   */
  deriveKey(info: string): Uint8Array;
}

const DERIVE_SALT = Buffer.from('tallyproof station key derivation v1', 'utf8');

export type ScryptCost = { N: number; r: number; p: number };

export function readStationPublicKey(file: string): { stationId: string; publicKey: Uint8Array } {
  const parsed = readKeyFile(file);
  return { stationId: parsed.stationId, publicKey: fromHex(parsed.publicKey, 'station public key', 32) };
}

function readKeyFile(file: string): StationKeyFile {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LedgerError('key-file', file, `cannot read the station key file: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new LedgerError('key-file', file, 'the station key file is not JSON');
  }
  const parsed = StationKeyFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new LedgerError('key-file', file, `the station key file is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

function signerFor(stationId: string, secret: Uint8Array): StationKey {
  const publicKey = schnorr.getPublicKey(secret);
  return {
    stationId,
    publicKey,
    sign: (m) => schnorr.sign(m, secret),
    deriveKey: (info) => new Uint8Array(crypto.hkdfSync('sha256', secret, DERIVE_SALT, Buffer.from(info, 'utf8'), 32)),
  };
}

/** Unlocks the key at `file`, or makes one there if there is none yet (first start). */
export function loadOrCreateStationKey(file: string, stationId: string, passphrase: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): StationKey {
  if (fs.existsSync(file)) return unlockStationKey(file, passphrase);
  if (passphrase.length < 8) throw new LedgerError('key-file', file, 'a station key passphrase needs at least 8 characters');
  const secret = schnorr.utils.randomSecretKey();
  const box: PassphraseBox = sealWithPassphrase(secret, passphrase, cost);
  const content: StationKeyFile = {
    format: 'tallyproof-station-key/1',
    stationId,
    algorithm: 'secp256k1-schnorr-bip340',
    publicKey: toHex(schnorr.getPublicKey(secret)),
    secret: box,
  };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileDurably(file, `${JSON.stringify(content, null, 2)}\n`, { exclusive: true, mode: 0o600 });
  return signerFor(stationId, secret);
}

export function unlockStationKey(file: string, passphrase: string): StationKey {
  const content = readKeyFile(file);
  const opened = openWithPassphrase(content.secret, passphrase);
  if (!opened.ok) {
    throw new LedgerError(
      'key-file',
      file,
      opened.error.kind === 'wrong-passphrase-or-tampered' ? 'wrong passphrase for the station key (or the key file was altered)' : `the key box is malformed: ${opened.error.detail}`,
    );
  }
  const key = signerFor(content.stationId, opened.value);
  if (toHex(key.publicKey) !== content.publicKey) throw new LedgerError('key-file', file, 'the public key in the key file does not match its secret');
  return key;
}
