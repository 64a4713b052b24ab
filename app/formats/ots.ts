import { ripemd160 } from '@noble/hashes/ripemd160';
import { sha1 } from '@noble/hashes/sha1';
import { sha256 } from '@noble/hashes/sha256';
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesEqual } from '../../lib/bytes';

/**
 * OpenTimestamps detached timestamp files (.ots), byte for byte as python-opentimestamps
 * (opentimestamps/core/{serialize,op,notary,timestamp}.py) and javascript-opentimestamps write them:
 *
 *   magic (31 bytes) | varuint major version (1) | file hash op tag | file digest | timestamp
 *   timestamp := ( 0xff item )* item          (each item but the last is preceded by the fork byte)
 *   item      := 0x00 attestation | op timestamp
 *   op        := tag (unary: 0x02 sha1, 0x03 ripemd160, 0x08 sha256, 0x67 keccak256, 0xf2 reverse, 0xf3 hexlify)
 *              | tag varbytes (binary: 0xf0 append, 0xf1 prepend)
 *   attestation := 8-byte tag | varbytes payload   (Bitcoin block header: 0588960d73d71901, payload varuint height)
 *   varuint  := 7 bits a byte, least significant group first, high bit set on every byte but the last
 *   varbytes := varuint length | bytes
 *
 * The tree keeps its items in file order, so parsing then serialising a file gives the same bytes whatever
 * order its writer chose (the reference writer sorts; ours writes single-branch proofs).
 */

export const OTS_MAGIC = new Uint8Array([
  0x00, 0x4f, 0x70, 0x65, 0x6e, 0x54, 0x69, 0x6d, 0x65, 0x73, 0x74, 0x61, 0x6d, 0x70, 0x73, 0x00, 0x00, 0x50, 0x72, 0x6f, 0x6f, 0x66, 0x00, 0xbf, 0x89,
  0xe2, 0xe8, 0x84, 0xe8, 0x92, 0x94,
]);
export const OTS_MAJOR_VERSION = 1;
export const BITCOIN_ATTESTATION_TAG = hexBytes('0588960d73d71901');
export const LITECOIN_ATTESTATION_TAG = hexBytes('06869a0d73d71b45');
export const PENDING_ATTESTATION_TAG = hexBytes('83dfe30d2ef90c8e');

/** python-opentimestamps' limits: an op's argument and any message are at most 4,096 bytes. */
export const MAX_MSG_BYTES = 4096;
const MAX_PAYLOAD_BYTES = 8192;
const MAX_URI_BYTES = 1000;
const RECURSION_LIMIT = 256;
const TAG_ATTESTATION = 0x00;
const TAG_FORK = 0xff;

export class OtsError extends Error {
  override readonly name = 'OtsError';
}

export type UnaryOpName = 'sha1' | 'ripemd160' | 'sha256' | 'keccak256' | 'reverse' | 'hexlify';
export type OtsOp = { readonly op: UnaryOpName } | { readonly op: 'append' | 'prepend'; readonly arg: Uint8Array };

export type OtsAttestation =
  | { readonly kind: 'bitcoin'; readonly height: number }
  | { readonly kind: 'litecoin'; readonly height: number }
  | { readonly kind: 'pending'; readonly uri: string }
  | { readonly kind: 'unknown'; readonly tag: Uint8Array; readonly payload: Uint8Array };

export type OtsItem = { readonly attestation: OtsAttestation } | { readonly op: OtsOp; readonly next: OtsTimestamp };

/** A timestamp: what follows from one message. Items in file order. */
export interface OtsTimestamp {
  readonly items: readonly OtsItem[];
}

export type FileHashOp = 'sha256' | 'sha1' | 'ripemd160' | 'keccak256';

export interface DetachedTimestamp {
  readonly fileHashOp: FileHashOp;
  readonly digest: Uint8Array;
  readonly timestamp: OtsTimestamp;
}

const UNARY_TAGS: Record<UnaryOpName, number> = { sha1: 0x02, ripemd160: 0x03, sha256: 0x08, keccak256: 0x67, reverse: 0xf2, hexlify: 0xf3 };
const TAG_APPEND = 0xf0;
const TAG_PREPEND = 0xf1;
const UNARY_BY_TAG = new Map<number, UnaryOpName>(Object.entries(UNARY_TAGS).map(([k, v]) => [v, k as UnaryOpName]));
const DIGEST_BYTES: Record<FileHashOp, number> = { sha256: 32, sha1: 20, ripemd160: 20, keccak256: 32 };

function hexBytes(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'));
}

// ---------------------------------------------------------------------------------------------------------
// bytes

class Writer {
  private readonly parts: number[] = [];

  byte(b: number): void {
    this.parts.push(b);
  }

  bytes(b: Uint8Array): void {
    for (const x of b) this.parts.push(x);
  }

  varuint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new OtsError(`varuint must be a non-negative safe integer, got ${n}`);
    let v = n;
    for (;;) {
      const low = v % 128;
      v = Math.floor(v / 128);
      this.parts.push(v === 0 ? low : low | 0x80);
      if (v === 0) return;
    }
  }

  varbytes(b: Uint8Array): void {
    this.varuint(b.length);
    this.bytes(b);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

class Reader {
  offset = 0;

  constructor(private readonly buf: Uint8Array) {}

  byte(what: string): number {
    const b = this.buf[this.offset];
    if (b === undefined) throw new OtsError(`the file ends while reading ${what} (offset ${this.offset})`);
    this.offset += 1;
    return b;
  }

  bytes(n: number, what: string): Uint8Array {
    if (this.offset + n > this.buf.length) throw new OtsError(`the file ends while reading ${what}: ${n} bytes wanted at offset ${this.offset}, ${this.buf.length - this.offset} left`);
    const out = this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Refuses non-minimal forms, so a parsed file serialises back to the same bytes. */
  varuint(what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      const b = this.byte(what);
      if (i > 0 && b === 0) throw new OtsError(`${what} is a non-minimal varuint (offset ${this.offset - 1})`);
      value += (b & 0x7f) * scale;
      if (!Number.isSafeInteger(value)) throw new OtsError(`${what} is too large a varuint`);
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
  }

  varbytes(max: number, min: number, what: string): Uint8Array {
    const n = this.varuint(`${what} length`);
    if (n > max) throw new OtsError(`${what} is ${n} bytes, more than the limit of ${max}`);
    if (n < min) throw new OtsError(`${what} is ${n} bytes, fewer than the minimum of ${min}`);
    return this.bytes(n, what);
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }
}

// ---------------------------------------------------------------------------------------------------------
// ops

export function applyOp(op: OtsOp, msg: Uint8Array): Uint8Array {
  if (msg.length > MAX_MSG_BYTES) throw new OtsError(`a ${msg.length}-byte message is over the ${MAX_MSG_BYTES}-byte limit of an operation's input`);
  let out: Uint8Array;
  switch (op.op) {
    case 'sha256':
      return sha256(msg);
    case 'sha1':
      return sha1(msg);
    case 'ripemd160':
      return ripemd160(msg);
    case 'keccak256':
      return keccak_256(msg);
    case 'reverse':
      out = msg.slice().reverse();
      break;
    case 'hexlify':
      out = new TextEncoder().encode(Buffer.from(msg).toString('hex'));
      break;
    case 'append':
      out = new Uint8Array(msg.length + op.arg.length);
      out.set(msg, 0);
      out.set(op.arg, msg.length);
      break;
    case 'prepend':
      out = new Uint8Array(msg.length + op.arg.length);
      out.set(op.arg, 0);
      out.set(msg, op.arg.length);
      break;
  }
  if (out.length > MAX_MSG_BYTES) throw new OtsError(`operation ${op.op} makes a ${out.length}-byte message, over the ${MAX_MSG_BYTES}-byte limit`);
  return out;
}

/** The message after these operations in order: a linear path's end, for checking a proof as it is built. */
export function applyOps(ops: readonly OtsOp[], msg: Uint8Array): Uint8Array {
  let m = msg;
  for (const op of ops) m = applyOp(op, m);
  return m;
}

function writeOp(w: Writer, op: OtsOp): void {
  if (op.op === 'append' || op.op === 'prepend') {
    if (op.arg.length < 1 || op.arg.length > MAX_MSG_BYTES) throw new OtsError(`an ${op.op} argument is 1..${MAX_MSG_BYTES} bytes, got ${op.arg.length}`);
    w.byte(op.op === 'append' ? TAG_APPEND : TAG_PREPEND);
    w.varbytes(op.arg);
  } else {
    w.byte(UNARY_TAGS[op.op]);
  }
}

function readOp(r: Reader, tag: number): OtsOp {
  if (tag === TAG_APPEND || tag === TAG_PREPEND) {
    const arg = r.varbytes(MAX_MSG_BYTES, 1, tag === TAG_APPEND ? 'append argument' : 'prepend argument');
    return { op: tag === TAG_APPEND ? 'append' : 'prepend', arg };
  }
  const name = UNARY_BY_TAG.get(tag);
  if (name === undefined) throw new OtsError(`unknown operation tag 0x${tag.toString(16).padStart(2, '0')} at offset ${r.offset - 1}`);
  return { op: name };
}

// ---------------------------------------------------------------------------------------------------------
// attestations

function writeAttestation(w: Writer, a: OtsAttestation): void {
  const payload = new Writer();
  let tag: Uint8Array;
  switch (a.kind) {
    case 'bitcoin':
      tag = BITCOIN_ATTESTATION_TAG;
      payload.varuint(a.height);
      break;
    case 'litecoin':
      tag = LITECOIN_ATTESTATION_TAG;
      payload.varuint(a.height);
      break;
    case 'pending':
      tag = PENDING_ATTESTATION_TAG;
      payload.varbytes(new TextEncoder().encode(a.uri));
      break;
    case 'unknown':
      if (a.tag.length !== 8) throw new OtsError('an attestation tag is 8 bytes');
      tag = a.tag;
      payload.bytes(a.payload);
      break;
  }
  w.bytes(tag);
  w.varbytes(payload.finish());
}

function readAttestation(r: Reader): OtsAttestation {
  const tag = r.bytes(8, 'attestation tag');
  const payload = r.varbytes(MAX_PAYLOAD_BYTES, 0, 'attestation payload');
  const p = new Reader(payload);
  let a: OtsAttestation;
  if (bytesEqual(tag, BITCOIN_ATTESTATION_TAG)) a = { kind: 'bitcoin', height: p.varuint('Bitcoin block height') };
  else if (bytesEqual(tag, LITECOIN_ATTESTATION_TAG)) a = { kind: 'litecoin', height: p.varuint('Litecoin block height') };
  else if (bytesEqual(tag, PENDING_ATTESTATION_TAG)) {
    const uri = p.varbytes(MAX_URI_BYTES, 0, 'pending attestation URI');
    a = { kind: 'pending', uri: new TextDecoder('utf-8', { fatal: true }).decode(uri) };
  } else return { kind: 'unknown', tag, payload };
  if (p.remaining !== 0) throw new OtsError(`${a.kind} attestation payload has ${p.remaining} trailing bytes`);
  return a;
}

// ---------------------------------------------------------------------------------------------------------
// timestamps

function writeTimestamp(w: Writer, t: OtsTimestamp): void {
  if (t.items.length === 0) throw new OtsError('a timestamp needs at least one operation or attestation');
  t.items.forEach((item, i) => {
    if (i < t.items.length - 1) w.byte(TAG_FORK);
    if ('attestation' in item) {
      w.byte(TAG_ATTESTATION);
      writeAttestation(w, item.attestation);
    } else {
      writeOp(w, item.op);
      writeTimestamp(w, item.next);
    }
  });
}

function readTimestamp(r: Reader, msg: Uint8Array, depth: number): OtsTimestamp {
  if (depth > RECURSION_LIMIT) throw new OtsError(`the timestamp nests deeper than ${RECURSION_LIMIT} operations`);
  const items: OtsItem[] = [];
  const item = (tag: number): void => {
    if (tag === TAG_ATTESTATION) items.push({ attestation: readAttestation(r) });
    else {
      const op = readOp(r, tag);
      // evaluating while parsing refuses files whose messages would break the length limits, as the reference does
      const next = applyOp(op, msg);
      items.push({ op, next: readTimestamp(r, next, depth + 1) });
    }
  };
  let tag = r.byte('operation or attestation tag');
  while (tag === TAG_FORK) {
    item(r.byte('operation or attestation tag'));
    tag = r.byte('operation or attestation tag');
  }
  item(tag);
  return { items };
}

export function serializeDetached(d: DetachedTimestamp): Uint8Array {
  if (d.digest.length !== DIGEST_BYTES[d.fileHashOp]) throw new OtsError(`a ${d.fileHashOp} file digest is ${DIGEST_BYTES[d.fileHashOp]} bytes, got ${d.digest.length}`);
  const w = new Writer();
  w.bytes(OTS_MAGIC);
  w.varuint(OTS_MAJOR_VERSION);
  w.byte(UNARY_TAGS[d.fileHashOp]);
  w.bytes(d.digest);
  writeTimestamp(w, d.timestamp);
  return w.finish();
}

export function parseDetached(bytes: Uint8Array): DetachedTimestamp {
  const r = new Reader(bytes);
  const magic = r.bytes(OTS_MAGIC.length, 'the header magic');
  if (!bytesEqual(magic, OTS_MAGIC)) throw new OtsError('not an OpenTimestamps proof (the header magic is wrong)');
  const version = r.varuint('major version');
  if (version !== OTS_MAJOR_VERSION) throw new OtsError(`OpenTimestamps major version ${version} is not supported (this reads version ${OTS_MAJOR_VERSION})`);
  const tag = r.byte('file hash op');
  const name = UNARY_BY_TAG.get(tag);
  if (name === undefined || !(name in DIGEST_BYTES)) throw new OtsError(`file hash op 0x${tag.toString(16)} is not a hash operation`);
  const fileHashOp = name as FileHashOp;
  const digest = r.bytes(DIGEST_BYTES[fileHashOp], 'file digest');
  const timestamp = readTimestamp(r, digest, 0);
  if (r.remaining !== 0) throw new OtsError(`${r.remaining} bytes of trailing garbage after the timestamp`);
  return { fileHashOp, digest, timestamp };
}

/** The digest a file hash op gives, for checking a .ots against its file. */
export function fileDigest(op: FileHashOp, file: Uint8Array): Uint8Array {
  return applyOpUnbounded(op, file);
}

function applyOpUnbounded(op: FileHashOp, data: Uint8Array): Uint8Array {
  switch (op) {
    case 'sha256':
      return sha256(data);
    case 'sha1':
      return sha1(data);
    case 'ripemd160':
      return ripemd160(data);
    case 'keccak256':
      return keccak_256(data);
  }
}

export interface ReachedAttestation {
  readonly attestation: OtsAttestation;
  /** the message the attestation commits to: for a block header attestation, the header's merkle root (internal byte order) */
  readonly msg: Uint8Array;
  /** the operations from the file digest to here */
  readonly path: readonly OtsOp[];
}

/** Every attestation in the tree with the message it attests, evaluated from the file digest. */
export function reachedAttestations(d: DetachedTimestamp): ReachedAttestation[] {
  const out: ReachedAttestation[] = [];
  const walk = (t: OtsTimestamp, msg: Uint8Array, path: OtsOp[]): void => {
    for (const item of t.items) {
      if ('attestation' in item) out.push({ attestation: item.attestation, msg, path: path.slice() });
      else walk(item.next, applyOp(item.op, msg), [...path, item.op]);
    }
  };
  walk(d.timestamp, d.digest, []);
  return out;
}

/** A linear timestamp: these ops, then one attestation. */
export function linearTimestamp(ops: readonly OtsOp[], attestation: OtsAttestation): OtsTimestamp {
  let t: OtsTimestamp = { items: [{ attestation }] };
  for (let i = ops.length - 1; i >= 0; i--) t = { items: [{ op: ops[i] as OtsOp, next: t }] };
  return t;
}

/** Text like `ots info` prints, for people reading a proof. */
export function describeTimestamp(d: DetachedTimestamp): string {
  const lines = [`File ${d.fileHashOp} hash: ${Buffer.from(d.digest).toString('hex')}`, 'Timestamp:'];
  const walk = (t: OtsTimestamp, indent: string): void => {
    const forked = t.items.length > 1;
    for (const item of t.items) {
      const ind = forked ? `${indent} -> ` : indent;
      if ('attestation' in item) {
        const a = item.attestation;
        lines.push(`${ind}verify ${a.kind === 'bitcoin' || a.kind === 'litecoin' ? `${a.kind === 'bitcoin' ? 'Bitcoin' : 'Litecoin'}BlockHeaderAttestation(${a.height})` : a.kind === 'pending' ? `PendingAttestation('${a.uri}')` : `UnknownAttestation(${Buffer.from(a.tag).toString('hex')})`}`);
      } else {
        const o = item.op;
        lines.push(`${ind}${o.op}${'arg' in o ? ` ${Buffer.from(o.arg).toString('hex')}` : ''}`);
        walk(item.next, forked ? `${indent}    ` : indent);
      }
    }
  };
  walk(d.timestamp, '');
  return `${lines.join('\n')}\n`;
}
