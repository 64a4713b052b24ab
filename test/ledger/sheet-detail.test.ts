import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { readCastSheetDetails } from '../../app/ledger/cast-sheet-details';
import { decodePending, encodePending, pendingRecord } from '../../app/ledger/entries';
import { Ledger } from '../../app/ledger/ledger';
import type { BallotCapture } from '../../app/ledger/record';
import { encodeRecord, recordFromCapture } from '../../app/ledger/record';
import type { SheetDetail } from '../../app/ledger/sheet-detail';
import { IMAGE_ID_PATTERN, newImageId, scoreUnits } from '../../app/ledger/sheet-detail';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { EncodingError } from '../../lib/bytes';
import { CONTESTS, genesisFor, mulberry32, randomCapture, tempDir, testSigner, withRandomDetail } from './fixtures';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const scan = new Uint8Array(createHash('sha256').update('ballot scan').digest());

// RECORD.md's record test vector, and its pending entry's sheet-detail vector: keep the three identical.
const CAPTURE: BallotCapture = {
  ballotId: 'K0BBRFHEE5TV',
  votingId: 'O:abababab:style-1:precinct-12',
  mode: 'official',
  castAsIs: false,
  imageSha256: scan,
  readerVersion: 1,
  calibrationVersion: 3,
  contests: [
    { contest: 0, options: [1], overvote: false, undervote: false, marginal: false, writeIn: false },
    { contest: 1, options: [0, 3], overvote: false, undervote: false, marginal: true, writeIn: false },
    { contest: 2, options: [], overvote: false, undervote: true, marginal: false, writeIn: false },
  ],
};
const DETAIL: SheetDetail = {
  sides: [{ imageId: '00112233445566778899aabbccddeeff', sha256: scan, kept: true }],
  contests: [
    { contest: 0, scores: [120, 9350, 40], marginal: [] },
    { contest: 1, scores: [9100, 30, 2400, 8800, 0], marginal: [2] },
    { contest: 2, scores: [10, 0], marginal: [] },
  ],
};
const PENDING_V1_HEX =
  '270209816bc3e2e7175b69ba344ed0036f3e2c2025dfbbc23d25070101030300020004000104922069ba344ed0036f3e04a4abda85a72c125ab677a81ecc834ca10d01ea8bc6f5fe1e4f3a61626162616261623a7374796c652d313a70726563696e63742d3132';
const DETAIL_HEX =
  '010100112233445566778899aabbccddeeff69ba344ed0036f3e04a4abda85a72c125ab677a81ecc834ca10d01ea8bc6f5fe01030002788649280000048c471ee012e04400010200010a0000';

const record = encodeRecord(recordFromCapture(CAPTURE, 7, 1, CONTESTS));
const v2 = (detailHex: string): Buffer => Buffer.from(PENDING_V1_HEX + detailHex, 'hex');

describe('pending entry format 2: the sheet detail', () => {
  it('matches the documented vector both ways, after the format-1 bytes unchanged', () => {
    expect(hex(encodePending({ record, imageSha256: scan, votingId: CAPTURE.votingId }))).toBe(PENDING_V1_HEX);
    const bytes = encodePending({ record, imageSha256: scan, votingId: CAPTURE.votingId, detail: DETAIL });
    expect(hex(bytes)).toBe(PENDING_V1_HEX + DETAIL_HEX);
    const back = decodePending(bytes);
    expect(back.detail).toEqual(DETAIL);
    expect(hex(back.record)).toBe(hex(record));
    expect(hex(pendingRecord(bytes))).toBe(hex(record));
  });

  it('still reads a format-1 pending entry (no detail)', () => {
    const old = decodePending(Buffer.from(PENDING_V1_HEX, 'hex'));
    expect(old.detail).toBeUndefined();
    expect(old.votingId).toBe(CAPTURE.votingId);
    expect(hex(old.imageSha256)).toBe(hex(scan));
  });

  it('round-trips random details with one or two sides', () => {
    const rand = mulberry32(5);
    for (let i = 0; i < 200; i++) {
      const c = withRandomDetail(rand, randomCapture(rand), 1 + (i % 2), i % 3 !== 0);
      const r = encodeRecord(recordFromCapture(c, 7, 1, CONTESTS));
      const bytes = encodePending({ record: r, imageSha256: c.imageSha256, votingId: c.votingId, detail: c.detail });
      expect(decodePending(bytes).detail).toEqual(c.detail);
    }
  });

  const refusals: [string, string, string][] = [
    ['an unknown detail version', '02' + DETAIL_HEX.slice(2), 'unknown sheet detail version 2 (this software reads version 1)'],
    ['no side', '0100' + DETAIL_HEX.slice(4 + 32 + 64 + 2), 'a sheet has 1 to 4 sides, got 0'],
    ['a flag bit that means nothing', DETAIL_HEX.replace('f5fe0103', 'f5fe0303'), 'side 1 flags 0x3 set bits that mean nothing'],
    ['a score above 10000', DETAIL_HEX.replace('78864928', '78f24e28'), 'contest 0 score 10098 is above 10000'],
    ['a marginal option past the targets', DETAIL_HEX.replace('0001020001', '0001050001'), 'contest 1 marginal option 5 is not one of its 5 targets'],
    ['a non-minimal score', DETAIL_HEX.replace('00027886', '0002f80086'), 'is not minimally encoded'],
    ['a truncated block', DETAIL_HEX.slice(0, -4), 'truncated'],
    ['a trailing byte', `${DETAIL_HEX}00`, '1 unexpected trailing bytes after the pending entry'],
  ];
  it.each(refusals)('refuses %s with a specific error, in decodePending and pendingRecord alike', (_what, detailHex, message) => {
    const bytes = v2(detailHex);
    expect(() => decodePending(bytes)).toThrow(EncodingError);
    expect(() => decodePending(bytes)).toThrow(message);
    expect(() => pendingRecord(bytes)).toThrow(message);
  });

  it('refuses two sides with one image ID', () => {
    const side = DETAIL.sides[0];
    if (side === undefined) throw new Error('no side');
    expect(() => encodePending({ record, imageSha256: scan, votingId: 'x', detail: { ...DETAIL, sides: [side, side] } })).toThrow('two sides have the same image ID');
    const twice = DETAIL_HEX.slice(0, 2) + '02' + DETAIL_HEX.slice(4, 4 + 32 + 64 + 2).repeat(2) + DETAIL_HEX.slice(4 + 32 + 64 + 2);
    expect(() => decodePending(v2(twice))).toThrow('two sides have the same image ID');
    expect(() => pendingRecord(v2(twice))).toThrow('two sides have the same image ID');
  });

  it('pendingRecord accepts exactly the format-2 payloads decodePending accepts (property)', () => {
    const rand = mulberry32(41);
    const payloads = Array.from({ length: 30 }, (_, i) => {
      const c = withRandomDetail(rand, randomCapture(rand), 1 + (i % 2));
      return encodePending({ record: encodeRecord(recordFromCapture(c, 7, 1, CONTESTS)), imageSha256: c.imageSha256, votingId: c.votingId, detail: c.detail });
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
      fc.property(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'truncate', 'append'), (which, at, byte, how) => {
        let p = Buffer.from(payloads[which % payloads.length] as Uint8Array);
        if (how === 'set') p[at % p.length] = byte;
        else if (how === 'truncate') p = p.subarray(0, at % (p.length + 1));
        else p = Buffer.concat([p, Buffer.from([byte])]);
        const want = outcome(() => decodePending(p).record);
        if (want === 'refused') refused += 1;
        expect(outcome(() => pendingRecord(p))).toBe(want);
      }),
      { numRuns: 2000 },
    );
    expect(refused).toBeGreaterThan(100);
  });

  it('image IDs are 128 random bits in lowercase hex, and scores are whole ten-thousandths clamped to 0..10000', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newImageId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(IMAGE_ID_PATTERN);
    expect([scoreUnits(0), scoreUnits(0.12345), scoreUnits(0.9999), scoreUnits(1), scoreUnits(1.2), scoreUnits(-0.01)]).toEqual([0, 1235, 9999, 10000, 10000, 0]);
    expect(() => scoreUnits(Number.NaN)).toThrow('a mark score must be a number');
  });
});

describe('the ledger and sheet detail', () => {
  const signer = testSigner();

  it('refuses a detail that disagrees with the election or the capture, naming what', () => {
    const l = Ledger.create(path.join(tempDir(), 'l.sqlite'), genesisFor());
    try {
      const c = { ...CAPTURE, detail: DETAIL };
      const shortScores = { ...c, detail: { ...DETAIL, contests: DETAIL.contests.map((k) => (k.contest === 2 ? { ...k, scores: [10] } : k)) } };
      expect(l.appendPending(shortScores)).toEqual({ ok: false, error: { kind: 'invalid', detail: 'contest measure-1: 1 scores for 2 targets' } });
      const flag = { ...c, detail: { ...DETAIL, contests: DETAIL.contests.map((k) => (k.contest === 1 ? { ...k, marginal: [] } : k)) } };
      expect(l.appendPending(flag)).toEqual({ ok: false, error: { kind: 'invalid', detail: 'contest council: the marginal flag disagrees with 0 marginal option(s) in the sheet detail' } });
      const missing = { ...c, detail: { ...DETAIL, contests: DETAIL.contests.slice(0, 2) } };
      expect(l.appendPending(missing)).toEqual({ ok: false, error: { kind: 'invalid', detail: 'the sheet detail scores 2 contest(s), the ballot has 3' } });
      const badId = { ...c, detail: { ...DETAIL, sides: [{ imageId: 'ABC', sha256: scan, kept: true }] } };
      const r = l.appendPending(badId);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.kind === 'invalid' && r.error.detail).toMatch(/side 1: the image ID must be 32 lowercase hex digits/);
      expect(l.appendPending(c).ok).toBe(true);
    } finally {
      l.close();
    }
  });

  it('hands out each cast ballot with its detail and leaf hash; old-format and returned ballots as they are; verify passes', () => {
    const file = path.join(tempDir(), 'l.sqlite');
    const l = Ledger.create(file, genesisFor('official', signer));
    const rand = mulberry32(9);
    const cast: BallotCapture[] = [];
    try {
      const old = randomCapture(rand);
      l.confirmCast(unwrap(l.appendPending(old)));
      cast.push(old);
      const returned = withRandomDetail(rand, randomCapture(rand));
      l.markReturned(unwrap(l.appendPending(returned)), 'voter-returned');
      for (let i = 0; i < 5; i++) {
        const c = withRandomDetail(rand, randomCapture(rand), 1 + (i % 2));
        l.confirmCast(unwrap(l.appendPending(c)));
        cast.push(c);
      }
      expect(l.closeBatch(signer).ok).toBe(true);
    } finally {
      l.close();
    }
    const got = readCastSheetDetails(file);
    expect(got.map((g) => g.ballotId)).toEqual(cast.map((c) => c.ballotId));
    expect(got.map((g) => g.detail)).toEqual(cast.map((c) => c.detail));
    expect(got[0]?.detail).toBeUndefined();
    for (const g of got) expect(g.leafHash).toMatch(/^[0-9a-f]{64}$/);
    const leaves: string[] = [];
    const report = verifyLedgerFile(file, {}, { onCast: (r) => leaves.push(createHash('sha256').update(Buffer.concat([Buffer.from([0]), encodeRecord(r)])).digest('hex')) });
    expect(report.ok).toBe(true);
    expect(new Set(got.map((g) => g.leafHash))).toEqual(new Set(leaves));
    expect(fs.existsSync(file)).toBe(true);
  });
});

function unwrap(r: { ok: true; value: { seq: number } } | { ok: false; error: unknown }): number {
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.error)}`);
  return r.value.seq;
}
