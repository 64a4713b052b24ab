import { ByteReader, ByteWriter, EncodingError } from './bytes';
import { readRecord } from './record';

/**
 * Packs encoded ballot records into chain data fields (1,040 bytes on Florincoin): a format byte, then the
 * records back to back (each is self-delimiting). A typical small ballot's record is about 39 bytes, so 25
 * or more fit a field.
 */
export const PACK_FORMAT = 0x01;
export const DEFAULT_FIELD_BYTES = 1040;

export function packRecords(records: readonly Uint8Array[], fieldBytes = DEFAULT_FIELD_BYTES): Uint8Array[] {
  const fields: Uint8Array[] = [];
  let w = new ByteWriter(fieldBytes).u8(PACK_FORMAT);
  let used = 1;
  let count = 0;
  for (const r of records) {
    const need = r.length;
    if (1 + need > fieldBytes) throw new EncodingError(`a ${r.length}-byte record cannot fit a ${fieldBytes}-byte field`);
    if (used + need > fieldBytes) {
      fields.push(w.finish());
      w = new ByteWriter(fieldBytes).u8(PACK_FORMAT);
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

export function unpackRecords(field: Uint8Array): Uint8Array[] {
  const rd = new ByteReader(field);
  const format = rd.u8('pack format');
  if (format !== PACK_FORMAT) throw new EncodingError(`unknown record pack format ${format}`);
  const out: Uint8Array[] = [];
  while (rd.remaining > 0) {
    const start = rd.offset;
    readRecord(rd);
    out.push(field.slice(start, rd.offset));
  }
  return out;
}
