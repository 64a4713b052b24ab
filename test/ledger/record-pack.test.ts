import fc from 'fast-check';
import { RECORDS_HEADER_BYTES, encodeRecordsField } from '../../app/formats/publication-formats';
import { ByteReader, EncodingError } from '../../lib/bytes';
import { decodeRecord, encodeCaptureRecord, encodeRecord, readRecordContext, recordFromCapture } from '../../app/ledger/record';
import { DEFAULT_FIELD_BYTES, PACK_FORMAT, PACK_FORMAT_1, packRecords, unpackRecords } from '../../app/ledger/record-pack';
import { TallyCollector } from '../../app/ledger/tally';
import { CONTESTS, genesisFor, mulberry32, randomCapture } from './fixtures';
import { ballotChoice, capture, election, worstCase } from './example-ballots';

/** What a records field leaves for the pack: 1,040 bytes less the "TPR" header (app/formats/publication-formats.ts). */
const PACK_BYTES = DEFAULT_FIELD_BYTES - RECORDS_HEADER_BYTES;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const MUNICIPAL = election('municipal');
const GENERAL = election('general');

function perField(records: readonly Uint8Array[]): number[] {
  const fields = packRecords(records, PACK_BYTES);
  // the whole path: every pack fits the 1,040-byte field with its header, and gives the records back
  for (const [i, p] of fields.entries()) expect(encodeRecordsField(new Uint8Array(32), i, fields.length, p).length).toBeLessThanOrEqual(DEFAULT_FIELD_BYTES);
  expect(fields.flatMap((f) => unpackRecords(f)).map(hex)).toEqual(records.map(hex));
  return fields.map((f) => unpackRecords(f).length);
}

describe.each([MUNICIPAL, GENERAL])('records of random ballots of the $name example election', (e) => {
  it('round-trip through encode, decode, pack and unpack, byte for byte and deterministically (property)', () => {
    fc.assert(
      fc.property(fc.array(ballotChoice, { minLength: 1, maxLength: 60 }), fc.integer({ min: 200, max: 1040 }), (choices, fieldBytes) => {
        const captures = choices.map((b) => capture(e, b));
        const records = captures.map((c, i) => {
          const bytes = encodeCaptureRecord(c, 7, 1 + (i % 2), e.map);
          const record = recordFromCapture(c, 7, 1 + (i % 2), e.map);
          expect(hex(encodeRecord(record))).toBe(hex(bytes));
          const back = decodeRecord(bytes);
          expect(back).toEqual(record);
          // every field an auditor needs keeps its meaning
          expect(back.contests.map((s) => ({ contest: s.contest, options: s.options, overvote: s.overvote, undervote: s.undervote, marginal: s.marginal, writeIn: s.writeIn }))).toEqual(c.contests);
          expect(back.contests.map((s) => s.targets)).toEqual(c.contests.map((s) => e.map[s.contest]?.options.length));
          expect([back.ballotId, back.mode, back.castAsIs]).toEqual([c.ballotId, c.mode, c.castAsIs]);
          expect(hex(back.imageDigest)).toBe(hex(c.imageSha256.subarray(0, 8)));
          return bytes;
        });
        const fields = packRecords(records, fieldBytes);
        for (const f of fields) {
          expect(f[0]).toBe(PACK_FORMAT);
          expect(f.length).toBeLessThanOrEqual(fieldBytes);
        }
        expect(fields.flatMap((f) => unpackRecords(f)).map(hex)).toEqual(records.map(hex));
        expect(packRecords(records, fieldBytes).map(hex)).toEqual(fields.map(hex));
      }),
      { numRuns: 150 },
    );
  });
});

describe('records per 1,040-byte chain data field (issue 14: the design promises at least 25)', () => {
  it('packs at least 25 worst-case records of the four-contest municipal ballot per field', () => {
    // both styles and all three precincts in every field: three voting IDs, so three contexts a field
    const counts = perField(worstCase(MUNICIPAL, 1000));
    const full = counts.slice(0, -1);
    expect(Math.min(...full)).toBeGreaterThanOrEqual(25);
    // RECORD.md states the figures: 44 a field, and 45 for ballots with one-byte station, batch and versions
    expect(Math.min(...full)).toBe(44);
    const typical = perField(fc.sample(ballotChoice, { numRuns: 1000, seed: 10 }).map((b) => encodeCaptureRecord(capture(MUNICIPAL, { ...b, mode: 'official' }), 7, 3, MUNICIPAL.map)));
    expect(Math.min(...typical.slice(0, -1))).toBe(45);
  });

  it('packs 20 worst-case records of the 24-contest general ballot per field, 21 typical ones (the figures RECORD.md states)', () => {
    const counts = perField(worstCase(GENERAL, 1000));
    expect(Math.min(...counts.slice(0, -1))).toBe(20);
    // the selection bits do not depend on the marks, so a typical ballot costs what the worst case does less its larger varints
    const rand = fc.sample(ballotChoice, { numRuns: 1000, seed: 14 });
    const typical = perField(rand.map((b) => encodeCaptureRecord(capture(GENERAL, { ...b, mode: 'official' }), 7, 3, GENERAL.map)));
    expect(Math.min(...typical.slice(0, -1))).toBe(21);
  });
});

describe('record pack: bad fields are refused with a clear error', () => {
  const records = worstCase(MUNICIPAL, 6);
  const [field] = packRecords(records, PACK_BYTES) as [Uint8Array];
  // a record is [version][serial, image digest: 16][context][selection bits]; in the pack [index][16][bits]
  const shape = (r: Uint8Array): { ctx: number; bits: number } => {
    const rd = new ByteReader(r);
    rd.skip(17, 'head');
    const { bitBytes } = readRecordContext(rd);
    return { ctx: rd.offset - 17, bits: bitBytes };
  };
  const { ctx: ctxBytes, bits: bitBytes } = shape(records[0] as Uint8Array);
  const recordStart = 2 + 3 * ctxBytes;
  const packedRecord = 1 + 16 + bitBytes;

  it('unpacks what it packed, three contexts in first-use order', () => {
    expect(field[0]).toBe(PACK_FORMAT);
    expect(field[1]).toBe(3);
    expect(unpackRecords(field).map(hex)).toEqual(records.map(hex));
    for (const r of records) expect(shape(r)).toEqual({ ctx: ctxBytes, bits: bitBytes });
    expect(field.length).toBe(recordStart + 6 * packedRecord);
  });

  it.each([
    ['an unknown pack format', () => Uint8Array.of(3, 1), 'unknown record pack format 3 (this software reads formats 1 and 2)'],
    ['a context count of 0', () => Uint8Array.of(PACK_FORMAT, 0), 'a context count of 0'],
    ['a context count past the bytes', () => Uint8Array.of(PACK_FORMAT, 100, 0), 'context count 100 exceeds the bytes left'],
    ['a truncated last record', () => field.subarray(0, field.length - 1), 'truncated: record 5 selection bits'],
    ['a stray byte after the last record', () => Buffer.concat([field, Uint8Array.of(0)]), 'truncated: record 6 ballot ID and image digest'],
    ['a record naming a context the field lacks', () => withFirstIndex(7), 'names context 7, the field has 3'],
    ['contexts used out of their listed order', () => withFirstIndex(1), 'record 0 uses context 1 before context 0'],
    // a general ballot's 24 contests take 198 bits of flags and targets: 2 bits of padding (a municipal one needs none)
    ['a padding bit set in a record', () => withLastByte(packRecords(worstCase(GENERAL, 3), PACK_BYTES)[0] as Uint8Array, (b) => b | 1), 'record 2: selection bits: the padding after the last target is not zero'],
  ])('refuses %s', (_what, make, message) => {
    const bad = make();
    expect(() => unpackRecords(bad)).toThrow(EncodingError);
    expect(() => unpackRecords(bad)).toThrow(message);
  });

  function withFirstIndex(i: number): Uint8Array {
    const f = Buffer.from(field);
    f[recordStart] = i;
    return f;
  }
  function withLastByte(of: Uint8Array, edit: (b: number) => number): Uint8Array {
    const f = Buffer.from(of);
    f[f.length - 1] = edit(f[f.length - 1] as number);
    return f;
  }

  it('refuses a context no record uses, and a context listed twice', () => {
    const ctx0 = field.subarray(2, 2 + ctxBytes);
    const ctx1 = field.subarray(2 + ctxBytes, 2 + 2 * ctxBytes);
    const record0 = field.subarray(recordStart, recordStart + packedRecord);
    expect(unpackRecords(Buffer.concat([Uint8Array.of(PACK_FORMAT, 1), ctx0, record0])).map(hex)).toEqual([hex(records[0] as Uint8Array)]);
    const onlyFirstUsed = Buffer.concat([Uint8Array.of(PACK_FORMAT, 2), ctx0, ctx1, record0]);
    expect(() => unpackRecords(onlyFirstUsed)).toThrow('context 1 is used by no record');
    const twice = Buffer.concat([Uint8Array.of(PACK_FORMAT, 2), ctx0, ctx0, record0]);
    expect(() => unpackRecords(twice)).toThrow('context 1 repeats an earlier one');
  });

  it('anything a changed field unpacks to packs back to that very field: one packing, one byte string (property)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }), fc.integer({ min: -2, max: 2 }), (edits, cut) => {
        const f = Buffer.from(field);
        for (const [at, v] of edits) f[at % f.length] = v;
        const mutated = cut < 0 ? f.subarray(0, f.length + cut) : Buffer.concat([f, Buffer.alloc(cut)]);
        let out: Uint8Array[];
        try {
          out = unpackRecords(mutated);
        } catch (e) {
          expect(e).toBeInstanceOf(EncodingError);
          return;
        }
        accepted += 1;
        for (const r of out) expect(hex(encodeRecord(decodeRecord(r)))).toBe(hex(r));
        expect(packRecords(out, PACK_BYTES).map(hex)).toEqual([hex(mutated)]);
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('an empty batch is the format byte alone, in either format', () => {
    expect(unpackRecords(Uint8Array.of(PACK_FORMAT))).toEqual([]);
    expect(unpackRecords(Uint8Array.of(PACK_FORMAT_1))).toEqual([]);
    expect(packRecords([])).toEqual([]);
  });
});

describe('version-1 records and format-1 fields (written before version 2, still read)', () => {
  const v2 = worstCase(MUNICIPAL, 30);
  const v1 = v2.map((r) => encodeRecord({ ...decodeRecord(r), version: 1 }));

  it('a batch holding version-1 records packs in format 1, records back to back, and unpacks to them', () => {
    const mixed = [...v1.slice(0, 10), ...v2.slice(10)];
    for (const list of [v1, mixed]) {
      const fields = packRecords(list, PACK_BYTES);
      for (const f of fields) expect(f[0]).toBe(PACK_FORMAT_1);
      expect(fields.flatMap((f) => unpackRecords(f)).map(hex)).toEqual(list.map(hex));
    }
  });

  it('a format-1 field already on a chain still unpacks', () => {
    const field = Buffer.concat([Uint8Array.of(PACK_FORMAT_1), ...v1.slice(0, 3)]);
    expect(unpackRecords(field).map(hex)).toEqual(v1.slice(0, 3).map(hex));
    expect(() => unpackRecords(Buffer.concat([field, Uint8Array.of(9)]))).toThrow('unknown ballot record version 9');
  });
});

describe('target counts are checked against the election when records are counted', () => {
  it('the tally refuses a record whose contest has another number of targets than the election gives it', () => {
    const rand = mulberry32(5);
    const good = decodeRecord(encodeCaptureRecord(randomCapture(rand), 7, 1, CONTESTS));
    const tally = new TallyCollector(genesisFor());
    tally.addCast(good);
    const wider = CONTESTS.map((c, i) => (i === 1 ? { ...c, options: [...c.options, 'f'] } : c));
    const other = decodeRecord(encodeCaptureRecord(randomCapture(rand), 7, 1, wider));
    expect(() => tally.addCast(other)).toThrow(/gives contest council 6 targets, the election has 5 options/);
  });
});
