import fc from 'fast-check';
import { BallotIdIndex } from '../../app/ledger/ballot-id-index';
import { recordBallotIdKey } from '../../app/ledger/record';

/** A record-shaped buffer: version byte, 8-byte serial (flag bits in the top nibble), then anything. */
function recordWith(serialHi: number, serialLo: number, flags = 0, tail = 3): Uint8Array {
  const b = Buffer.alloc(9 + tail, 0xaa);
  b[0] = 1;
  b.writeUInt32BE(serialHi >>> 0, 1);
  b.writeUInt32BE(serialLo >>> 0, 5);
  b[1] = ((b[1] as number) & 0x0f) | (flags & 0xf0);
  return b;
}

describe('BallotIdIndex', () => {
  it('keys by the serial alone, as recordBallotIdKey does: the flag bits and the rest of the record do not count', () => {
    const idx = new BallotIdIndex();
    const official = recordWith(0x0123_4567, 0x89ab_cdef, 0x00, 3);
    const testCastAsIs = recordWith(0x0123_4567, 0x89ab_cdef, 0xc0, 20);
    expect(recordBallotIdKey(official)).toBe(recordBallotIdKey(testCastAsIs));
    idx.set(official, 12);
    expect(idx.get(testCastAsIs)).toBe(12);
    expect(idx.get(recordWith(0x0123_4567, 0x89ab_cdee))).toBe(-1);
    expect(idx.get(recordWith(0x0223_4567, 0x89ab_cdef))).toBe(-1);
  });

  it('behaves like a Map keyed by recordBallotIdKey under any mix of set, get and delete', () => {
    // few distinct high and low words, so serials share slots and probe runs, and deletes shift them back
    const serial = fc.record({ hi: fc.integer({ min: 0, max: 5 }).map((x) => x * 0x0100_0001), lo: fc.integer({ min: 0, max: 40 }).map((x) => (x * 0x9e37_79b9) >>> 0), flags: fc.constantFrom(0, 0x40, 0x80, 0xc0) });
    const op = fc.oneof(
      fc.record({ op: fc.constant('set' as const), s: serial, seq: fc.integer({ min: 1, max: 2 ** 40 }) }),
      fc.record({ op: fc.constant('delete' as const), s: serial }),
      fc.record({ op: fc.constant('get' as const), s: serial }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 100, maxLength: 600 }), (ops) => {
        const idx = new BallotIdIndex();
        const model = new Map<string, number>();
        for (const o of ops) {
          const r = recordWith(o.s.hi, o.s.lo, o.s.flags);
          const key = recordBallotIdKey(r);
          if (o.op === 'set') {
            idx.set(r, o.seq);
            model.set(key, o.seq);
          } else if (o.op === 'delete') {
            expect(idx.delete(r)).toBe(model.delete(key));
          } else {
            expect(idx.get(r)).toBe(model.get(key) ?? -1);
          }
          expect(idx.size).toBe(model.size);
        }
        for (let hi = 0; hi <= 5; hi++) {
          for (let lo = 0; lo <= 40; lo++) {
            const r = recordWith(hi * 0x0100_0001, (lo * 0x9e37_79b9) >>> 0);
            expect(idx.get(r)).toBe(model.get(recordBallotIdKey(r)) ?? -1);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('grows past its first capacity and keeps every serial', () => {
    const idx = new BallotIdIndex();
    for (let i = 0; i < 50_000; i++) idx.set(recordWith(i >>> 3, Math.imul(i, 0x9e37_79b9)), i + 1);
    expect(idx.size).toBe(50_000);
    for (let i = 0; i < 50_000; i += 7) expect(idx.get(recordWith(i >>> 3, Math.imul(i, 0x9e37_79b9)))).toBe(i + 1);
    expect(idx.get(recordWith(50_000, 1))).toBe(-1);
  });
});
