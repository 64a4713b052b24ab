import { readBoundedText } from '../bounded-file';
import fs from 'node:fs';
import path from 'node:path';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils';
import { HDKey } from '@scure/bip32';
import { z } from 'zod';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { IdentityError } from './errors';
import { identityError } from './errors';
import type { NetworkName } from './networks';
import { NETWORK_NAMES, NETWORKS } from './networks';
import { openWithPassphrase, PassphraseBoxSchema, sealWithPassphrase } from './passphrase-box';
import type { RandomSource } from './serial';
import { secureRandom } from './serial';

/**
 * An election's keys come from one 32-byte seed, as a BIP32 tree with the network's version bytes:
 * - `m/0'` is the address account: its xpub is public (stations, auditors), its xprv stays with the office;
 *   ballot addresses hang below it at `0/<hi>/<lo>` (address.ts). Hardened, so that a leaked ballot private
 *   key plus the xpub exposes that account only, never the issuing key.
 * - `m/1'`'s private key is the issuing key, which signs ballot IDs (BIP340 Schnorr; its public key is
 *   published x-only, 32 bytes hex).
 * The seed itself is not kept: the two keys above are all anyone ever needs.
 */
export const PUBLIC_FORMAT = 'tallyproof-election-public/1';
export const PRIVATE_FORMAT = 'tallyproof-election-private/1';
export const PUBLIC_FILE_NAME = 'election-public.json';
export const PRIVATE_FILE_NAME = 'election-private.json';
const ACCOUNT_PATH = "m/0'";
const ISSUING_PATH = "m/1'";

export interface ElectionPublicKeys {
  format: typeof PUBLIC_FORMAT;
  network: NetworkName;
  /** BIP340 x-only public key, 64 lower-case hex characters. */
  issuingPublicKey: string;
  /** The address account's extended public key, in the network's own version bytes. */
  xpub: string;
  /** `XXXX-XXXX-XXXX-XXXX`: what a captain compares on the zero tape against the office's copy. */
  fingerprint: string;
}

export interface ElectionPrivateKeys {
  issuingPrivateKey: Uint8Array;
  xprv: string;
  network: NetworkName;
}

export interface ElectionKeys {
  public: ElectionPublicKeys;
  private: ElectionPrivateKeys;
}

const FINGERPRINT_PATTERN = /^[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$/;

export const ElectionPublicKeysSchema = z
  .object({
    format: z.literal(PUBLIC_FORMAT),
    network: z.enum(NETWORK_NAMES),
    issuingPublicKey: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (a BIP340 public key)'),
    xpub: z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{100,120}$/, 'must be a base58 extended public key'),
    fingerprint: z.string().regex(FINGERPRINT_PATTERN, 'must look like XXXX-XXXX-XXXX-XXXX (hex)'),
  })
  .strict();

const PrivateFileSchema = z
  .object({
    format: z.literal(PRIVATE_FORMAT),
    network: z.enum(NETWORK_NAMES),
    fingerprint: z.string().regex(FINGERPRINT_PATTERN, 'must look like XXXX-XXXX-XXXX-XXXX (hex)'),
    sealed: PassphraseBoxSchema,
  })
  .strict();

const SealedSecretsSchema = z
  .object({
    network: z.enum(NETWORK_NAMES),
    issuingPrivateKey: z.string().regex(/^[0-9a-f]{64}$/),
    xprv: z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{100,120}$/),
  })
  .strict();

export function computeFingerprint(network: NetworkName, issuingPublicKey: string, xpub: string): string {
  const h = bytesToHex(sha256(new TextEncoder().encode(`${PUBLIC_FORMAT}\0${network}\0${issuingPublicKey}\0${xpub}`)));
  return h.slice(0, 16).toUpperCase().replace(/(.{4})(?=.)/g, '$1-');
}

export function generateElectionKeys(network: NetworkName, rng: RandomSource = secureRandom): ElectionKeys {
  if (!(NETWORK_NAMES as readonly string[]).includes(network)) throw new Error(`unknown network ${JSON.stringify(network)}`);
  const seed = rng(32);
  if (seed.length !== 32) throw new Error(`the random source returned ${seed.length} bytes, 32 were asked for`);
  const master = HDKey.fromMasterSeed(seed, NETWORKS[network].bip32);
  const account = master.derive(ACCOUNT_PATH);
  const issuing = master.derive(ISSUING_PATH).privateKey;
  if (!issuing) throw new Error('BIP32 derivation gave no issuing private key');
  const priv: ElectionPrivateKeys = { issuingPrivateKey: Uint8Array.from(issuing), xprv: account.privateExtendedKey, network };
  return { public: publicKeysOf(priv), private: priv };
}

// Deriving the public half costs two point multiplications; issuing checks it once per key object, not per ballot.
const publicOfPrivate = new WeakMap<ElectionPrivateKeys, ElectionPublicKeys>();

/** The public keys that belong to these private keys. */
export function publicKeysOf(priv: ElectionPrivateKeys): ElectionPublicKeys {
  const cached = publicOfPrivate.get(priv);
  if (cached) return cached;
  const account = HDKey.fromExtendedKey(priv.xprv, NETWORKS[priv.network].bip32);
  if (!account.privateKey) throw new Error('the xprv holds no private key');
  const issuingPublicKey = bytesToHex(schnorr.getPublicKey(priv.issuingPrivateKey));
  const xpub = account.publicExtendedKey;
  const pub: ElectionPublicKeys = {
    format: PUBLIC_FORMAT,
    network: priv.network,
    issuingPublicKey,
    xpub,
    fingerprint: computeFingerprint(priv.network, issuingPublicKey, xpub),
  };
  publicOfPrivate.set(priv, pub);
  return pub;
}

export function keysMatch(priv: ElectionPrivateKeys, pub: ElectionPublicKeys): boolean {
  const derived = publicKeysOf(priv);
  return derived.network === pub.network && derived.issuingPublicKey === pub.issuingPublicKey && derived.xpub === pub.xpub;
}

/** Thrown by writeElectionKeys rather than overwriting: replacing an election's keys orphans its ballots. */
export class ElectionKeysExistError extends Error {
  override readonly name = 'ElectionKeysExistError';
  constructor(readonly files: readonly string[]) {
    super(`refusing to overwrite existing key file${files.length > 1 ? 's' : ''}: ${files.join(', ')}`);
  }
}

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/**
 * Writes election-public.json and election-private.json (the secrets sealed with the passphrase, file mode
 * 0600) into `dir`, creating it if needed. Never overwrites either file; both are fsynced before returning.
 */
export function writeElectionKeys(
  dir: string,
  keys: ElectionKeys,
  passphrase: string,
  cost?: ScryptCost,
): { publicFile: string; privateFile: string } {
  if (passphrase.length === 0) throw new Error('an empty passphrase protects nothing');
  if (!keysMatch(keys.private, keys.public)) throw new Error('the public keys do not belong to the private keys');
  const publicFile = path.resolve(dir, PUBLIC_FILE_NAME);
  const privateFile = path.resolve(dir, PRIVATE_FILE_NAME);
  const existing = [privateFile, publicFile].filter((f) => fs.existsSync(f));
  if (existing.length > 0) throw new ElectionKeysExistError(existing);

  const secrets = JSON.stringify({
    network: keys.private.network,
    issuingPrivateKey: bytesToHex(keys.private.issuingPrivateKey),
    xprv: keys.private.xprv,
  });
  const sealed = sealWithPassphrase(new TextEncoder().encode(secrets), passphrase, cost);
  const privateDoc = { format: PRIVATE_FORMAT, network: keys.public.network, fingerprint: keys.public.fingerprint, sealed };
  const publicDoc: ElectionPublicKeys = {
    format: PUBLIC_FORMAT,
    network: keys.public.network,
    issuingPublicKey: keys.public.issuingPublicKey,
    xpub: keys.public.xpub,
    fingerprint: keys.public.fingerprint,
  };

  fs.mkdirSync(path.dirname(publicFile), { recursive: true });
  writeNewFileDurably(privateFile, `${JSON.stringify(privateDoc, null, 2)}\n`, 0o600);
  try {
    writeNewFileDurably(publicFile, `${JSON.stringify(publicDoc, null, 2)}\n`, 0o644);
  } catch (e) {
    // Half a key pair is worse than none: the next attempt would refuse because of the private file.
    fs.rmSync(privateFile, { force: true });
    if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'EEXIST') throw new ElectionKeysExistError([publicFile]);
    throw e;
  }
  fsyncDirectory(path.dirname(publicFile));
  return { publicFile, privateFile };
}

function writeNewFileDurably(file: string, text: string, mode: number): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ElectionKeysExistError([file]);
    throw e;
  }
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the files themselves are synced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function readJson(file: string, what: string): Result<unknown, IdentityError> {
  // a key file is a few hundred bytes; 1 MiB bounds what a wrong name (a device, a huge file) can cost
  const read = readBoundedText(file, { maxBytes: 1024 * 1024, what: 'a key file' });
  if (!read.ok) {
    const why = read.error.code === 'not-found' ? 'it does not exist' : read.error.message;
    return err(identityError('key-file-unreadable', `Cannot read the ${what} ${file}: ${why}.`, { where: file }));
  }
  const text = read.value;
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (e) {
    return err(identityError('key-file-malformed', `The ${what} ${file} is not valid JSON (${(e as Error).message}).`, { where: file }));
  }
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(top level)'}: ${i.message}`).join('; ');
}

function checkXpub(network: NetworkName, xpub: string): string | undefined {
  let node: HDKey;
  try {
    node = HDKey.fromExtendedKey(xpub, NETWORKS[network].bip32);
  } catch (e) {
    const msg = (e as Error).message;
    return /version/i.test(msg) ? `xpub: is not an extended public key of ${network}` : `xpub: ${msg}`;
  }
  if (node.privateKey) return 'xpub: holds a private key, which must never be in the public file';
  return undefined;
}

function checkSchnorrPublicKey(hex: string): boolean {
  try {
    secp256k1.ProjectivePoint.fromHex(`02${hex}`).assertValidity();
    return true;
  } catch {
    return false;
  }
}

/** Reads and checks election-public.json: schema, that each key decodes for its network, the fingerprint. */
export function loadElectionPublicKeys(file: string): Result<ElectionPublicKeys, IdentityError> {
  const what = 'election public key file';
  const json = readJson(file, what);
  if (!json.ok) return json;
  return publicKeysFromJson(json.value, file);
}

export function publicKeysFromJson(json: unknown, source = 'election public keys'): Result<ElectionPublicKeys, IdentityError> {
  const parsed = ElectionPublicKeysSchema.safeParse(json);
  if (!parsed.success) {
    return err(identityError('key-file-malformed', `The election public key file ${source} is not valid: ${describeIssues(parsed.error.issues)}.`, { where: source }));
  }
  const pub = parsed.data;
  const problems: string[] = [];
  const xpubProblem = checkXpub(pub.network, pub.xpub);
  if (xpubProblem) problems.push(xpubProblem);
  if (!checkSchnorrPublicKey(pub.issuingPublicKey)) problems.push('issuingPublicKey: is not a point on secp256k1');
  if (problems.length > 0) {
    return err(identityError('key-file-malformed', `The election public key file ${source} is not valid: ${problems.join('; ')}.`, { where: source }));
  }
  const fingerprint = computeFingerprint(pub.network, pub.issuingPublicKey, pub.xpub);
  if (fingerprint !== pub.fingerprint) {
    return err(
      identityError(
        'key-file-fingerprint-mismatch',
        `The election public key file ${source} was changed after it was made: its keys have fingerprint ${fingerprint}, the file says ${pub.fingerprint}.`,
        { where: source, expected: pub.fingerprint, found: fingerprint },
      ),
    );
  }
  return ok(pub);
}

/** Reads election-private.json and opens it with the passphrase. */
export function loadElectionPrivateKeys(file: string, passphrase: string): Result<ElectionPrivateKeys, IdentityError> {
  const what = 'election private key file';
  const json = readJson(file, what);
  if (!json.ok) return json;
  const parsed = PrivateFileSchema.safeParse(json.value);
  if (!parsed.success) {
    return err(identityError('key-file-malformed', `The ${what} ${file} is not valid: ${describeIssues(parsed.error.issues)}.`, { where: file }));
  }
  const opened = openWithPassphrase(parsed.data.sealed, passphrase);
  if (!opened.ok) {
    if (opened.error.kind === 'malformed') {
      return err(identityError('key-file-malformed', `The ${what} ${file} is not valid: ${opened.error.detail}.`, { where: file }));
    }
    return err(
      identityError('wrong-passphrase', `The passphrase does not open the ${what} ${file} (or the file was changed).`, { where: file }),
    );
  }
  let secrets: z.infer<typeof SealedSecretsSchema>;
  try {
    const inner = SealedSecretsSchema.safeParse(JSON.parse(new TextDecoder().decode(opened.value)) as unknown);
    if (!inner.success) throw new Error(describeIssues(inner.error.issues));
    secrets = inner.data;
  } catch (e) {
    return err(identityError('key-file-malformed', `The sealed keys in ${file} are not valid: ${(e as Error).message}.`, { where: file }));
  }
  if (secrets.network !== parsed.data.network) {
    return err(
      identityError('key-file-malformed', `The ${what} ${file} says network ${parsed.data.network} outside and ${secrets.network} inside.`, {
        where: file,
      }),
    );
  }
  const priv: ElectionPrivateKeys = { issuingPrivateKey: hexToBytes(secrets.issuingPrivateKey), xprv: secrets.xprv, network: secrets.network };
  let pub: ElectionPublicKeys;
  try {
    pub = publicKeysOf(priv);
  } catch (e) {
    return err(identityError('key-file-malformed', `The sealed keys in ${file} do not decode: ${(e as Error).message}.`, { where: file }));
  }
  if (pub.fingerprint !== parsed.data.fingerprint) {
    return err(
      identityError(
        'key-file-fingerprint-mismatch',
        `The ${what} ${file} was changed after it was made: its keys have fingerprint ${pub.fingerprint}, the file says ${parsed.data.fingerprint}.`,
        { where: file, expected: parsed.data.fingerprint, found: pub.fingerprint },
      ),
    );
  }
  return ok(priv);
}
