import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { BallotCapture, BallotRecord } from '../../app/ledger/record';
import { BallotCaptureSchema, decodeRecord, encodeCaptureRecord, encodeRecord, isWellFormedCapture, recordBallotId, recordFromCapture, scanRecord } from '../../app/ledger/record';
import { EncodingError } from '../../lib/bytes';
import { packRecords, unpackRecords } from '../../app/ledger/record-pack';
import { decodePending, encodePending, pendingRecord } from '../../app/ledger/entries';
import { bytesToSerial, serialToBytes } from '../../app/ledger/serial';
import { CONTESTS, mulberry32, randomCapture } from './fixtures';

// The test vector in RECORD.md: keep the two identical.
const VECTOR_CAPTURE: BallotCapture = {
  ballotId: 'K0BBRFHEE5TV',
  votingId: 'O:abababab:style-1:precinct-12',
  mode: 'official',
  castAsIs: false,
  imageSha256: new Uint8Array(createHash('sha256').update('ballot scan').digest()),
  readerVersion: 1,
  calibrationVersion: 3,
  contests: [
    { contest: 0, options: [1], overvote: false, undervote: false, marginal: false, writeIn: false },
    { contest: 1, options: [0, 3], overvote: false, undervote: false, marginal: true, writeIn: false },
    { contest: 2, options: [], overvote: false, undervote: true, marginal: false, writeIn: false },
  ],
};
const VECTOR_HEX = '0209816bc3e2e7175b69ba344ed0036f3e2c2025dfbbc23d250701010303000200040001049220';
// The same ballot in version 1 (RECORD.md, "Version 1"): ledgers and bundles written before version 2 hold these.
const VECTOR_V1_HEX = '0109816bc3e2e7175b2c2025dfbbc23d2569ba344ed0036f3e0701010303001001002400020002';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('ballot record encoding', () => {
  it('matches the documented test vector, both ways', () => {
    const bytes = encodeRecord(recordFromCapture(VECTOR_CAPTURE, 7, 1, CONTESTS));
    expect(hex(bytes)).toBe(VECTOR_HEX);
    expect(bytes.length).toBe(39);
    const back = decodeRecord(Buffer.from(VECTOR_HEX, 'hex'));
    expect(back.ballotId).toBe('K0BBRFHEE5TV');
    expect(back.version).toBe(2);
    expect(back.contests[1]).toEqual({ contest: 1, options: [0, 3], overvote: false, undervote: false, marginal: true, writeIn: false, targets: 5 });
    expect(back.contests[2]).toEqual({ contest: 2, options: [], overvote: false, undervote: true, marginal: false, writeIn: false, targets: 2 });
  });

  it('still reads the version-1 vector, means the same ballot by it, and re-encodes it to the same bytes', () => {
    const v1 = decodeRecord(Buffer.from(VECTOR_V1_HEX, 'hex'));
    const v2 = decodeRecord(Buffer.from(VECTOR_HEX, 'hex'));
    expect(v1.version).toBe(1);
    expect(hex(encodeRecord(v1))).toBe(VECTOR_V1_HEX);
    const meaning = (r: BallotRecord) => ({ ...r, version: 0, contests: r.contests.map(({ targets: _t, ...c }) => c) });
    expect(meaning(v1)).toEqual(meaning(v2));
    expect(scanRecord(Buffer.from(VECTOR_V1_HEX, 'hex'))).toMatchObject({ mode: 'official', station: 7, batch: 1 });
  });

  it('refuses to encode a version-2 record without target counts, or with an option past them', () => {
    const r = recordFromCapture(VECTOR_CAPTURE, 7, 1, CONTESTS);
    const noTargets: BallotRecord = { ...r, contests: r.contests.map(({ targets: _t, ...c }) => c) };
    expect(() => encodeRecord(noTargets)).toThrow("needs the contest's target count");
    const past: BallotRecord = { ...r, contests: r.contests.map((c) => (c.contest === 1 ? { ...c, options: [0, 5] } : c)) };
    expect(() => encodeRecord(past)).toThrow('option index 5 is not in contest 1 (it has 5)');
    const unknown = { ...VECTOR_CAPTURE, contests: [{ contest: 3, options: [], overvote: false, undervote: true, marginal: false, writeIn: false }] };
    expect(() => recordFromCapture(unknown, 7, 1, CONTESTS)).toThrow('contest index 3 is not in the election (it has 3)');
    expect(() => encodeCaptureRecord(unknown, 7, 1, CONTESTS)).toThrow('contest index 3 is not in the election (it has 3)');
  });

  it('gives the same bytes for the same ballot however the capture lists it', () => {
    const shuffled: BallotCapture = {
      ...VECTOR_CAPTURE,
      ballotId: 'k0bbrfhee5tv',
      contests: [...VECTOR_CAPTURE.contests].reverse().map((c) => ({ ...c, options: [...c.options].reverse() })),
    };
    expect(hex(encodeRecord(recordFromCapture(shuffled, 7, 1, CONTESTS)))).toBe(VECTOR_HEX);
  });

  it.each([1, 2] as const)('round-trips any version-%s record (property)', (version) => {
    const contest = fc.record({
      extraTargets: fc.nat(20),
      options: fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { maxLength: 40 }).map((xs) => xs.sort((a, b) => a - b)),
      overvote: fc.boolean(),
      undervote: fc.boolean(),
      marginal: fc.boolean(),
      writeIn: fc.boolean(),
    });
    const record = fc.record({
      mode: fc.constantFrom('official' as const, 'test' as const),
      castAsIs: fc.boolean(),
      serial: fc.bigInt({ min: 0n, max: (1n << 60n) - 1n }),
      vid: fc.uint8Array({ minLength: 8, maxLength: 8 }),
      img: fc.uint8Array({ minLength: 8, maxLength: 8 }),
      station: fc.integer({ min: 0, max: 70000 }),
      batch: fc.integer({ min: 0, max: 1 << 20 }),
      readerVersion: fc.nat(1000),
      calibrationVersion: fc.nat(1000),
      contests: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 2000 }), contest), { selector: (t) => t[0], maxLength: 30 }),
    });
    fc.assert(
      fc.property(record, (r) => {
        const idBytes = new Uint8Array(8);
        new DataView(idBytes.buffer).setBigUint64(0, r.serial);
        const rec: BallotRecord = {
          version,
          mode: r.mode,
          castAsIs: r.castAsIs,
          ballotId: bytesToSerial(idBytes),
          votingIdDigest: r.vid,
          imageDigest: r.img,
          station: r.station,
          batch: r.batch,
          readerVersion: r.readerVersion,
          calibrationVersion: r.calibrationVersion,
          contests: r.contests
            .sort((a, b) => a[0] - b[0])
            .map(([c, { extraTargets, ...s }]) => ({ contest: c, ...s, ...(version === 2 ? { targets: (s.options[s.options.length - 1] ?? -1) + 1 + extraTargets } : {}) }))
            .map((c) => (version === 2 && c.targets === 0 ? { ...c, targets: 1 } : c)),
        };
        const bytes = encodeRecord(rec);
        const back = decodeRecord(bytes);
        expect(back).toEqual({ ...rec, votingIdDigest: new Uint8Array(r.vid), imageDigest: new Uint8Array(r.img) });
        expect(hex(encodeRecord(back))).toBe(hex(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['an unknown version', '03', 'unknown ballot record version 3 (this software reads versions 1 and 2)'],
    ['unknown flag bits', `0230${'00'.repeat(7)}`, 'unknown record flag bits'],
    ['a non-minimal varint', `${VECTOR_HEX.slice(0, 50)}8700${VECTOR_HEX.slice(52)}`, 'not minimally encoded'],
    ['trailing bytes', `${VECTOR_HEX}00`, 'unexpected trailing bytes'],
    ['a truncated record', VECTOR_HEX.slice(0, 40), 'truncated: voting ID digest'],
    ['selection bits cut short', VECTOR_HEX.slice(0, -2), 'truncated: selection bits'],
    ['a padding bit set', `${VECTOR_HEX.slice(0, -2)}21`, 'padding after the last target is not zero'],
    ['a version-1 record with a non-minimal varint', `${VECTOR_V1_HEX.slice(0, 50)}8700${VECTOR_V1_HEX.slice(52)}`, 'not minimally encoded'],
    ['a truncated version-1 record', VECTOR_V1_HEX.slice(0, 40), 'truncated: image digest'],
  ])('refuses %s', (_what, h, message) => {
    expect(() => decodeRecord(Buffer.from(h, 'hex'))).toThrow(message);
  });

  it.each([
    ['an unknown version', '03'],
    ['unknown flag bits', `0230${'00'.repeat(7)}`],
    ['a padding bit set', `${VECTOR_HEX.slice(0, -2)}21`],
    ['a non-minimal varint', `${VECTOR_HEX.slice(0, 50)}8700${VECTOR_HEX.slice(52)}`],
    ['trailing bytes', `${VECTOR_HEX}00`],
    ['a truncated record', VECTOR_HEX.slice(0, 40)],
  ])('the fast scan verify uses refuses %s as well', (_what, h) => {
    expect(() => scanRecord(Buffer.from(h, 'hex'))).toThrow(EncodingError);
  });

  it('the fast scan accepts exactly the bytes the full decode accepts, and agrees on mode, station and batch (property)', () => {
    const rand = mulberry32(11);
    const v2 = Array.from({ length: 50 }, () => recordFromCapture(randomCapture(rand), 7, 3, CONTESTS));
    const valid = [...v2.map(encodeRecord), ...v2.map((r) => encodeRecord({ ...r, version: 1 }))];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { maxLength: 3 }), fc.integer({ min: -3, max: 3 }), (which, edits, cut) => {
        const bytes = Buffer.from(valid[which] as Uint8Array);
        for (const [at, v] of edits) bytes[at % bytes.length] = v;
        const mutated = cut < 0 ? bytes.subarray(0, bytes.length + cut) : Buffer.concat([bytes, Buffer.alloc(cut)]);
        let full: BallotRecord | undefined;
        try {
          full = decodeRecord(mutated);
        } catch {
          full = undefined;
        }
        if (full === undefined) {
          expect(() => scanRecord(mutated)).toThrow(EncodingError);
        } else {
          expect(scanRecord(mutated)).toMatchObject({ mode: full.mode, station: full.station, batch: full.batch });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('carries mode and cast-as-is in the serial field without touching the serial', () => {
    const r = decodeRecord(encodeRecord({ ...recordFromCapture(VECTOR_CAPTURE, 7, 1, CONTESTS), mode: 'test', castAsIs: true }));
    expect([r.mode, r.castAsIs, r.ballotId]).toEqual(['test', true, 'K0BBRFHEE5TV']);
  });

  it('keeps the serial as its 60 bits', () => {
    expect(bytesToSerial(serialToBytes('TA11YPR00F23'))).toBe('TA11YPR00F23');
    expect(bytesToSerial(serialToBytes('ZZZZZZZZZZZZ'))).toBe('ZZZZZZZZZZZZ');
    expect(() => serialToBytes('TALLYPROOF23')).toThrow('Crockford');
    expect(bytesToSerial(serialToBytes('777777777777'))).toBe('777777777777');
    expect(() => serialToBytes('TA11YPR00F2')).toThrow('12 Crockford base32 characters');
    expect(() => serialToBytes('TALLYPROOF21')).toThrow('Crockford');
  });

  it('fits at least 25 typical small-ballot records in one 1,040-byte data field', () => {
    const rand = mulberry32(9);
    const records = Array.from({ length: 500 }, () => encodeRecord(recordFromCapture(randomCapture(rand), 7, 3, CONTESTS)));
    const fields = packRecords(records);
    for (const f of fields) expect(f.length).toBeLessThanOrEqual(1040);
    const perField = records.length / fields.length;
    expect(perField).toBeGreaterThanOrEqual(25);
    expect(fields.flatMap((f) => unpackRecords(f)).map(hex)).toEqual(records.map(hex));
  });
});

describe('the ledger hot path: captures checked and encoded without zod or an intermediate record', () => {
  const rand = mulberry32(77);
  // a capture with its contests and options in any order (the encoder must sort as recordFromCapture does)
  const shuffled = (c: BallotCapture, r: () => number): BallotCapture => ({
    ...c,
    contests: [...c.contests].map((s) => ({ ...s, options: [...s.options].sort(() => r() - 0.5) })).sort(() => r() - 0.5),
  });

  it('encodeCaptureRecord gives the bytes of encodeRecord(recordFromCapture(...)) and refuses what it refuses', () => {
    for (let i = 0; i < 2000; i++) {
      const base = randomCapture(rand, rand() < 0.5 ? 'official' : 'test');
      const c = i % 2 === 0 ? base : shuffled(base, rand);
      const station = Math.floor(rand() * 70000);
      const batch = 1 + Math.floor(rand() * 300);
      expect(hex(encodeCaptureRecord(c, station, batch, CONTESTS))).toBe(hex(encodeRecord(recordFromCapture(c, station, batch, CONTESTS))));
    }
    const c = randomCapture(rand);
    const repeatedContest: BallotCapture = { ...c, contests: [...c.contests, c.contests[0] as BallotCapture['contests'][number]] };
    const repeatedOption: BallotCapture = { ...c, contests: [{ contest: 0, options: [1, 1], overvote: true, undervote: false, marginal: false, writeIn: false }] };
    for (const bad of [repeatedContest, repeatedOption]) {
      let expected = '';
      try {
        recordFromCapture(bad, 7, 1, CONTESTS);
      } catch (e) {
        expected = (e as Error).message;
      }
      expect(expected).not.toBe('');
      expect(() => encodeCaptureRecord(bad, 7, 1, CONTESTS)).toThrow(expected);
    }
  });

  it('isWellFormedCapture accepts only what BallotCaptureSchema accepts, and accepts real captures (property)', () => {
    const keys = ['ballotId', 'votingId', 'mode', 'castAsIs', 'imageSha256', 'readerVersion', 'calibrationVersion', 'contests'] as const;
    const selectionKeys = ['contest', 'options', 'overvote', 'undervote', 'marginal', 'writeIn'] as const;
    const oddValue = fc.oneof(
      fc.anything(),
      fc.constantFrom(-1, 0.5, 65535, 65536, Number.NaN, Infinity, '', 'x'.repeat(513), 'K0BBRFHEE5TV', 'k0bbrfhee5tv', 'official', 'test', 'OFFICIAL', true, null, undefined, [], {}),
      fc.constantFrom(new Uint8Array(31), new Uint8Array(32), Buffer.alloc(32), new Uint16Array(16), Array.from({ length: 32 }, () => 0)),
      fc.array(fc.integer({ min: -2, max: 70000 }), { maxLength: 300 }),
    );
    const mutation = fc.record({
      seed: fc.integer(),
      key: fc.constantFrom(...keys),
      selectionKey: fc.constantFrom(...selectionKeys),
      where: fc.constantFrom('top', 'selection', 'option', 'delete', 'contests-length', 'not-an-object'),
      value: oddValue,
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 0, maxLength: 3 }), (ms) => {
        const c = JSON.parse(JSON.stringify(randomCapture(mulberry32(ms[0]?.seed ?? 1)), (_k, v: unknown) => v)) as Record<string, unknown>;
        const real = randomCapture(mulberry32(ms[0]?.seed ?? 1));
        c.imageSha256 = real.imageSha256;
        let input: unknown = c;
        for (const m of ms) {
          const contests = (Array.isArray(c.contests) ? c.contests : []) as unknown[];
          const picked = contests[Math.abs(m.seed) % Math.max(contests.length, 1)];
          const sel = typeof picked === 'object' && picked !== null ? (picked as Record<string, unknown>) : undefined;
          if (m.where === 'top') c[m.key] = m.value;
          else if (m.where === 'delete') delete c[m.key];
          else if (m.where === 'selection' && sel !== undefined) sel[m.selectionKey] = m.value;
          else if (m.where === 'option' && sel !== undefined && Array.isArray(sel.options)) (sel.options as unknown[]).push(m.value);
          else if (m.where === 'contests-length') c.contests = Array.from({ length: 1025 }, () => contests[0]);
          else if (m.where === 'not-an-object') input = m.value;
        }
        const fast = isWellFormedCapture(input);
        const zod = BallotCaptureSchema.safeParse(input).success;
        if (fast) expect(zod).toBe(true);
        if (ms.length === 0) expect(fast).toBe(true);
        return true;
      }),
      { numRuns: 3000 },
    );
    // and every edge value in every field, deterministically
    const edges: unknown[] = [-1, 0.5, 65535, 65536, Number.NaN, Infinity, '', 'x'.repeat(512), 'x'.repeat(513), 'K0BBRFHEE5TV', 'k0bbrfhee5tv', 'K0BBRFHEE5TI', 'official', 'test', 'OFFICIAL', true, null, undefined, [], {}, new Uint8Array(31), new Uint8Array(32), Buffer.alloc(32), new Uint8Array(33), Array.from({ length: 1025 }, () => 0)];
    let fastAccepted = 0;
    for (const value of edges) {
      for (const key of keys) {
        const c: Record<string, unknown> = { ...randomCapture(rand), [key]: value };
        if (isWellFormedCapture(c)) {
          fastAccepted += 1;
          expect(BallotCaptureSchema.safeParse(c).success).toBe(true);
        }
      }
      for (const key of selectionKeys) {
        const base = randomCapture(rand);
        const c = { ...base, contests: [{ ...(base.contests[0] as BallotCapture['contests'][number]), [key]: value }] };
        if (isWellFormedCapture(c)) expect(BallotCaptureSchema.safeParse(c).success).toBe(true);
        const withOption = { ...base, contests: [{ ...(base.contests[0] as BallotCapture['contests'][number]), options: [value] }] };
        if (isWellFormedCapture(withOption)) expect(BallotCaptureSchema.safeParse(withOption).success).toBe(true);
      }
    }
    expect(fastAccepted).toBeGreaterThan(0);
    // every capture the fixtures make (what a station hands over) takes the fast path
    for (let i = 0; i < 500; i++) expect(isWellFormedCapture(randomCapture(rand, rand() < 0.5 ? 'official' : 'test'))).toBe(true);
  });
});

describe('pendingRecord: the record of a pending payload, for verify', () => {
  it('accepts exactly the payloads decodePending accepts and gives the same record bytes (property)', () => {
    const rand = mulberry32(31);
    const votingIds = ['O:abababab:style-1:precinct-12', 'O:ab:stïle-1:précinct-12', 'O:ab:投票:1', 'x'];
    const payloads = Array.from({ length: 40 }, (_, i) => {
      const c = randomCapture(rand);
      const record = encodeRecord(recordFromCapture(c, 7, 1, CONTESTS));
      return encodePending({ record, imageSha256: c.imageSha256, votingId: votingIds[i % votingIds.length] as string });
    });
    const edit = fc.record({
      which: fc.nat(),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
      how: fc.constantFrom('set', 'truncate', 'append', 'none'),
    });
    const outcome = (f: () => Uint8Array): string => {
      try {
        return `ok ${hex(f())}`;
      } catch (e) {
        expect(e).toBeInstanceOf(EncodingError);
        return 'refused';
      }
    };
    let refused = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let p = Buffer.from(payloads[(edits[0] as { which: number }).which % payloads.length] as Uint8Array);
        for (const e of edits) {
          if (e.how === 'set' && p.length > 0) p[e.at % p.length] = e.byte;
          else if (e.how === 'truncate') p = p.subarray(0, e.at % (p.length + 1));
          else if (e.how === 'append') p = Buffer.concat([p, Buffer.from([e.byte])]);
        }
        const want = outcome(() => decodePending(p).record);
        if (want === 'refused') refused += 1;
        expect(outcome(() => pendingRecord(p))).toBe(want);
      }),
      { numRuns: 3000 },
    );
    expect(refused).toBeGreaterThan(100);
  });
});

describe('recordBallotId', () => {
  it('reads the serial of a test-mode, cast-as-is record held in a Buffer without clearing its flag bits', () => {
    // the county export reads records out of SQLite rows (Buffers): the flags cleared in place made a cast-as-is
    // test ballot an official one not cast as is in every CVR after it was looked up
    const rand = mulberry32(11);
    const capture = { ...randomCapture(rand, 'test'), castAsIs: true };
    const bytes = Buffer.from(encodeCaptureRecord(capture, 7, 1, CONTESTS));
    const before = Buffer.from(bytes);
    expect(recordBallotId(bytes)).toBe(capture.ballotId);
    expect(bytes.equals(before)).toBe(true);
    const r = decodeRecord(bytes);
    expect([r.ballotId, r.mode, r.castAsIs]).toEqual([capture.ballotId, 'test', true]);
  });
});
