import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import { sha256 } from '@noble/hashes/sha2';
import { TlogError } from './stored-hashes';

/**
 * C2SP signed-note (the format of golang.org/x/mod/sumdb/note, BSD-3-Clause): a UTF-8 text ending in a
 * newline, a blank line, then one line per signature, `— <name> <base64(key ID ‖ signature)>`. Checkpoints
 * are notes; witnesses add cosignature lines (C2SP tlog-cosignature) to the same note.
 *
 * Key ID = the first 4 bytes of SHA-256(name ‖ '\n' ‖ algorithm byte ‖ public key). Algorithms here:
 * 0x01 Ed25519 (the log's own signature) and 0x04 cosignature/v1 (a witness's, over a timestamped message).
 */

export const ALG_ED25519 = 0x01;
export const ALG_COSIGNATURE_V1 = 0x04;
export type KeyAlgorithm = typeof ALG_ED25519 | typeof ALG_COSIGNATURE_V1;

const EM_DASH = '\u2014';
const MAX_NOTE_BYTES = 1_000_000;

export interface Verifier {
  readonly name: string;
  readonly keyId: number;
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: Uint8Array;
}

export interface Signer extends Verifier {
  readonly seed: Uint8Array;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** the bytes after the key ID: an Ed25519 signature, or a cosignature's timestamp and signature */
  readonly body: Uint8Array;
}

export interface OpenedNote {
  readonly text: string;
  readonly verified: NoteSignature[];
  readonly unverified: NoteSignature[];
}

function isValidName(name: string): boolean {
  return name.length > 0 && !name.includes('+') && !/\s/u.test(name) && Buffer.from(name, 'utf8').toString('utf8') === name;
}

export function keyId(name: string, algorithm: KeyAlgorithm, publicKey: Uint8Array): number {
  const digest = sha256(new Uint8Array([...Buffer.from(`${name}\n`, 'utf8'), algorithm, ...publicKey]));
  return Buffer.from(digest).readUInt32BE(0);
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** A verifier key string: `<name>+<key ID hex>+<base64(algorithm ‖ public key)>`. */
export function formatVerifierKey(v: Verifier): string {
  return `${v.name}+${hex8(v.keyId)}+${Buffer.from([v.algorithm, ...v.publicKey]).toString('base64')}`;
}

/** A signer key string: `PRIVATE+KEY+<name>+<key ID hex>+<base64(algorithm ‖ seed)>` (keep it secret). */
export function formatSignerKey(s: Signer): string {
  return `PRIVATE+KEY+${s.name}+${hex8(s.keyId)}+${Buffer.from([s.algorithm, ...s.seed]).toString('base64')}`;
}

function decodeKey(name: string, idHex: string, b64: string, what: string): { algorithm: KeyAlgorithm; key: Uint8Array; id: number } | TlogError {
  const bad = new TlogError(`malformed ${what} key`);
  if (!isValidName(name) || !/^[0-9a-f]{8}$/.test(idHex)) return bad;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return bad;
  const raw = Buffer.from(b64, 'base64');
  if (raw.toString('base64') !== b64 || raw.length !== 33) return bad;
  const algorithm = raw[0];
  if (algorithm !== ALG_ED25519 && algorithm !== ALG_COSIGNATURE_V1) return bad;
  return { algorithm, key: new Uint8Array(raw.subarray(1)), id: Number.parseInt(idHex, 16) };
}

/** Splits at the first `count` '+' signs only: base64 key material may hold '+' itself. */
function splitFields(text: string, count: number): string[] {
  const out: string[] = [];
  let rest = text;
  for (let i = 0; i < count; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return [];
    out.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  return [...out, rest];
}

export function parseVerifierKey(text: string): Verifier | TlogError {
  const parts = splitFields(text, 2);
  if (parts.length !== 3) return new TlogError('malformed verifier key');
  const [name = '', idHex = '', b64 = ''] = parts;
  const d = decodeKey(name, idHex, b64, 'verifier');
  if (d instanceof TlogError) return d;
  if (keyId(name, d.algorithm, d.key) !== d.id) return new TlogError('malformed verifier key: key ID does not match the key');
  return { name, keyId: d.id, algorithm: d.algorithm, publicKey: d.key };
}

export function parseSignerKey(text: string): Signer | TlogError {
  const parts = splitFields(text, 4);
  if (parts.length !== 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') return new TlogError('malformed signer key');
  const [, , name = '', idHex = '', b64 = ''] = parts;
  const d = decodeKey(name, idHex, b64, 'signer');
  if (d instanceof TlogError) return d;
  const publicKey = ed25519.getPublicKey(d.key);
  if (keyId(name, d.algorithm, publicKey) !== d.id) return new TlogError('malformed signer key: key ID does not match the key');
  return { name, keyId: d.id, algorithm: d.algorithm, publicKey, seed: d.key };
}

export function generateSigner(name: string, algorithm: KeyAlgorithm, seed: Uint8Array = ed25519.utils.randomPrivateKey()): Signer {
  if (!isValidName(name)) throw new TlogError(`a key name must be non-empty, without '+' or spaces: ${JSON.stringify(name)}`);
  const publicKey = ed25519.getPublicKey(seed);
  return { name, algorithm, publicKey, seed, keyId: keyId(name, algorithm, publicKey) };
}

/** Text a note may carry: valid UTF-8, ends with a newline, no other control characters, no blank line at its end. */
export function isValidNoteText(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return text.endsWith('\n') && !text.endsWith('\n\n') && !/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text);
}

/** The message a cosignature/v1 signs: a header with the witness's time, then the checkpoint's text. */
export function cosignedMessage(text: string, timestamp: bigint): Uint8Array {
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${text}`, 'utf8');
}

/** PKCS#8 for an Ed25519 seed (RFC 8410): this prefix, then the 32-byte seed. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const privateKeys = new WeakMap<Uint8Array, KeyObject>();

/**
 * An RFC 8032 Ed25519 signature by OpenSSL (Node's crypto): deterministic, so the same bytes noble's gives
 * (test/county/note-sign.test.ts), at a fraction of the cost; the log signs a checkpoint every batch and a
 * witness one every round. Verification stays noble's, whose rules the monitor and witnesses were tested with.
 */
function ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  let key = privateKeys.get(seed);
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
    privateKeys.set(seed, key);
  }
  return new Uint8Array(nodeSign(null, message, key));
}

export function signatureBody(signer: Signer, text: string, timestamp?: bigint): Uint8Array {
  if (signer.algorithm === ALG_ED25519) return ed25519Sign(Buffer.from(text, 'utf8'), signer.seed);
  if (timestamp === undefined) throw new TlogError('a cosignature needs its timestamp');
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(timestamp);
  return new Uint8Array([...ts, ...ed25519Sign(cosignedMessage(text, timestamp), signer.seed)]);
}

function verifiesBody(v: Verifier, text: string, body: Uint8Array): boolean {
  try {
    if (v.algorithm === ALG_ED25519) return body.length === 64 && ed25519.verify(body, Buffer.from(text, 'utf8'), v.publicKey);
    if (body.length !== 72) return false;
    const timestamp = Buffer.from(body.subarray(0, 8)).readBigUInt64BE(0);
    return ed25519.verify(body.subarray(8), cosignedMessage(text, timestamp), v.publicKey);
  } catch {
    return false;
  }
}

export function formatSignatureLine(s: NoteSignature): string {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(s.keyId >>> 0);
  return `${EM_DASH} ${s.name} ${Buffer.concat([id, s.body]).toString('base64')}\n`;
}

/**
 * Signs text with each signer and returns the whole note; signatures already on the note by other keys are
 * kept after the new ones, and an old signature by one of the signers is replaced.
 */
export function signNote(text: string, signers: readonly Signer[], existing: readonly NoteSignature[] = [], timestamp?: bigint): string {
  if (!isValidNoteText(text)) throw new TlogError('malformed note: the text must end in one newline and hold no control characters');
  const fresh = signers.map((s) => ({ name: s.name, keyId: s.keyId, body: signatureBody(s, text, timestamp) }));
  const kept = existing.filter((e) => !signers.some((s) => s.name === e.name && s.keyId === e.keyId));
  return `${text}\n${[...fresh, ...kept].map(formatSignatureLine).join('')}`;
}

/**
 * Opens a note: splits text and signatures, checks every signature whose key is known, and fails unless at
 * least one known key signed it. A known key whose signature does not verify fails the whole note.
 */
export function openNote(message: string, known: readonly Verifier[]): OpenedNote | TlogError {
  if (Buffer.byteLength(message, 'utf8') > MAX_NOTE_BYTES) return new TlogError('note too large');
  const split = message.lastIndexOf('\n\n');
  if (split < 0) return new TlogError('malformed note: no blank line before the signatures');
  const text = message.slice(0, split + 1);
  const sigText = message.slice(split + 2);
  if (!isValidNoteText(text) || !sigText.endsWith('\n')) return new TlogError('malformed note');
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const line of sigText.slice(0, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
    if (m === null) return new TlogError(`malformed note: signature line ${JSON.stringify(line)}`);
    const name = m[1] as string;
    const raw = Buffer.from(m[2] as string, 'base64');
    if (!isValidName(name) || raw.length < 5 || raw.toString('base64') !== m[2]) return new TlogError(`malformed note: signature by ${name}`);
    const sig: NoteSignature = { name, keyId: raw.readUInt32BE(0), body: new Uint8Array(raw.subarray(4)) };
    const candidates = known.filter((k) => k.name === name && k.keyId === sig.keyId);
    if (candidates.length > 1) return new TlogError(`ambiguous key ${name}+${hex8(sig.keyId)}`);
    const v = candidates[0];
    if (v === undefined) {
      unverified.push(sig);
      continue;
    }
    const key = `${name}+${hex8(sig.keyId)}`;
    if (seen.has(key)) return new TlogError(`note signed twice by ${key}`);
    seen.add(key);
    if (!verifiesBody(v, text, sig.body)) return new TlogError(`invalid signature by ${key}`);
    verified.push(sig);
  }
  if (verified.length === 0) return new TlogError('no known key signed the note');
  return { text, verified, unverified };
}

/** The time a cosignature/v1 signature states (seconds since the Unix epoch). */
export function cosignatureTime(sig: NoteSignature): bigint | undefined {
  return sig.body.length === 72 ? Buffer.from(sig.body.subarray(0, 8)).readBigUInt64BE(0) : undefined;
}
