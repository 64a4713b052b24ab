import { ByteReader, ByteWriter, EncodingError } from '../../lib/bytes';
import { RECORD_V2_OWN_BYTES, RECORD_VERSION, readRecord, readRecordContext, scanRecord } from './record';

/**
 * Packs encoded ballot records into chain data fields (1,040 bytes on Florincoin, 1,016 of them after the
 * records-field header). RECORD.md describes both pack formats:
 *
 *   format 2: 0x02 | context count k | k contexts | records, each: context index | serial+flags, image digest | selection bits
 *   format 1: 0x01 | records back to back (each self-delimiting)
 *
 * A context is the part of a version-2 record that many ballots share (voting ID digest, station, batch,
 * reader and calibration versions, the style's contests and their target counts): a field keeps each one
 * once and its records point at it, so a municipal ballot costs 21 bytes on chain instead of 42. Unpacking
 * rebuilds every record byte for byte, so the leaves an auditor hashes are the records the ledger holds.
 * Format 1 is written only for a batch holding version-1 records (closed by older software) and read
 * from fields already on chains.
 */
export const PACK_FORMAT = 0x02;
export const PACK_FORMAT_1 = 0x01;
export const DEFAULT_FIELD_BYTES = 1040;

const varintLength = (v: number): number => {
  let n = 1;
  for (let x = v; x >= 0x80; x = Math.floor(x / 0x80)) n += 1;
  return n;
};

/** Where a version-2 record's context ends: the record is [version][own 16 bytes][context][selection bits]. */
function contextEnd(record: Uint8Array): number {
  scanRecord(record);
  const rd = new ByteReader(record);
  rd.skip(1 + RECORD_V2_OWN_BYTES, 'record head');
  readRecordContext(rd);
  return rd.offset;
}

export function packRecords(records: readonly Uint8Array[], fieldBytes = DEFAULT_FIELD_BYTES): Uint8Array[] {
  if (records.every((r) => r[0] === RECORD_VERSION)) return packV2(records, fieldBytes);
  return packV1(records, fieldBytes);
}

interface OpenField {
  readonly contexts: Map<string, number>;
  readonly contextBytes: Uint8Array[];
  contextLength: number;
  readonly body: ByteWriter;
  bodyLength: number;
}

const openField = (): OpenField => ({ contexts: new Map(), contextBytes: [], contextLength: 0, body: new ByteWriter(1024), bodyLength: 0 });

function finishField(f: OpenField): Uint8Array {
  const w = new ByteWriter(1 + varintLength(f.contextBytes.length) + f.contextLength + f.bodyLength).u8(PACK_FORMAT).varint(f.contextBytes.length);
  for (const c of f.contextBytes) w.bytes(c);
  return w.bytes(f.body.finish()).finish();
}

function packV2(records: readonly Uint8Array[], fieldBytes: number): Uint8Array[] {
  const fields: Uint8Array[] = [];
  let f = openField();
  for (const r of records) {
    const end = contextEnd(r);
    const ctx = r.subarray(1 + RECORD_V2_OWN_BYTES, end);
    const key = Buffer.from(ctx).toString('latin1');
    const place = (field: OpenField): { index: number; size: number } => {
      const known = field.contexts.get(key);
      const index = known ?? field.contextBytes.length;
      const k = known === undefined ? index + 1 : field.contextBytes.length;
      const size = 1 + varintLength(k) + field.contextLength + (known === undefined ? ctx.length : 0) + field.bodyLength + varintLength(index) + (r.length - end) + RECORD_V2_OWN_BYTES;
      return { index, size };
    };
    let at = place(f);
    if (at.size > fieldBytes && f.bodyLength > 0) {
      fields.push(finishField(f));
      f = openField();
      at = place(f);
    }
    if (at.size > fieldBytes) throw new EncodingError(`a ${r.length}-byte record cannot fit a ${fieldBytes}-byte field`);
    if (at.index === f.contextBytes.length) {
      f.contexts.set(key, at.index);
      f.contextBytes.push(ctx);
      f.contextLength += ctx.length;
    }
    f.body.varint(at.index).bytes(r.subarray(1, 1 + RECORD_V2_OWN_BYTES)).bytes(r.subarray(end));
    f.bodyLength += varintLength(at.index) + RECORD_V2_OWN_BYTES + (r.length - end);
  }
  if (f.bodyLength > 0) fields.push(finishField(f));
  return fields;
}

function packV1(records: readonly Uint8Array[], fieldBytes: number): Uint8Array[] {
  const fields: Uint8Array[] = [];
  let w = new ByteWriter(fieldBytes).u8(PACK_FORMAT_1);
  let used = 1;
  let count = 0;
  for (const r of records) {
    const need = r.length;
    if (1 + need > fieldBytes) throw new EncodingError(`a ${r.length}-byte record cannot fit a ${fieldBytes}-byte field`);
    if (used + need > fieldBytes) {
      fields.push(w.finish());
      w = new ByteWriter(fieldBytes).u8(PACK_FORMAT_1);
      used = 1;
      count = 0;
    }
    w.bytes(r);
    used += need;
    count += 1;
  }
  if (count > 0) fields.push(w.finish());
  return fields;
}

/** The records of one data field, each rebuilt to the exact bytes the ledger holds; refuses anything not canonical. */
export function unpackRecords(field: Uint8Array): Uint8Array[] {
  const rd = new ByteReader(field);
  const format = rd.u8('pack format');
  switch (format) {
    case PACK_FORMAT:
      return unpackV2(field, rd);
    case PACK_FORMAT_1:
      return unpackV1(field, rd);
    default:
      throw new EncodingError(`unknown record pack format ${format} (this software reads formats ${PACK_FORMAT_1} and ${PACK_FORMAT})`);
  }
}

function unpackV1(field: Uint8Array, rd: ByteReader): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (rd.remaining > 0) {
    const start = rd.offset;
    readRecord(rd);
    out.push(field.slice(start, rd.offset));
  }
  return out;
}

function unpackV2(field: Uint8Array, rd: ByteReader): Uint8Array[] {
  // an empty batch's field is the format byte alone
  if (rd.remaining === 0) return [];
  const k = rd.varint('context count');
  if (k === 0) throw new EncodingError('record pack: a context count of 0 (a field with no records is the format byte alone)');
  if (k > rd.remaining) throw new EncodingError(`record pack: context count ${k} exceeds the bytes left`);
  const contexts: { bytes: Uint8Array; bitBytes: number }[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < k; i++) {
    const start = rd.offset;
    const { bitBytes } = readRecordContext(rd);
    const bytes = field.subarray(start, rd.offset);
    const key = Buffer.from(bytes).toString('latin1');
    if (seen.has(key)) throw new EncodingError(`record pack: context ${i} repeats an earlier one`);
    seen.add(key);
    contexts.push({ bytes, bitBytes });
  }
  const out: Uint8Array[] = [];
  let nextUnused = 0;
  while (rd.remaining > 0) {
    const index = rd.varint('context index');
    if (index >= k) throw new EncodingError(`record pack: record ${out.length} names context ${index}, the field has ${k}`);
    // contexts are listed in the order records first use them: one packing, one byte string
    if (index > nextUnused) throw new EncodingError(`record pack: record ${out.length} uses context ${index} before context ${nextUnused}`);
    if (index === nextUnused) nextUnused += 1;
    const ctx = contexts[index] as { bytes: Uint8Array; bitBytes: number };
    const own = rd.bytes(RECORD_V2_OWN_BYTES, `record ${out.length} ballot ID and image digest`);
    const bits = rd.bytes(ctx.bitBytes, `record ${out.length} selection bits`);
    const record = new Uint8Array(1 + own.length + ctx.bytes.length + bits.length);
    record[0] = RECORD_VERSION;
    record.set(own, 1);
    record.set(ctx.bytes, 1 + own.length);
    record.set(bits, 1 + own.length + ctx.bytes.length);
    try {
      scanRecord(record);
    } catch (e) {
      throw new EncodingError(`record pack: record ${out.length}: ${(e as Error).message}`);
    }
    out.push(record);
  }
  if (nextUnused !== k) throw new EncodingError(`record pack: context ${nextUnused} is used by no record`);
  return out;
}
