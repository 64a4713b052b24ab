import { z } from 'zod';
import { ByteReader, ByteWriter, EncodingError, toHex } from '../../lib/bytes';
import { canonicalBytes } from './canonical-json';
import type { AuditEvent } from './events';
import { AuditEventSchema } from './events';
import { hash as nodeHash } from 'node:crypto';
import { sha256 } from './hash';
import type { LedgerMode } from './record';
import type { SheetDetail } from './sheet-detail';
import { readSheetDetail, skipSheetDetail, writeSheetDetail } from './sheet-detail';

/**
 * The ledger's entries: one append-only chain. Each entry hash covers the kind, the sequence number, the
 * previous entry's hash and the payload bytes, so changing, deleting, inserting or reordering any entry
 * breaks the chain at that entry. Payload layouts are in RECORD.md.
 */
export const EntryKind = {
  genesis: 0,
  pending: 1,
  cast: 2,
  returned: 3,
  event: 4,
  checkpoint: 5,
  /** a signed head (signed-head.ts); the one with reason `seal` closes the ledger to ballots */
  signedHead: 6,
  /** a signed decision on a marginal mark or a write-in, only after the seal (adjudication.ts) */
  adjudication: 7,
} as const;
export type EntryKindName = keyof typeof EntryKind;
export type EntryKindCode = (typeof EntryKind)[EntryKindName];
export const KIND_NAMES: Record<number, EntryKindName> = Object.fromEntries(Object.entries(EntryKind).map(([k, v]) => [v, k as EntryKindName]));

export const ZERO_HASH = new Uint8Array(32);
const ENTRY_DOMAIN = 0x45; // 'E': keeps entry hashes apart from Merkle leaf (0x00) and node (0x01) hashes

let scratch = Buffer.allocUnsafe(4096);
export function entryHash(kind: number, seq: number, prev: Uint8Array, payload: Uint8Array): Buffer {
  const n = 1 + 1 + 8 + 32 + payload.length;
  if (n > scratch.length) scratch = Buffer.allocUnsafe(n * 2);
  scratch[0] = ENTRY_DOMAIN;
  scratch[1] = kind;
  scratch.writeUInt32BE(Math.floor(seq / 2 ** 32), 2);
  scratch.writeUInt32BE(seq >>> 0, 6);
  scratch.set(prev, 10);
  scratch.set(payload, 42);
  return sha256(scratch.subarray(0, n));
}

/**
 * The same hash from hex text, written into one reused buffer: `verify` reads payloads as hex because
 * better-sqlite3 allocates a fresh Buffer per BLOB, which costs more than hashing it. Returns the hash in
 * hex and leaves the payload bytes at `hexScratch().subarray(42, 42 + length)` until the next call.
 */
let hexScratchBuf = Buffer.allocUnsafe(4096);
export function entryHashFromHex(kind: number, seq: number, prevHex: string, payloadHex: string): string {
  const n = 42 + payloadHex.length / 2;
  if (n > hexScratchBuf.length) hexScratchBuf = Buffer.allocUnsafe(n * 2);
  const b = hexScratchBuf;
  b[0] = ENTRY_DOMAIN;
  b[1] = kind;
  b.writeUInt32BE(Math.floor(seq / 2 ** 32), 2);
  b.writeUInt32BE(seq >>> 0, 6);
  b.write(prevHex, 10, 32, 'hex');
  const written = b.write(payloadHex, 42, 'hex');
  if (42 + written !== n) throw new EncodingError(`entry ${seq}: payload is not whole bytes`);
  return nodeHash('sha256', b.subarray(0, n), 'hex');
}

export function hexScratch(): Buffer {
  return hexScratchBuf;
}

/** Puts a payload at the same place entryHashFromHex does, without hashing. */
export function payloadIntoScratch(payloadHex: string): void {
  const n = 42 + payloadHex.length / 2;
  if (n > hexScratchBuf.length) hexScratchBuf = Buffer.allocUnsafe(n * 2);
  hexScratchBuf.write(payloadHex, 42, 'hex');
}

const ContestMapSchema = z.array(
  z.object({
    id: z.string().min(1).max(128),
    options: z.array(z.string().min(1).max(128)).min(1).max(255),
    /** how many options a voter may choose */
    seats: z.number().int().min(1).max(255),
  }),
);

/** The first entry: what this ledger is for. Everything later is read against it. */
export const GenesisSchema = z.object({
  format: z.literal('tallyproof-ledger/1'),
  mode: z.enum(['official', 'test']),
  election: z.object({
    /** SHA-256 of the election definition file, hex */
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    title: z.string().max(256),
    /** contests and options in definition order: record indexes point into these */
    contests: ContestMapSchema,
  }),
  station: z.object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    /** the small number the election office gave this station; ballot records carry it */
    number: z.number().int().min(0).max(0xffff),
    /** x-only secp256k1 Schnorr public key (BIP 340), hex */
    publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});
export type Genesis = z.infer<typeof GenesisSchema>;

export function encodeGenesis(g: Genesis): Uint8Array {
  return canonicalBytes(GenesisSchema.parse(g) as unknown as Parameters<typeof canonicalBytes>[0]);
}

export function decodeGenesis(payload: Uint8Array): Genesis {
  const parsed = GenesisSchema.safeParse(JSON.parse(Buffer.from(payload).toString('utf8')));
  if (!parsed.success) throw new EncodingError(`genesis entry: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * A pending ballot: the public record plus what stays on the station (full image digest, voting ID text and,
 * from pending format 2 on, the sheet detail: per-side image IDs and digests, every target's score).
 */
export interface PendingPayload {
  readonly record: Uint8Array;
  readonly imageSha256: Uint8Array;
  readonly votingId: string;
  /** absent in format 1 (entries written before sheet detail existed), which is still read */
  readonly detail?: SheetDetail | undefined;
}

const pendingWriter = new ByteWriter(512);

export function encodePending(p: PendingPayload): Uint8Array {
  const w = pendingWriter.reset().varint(p.record.length).bytes(p.record).bytes(p.imageSha256).text(p.votingId);
  if (p.detail !== undefined) writeSheetDetail(w, p.detail);
  return w.finish();
}

export function decodePending(payload: Uint8Array): PendingPayload {
  const rd = new ByteReader(payload);
  const n = rd.varint('record length');
  const record = rd.bytes(n, 'ballot record');
  const imageSha256 = rd.bytes(32, 'image digest');
  const votingId = rd.text('voting ID');
  // format 1 ends here; format 2 goes on with a sheet-detail block, its own version byte first
  const detail = rd.remaining > 0 ? readSheetDetail(rd) : undefined;
  rd.end('the pending entry');
  return { record, imageSha256, votingId, detail };
}

/**
 * The ballot record in a pending payload, with the rest of the payload checked as decodePending checks it
 * but not decoded: `verify` needs only the record of each of a million pending entries.
 */
export function pendingRecord(payload: Uint8Array): Uint8Array {
  const rd = new ByteReader(payload);
  const n = rd.varint('record length');
  const at = rd.offset;
  rd.skip(n, 'ballot record');
  rd.skip(32, 'image digest');
  rd.skipText('voting ID');
  if (rd.remaining > 0) skipSheetDetail(rd);
  rd.end('the pending entry');
  return rd.view(at, n);
}

export function encodeCast(pendingSeq: number): Uint8Array {
  return new ByteWriter(8).varint(pendingSeq).finish();
}

export function decodeCast(payload: Uint8Array): number {
  const rd = new ByteReader(payload);
  const seq = rd.varint('pending seq');
  rd.end('the cast entry');
  return seq;
}

export const RETURN_REASON = /^[a-z0-9][a-z0-9:._-]{0,127}$/;

export function encodeReturned(pendingSeq: number, reason: string): Uint8Array {
  if (!RETURN_REASON.test(reason)) throw new EncodingError(`return reason must be a short machine code like "overvote:mayor", got "${reason}"`);
  return new ByteWriter(16).varint(pendingSeq).text(reason).finish();
}

export function decodeReturned(payload: Uint8Array): { pendingSeq: number; reason: string } {
  const rd = new ByteReader(payload);
  const pendingSeq = rd.varint('pending seq');
  const reason = rd.text('return reason');
  rd.end('the returned entry');
  if (!RETURN_REASON.test(reason)) throw new EncodingError(`return reason "${reason}" is malformed`);
  return { pendingSeq, reason };
}

export function encodeEvent(e: AuditEvent): Uint8Array {
  return canonicalBytes({ type: e.type, role: e.role, at: e.at, detail: e.detail });
}

export function decodeEvent(payload: Uint8Array): AuditEvent {
  const parsed = AuditEventSchema.safeParse(JSON.parse(Buffer.from(payload).toString('utf8')));
  if (!parsed.success) throw new EncodingError(`audit event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function encodeCheckpointEntry(body: string, signature: Uint8Array): Uint8Array {
  if (signature.length !== 64) throw new EncodingError('checkpoint signature must be 64 bytes');
  return new ByteWriter(body.length + 80).text(body).bytes(signature).finish();
}

export function decodeCheckpointEntry(payload: Uint8Array): { body: string; signature: Uint8Array } {
  const rd = new ByteReader(payload);
  const body = rd.text('checkpoint body');
  const signature = rd.bytes(64, 'checkpoint signature');
  rd.end('the checkpoint entry');
  return { body, signature };
}

export function describeHash(h: Uint8Array): string {
  return toHex(h).slice(0, 16);
}

export type { LedgerMode };
