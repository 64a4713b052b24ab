import { deterministicRng, isSerial, normalizeSerial, randomSerials, serialHalves } from '../../ballots/identity';
import { serialFromHalves } from '../../ballots/identity/serial';

describe('ballot serials', () => {
  it('are 12 Crockford base32 characters, unique within a run', () => {
    const serials = randomSerials(20000);
    expect(new Set(serials).size).toBe(20000);
    for (const s of serials.slice(0, 500)) expect(s).toMatch(/^[0-9A-HJKMNP-TV-Z]{12}$/);
  });

  it('are reproducible for a seed, and the first k do not depend on the run size', () => {
    const a = randomSerials(50, deterministicRng(7));
    expect(randomSerials(50, deterministicRng(7))).toEqual(a);
    expect(randomSerials(10, deterministicRng(7))).toEqual(a.slice(0, 10));
    expect(randomSerials(50, deterministicRng(8))).not.toEqual(a);
  });

  it('come out in no order: not sorted, and neighbours share no more prefix than chance', () => {
    const s = randomSerials(2000, deterministicRng('order'));
    const sorted = [...s].sort();
    expect(s).not.toEqual(sorted);
    // Sequential serials would share their first characters with the next one almost always.
    const samePrefix = s.slice(1).filter((x, i) => x.slice(0, 2) === (s[i] as string).slice(0, 2)).length;
    expect(samePrefix).toBeLessThan(20);
    // Every character position uses the whole alphabet.
    for (let pos = 0; pos < 12; pos += 1) expect(new Set(s.map((x) => x[pos])).size).toBe(32);
  });

  it('skip duplicates drawn by the source and serials to avoid', () => {
    // A source that repeats itself: every serial would be the same without the dedupe.
    let calls = 0;
    const stuttering = (n: number): Uint8Array => {
      calls += 1;
      return new Uint8Array(n).fill(Math.floor(calls / 3));
    };
    const s = randomSerials(4, stuttering);
    expect(new Set(s).size).toBe(4);
    const first = randomSerials(3, deterministicRng('avoid'));
    const again = randomSerials(3, deterministicRng('avoid'), new Set(first));
    expect(again.filter((x) => first.includes(x))).toEqual([]);
  });

  it('split into two 30-bit halves and back', () => {
    expect(serialHalves('000000000000')).toEqual({ hi: 0, lo: 0 });
    expect(serialHalves('ZZZZZZZZZZZZ')).toEqual({ hi: 2 ** 30 - 1, lo: 2 ** 30 - 1 });
    expect(serialHalves('000001000010')).toEqual({ hi: 1, lo: 32 });
    for (const s of randomSerials(200, deterministicRng('halves'))) {
      const { hi, lo } = serialHalves(s);
      expect(serialFromHalves(hi, lo)).toBe(s);
    }
    expect(() => serialHalves('00000000000I')).toThrow('not a ballot serial');
    expect(() => serialFromHalves(2 ** 30, 0)).toThrow('30-bit');
  });

  it('normalise what a person types, but only canonical strings are serials', () => {
    expect(normalizeSerial('7k2m-9qx4-vboc')).toBe('7K2M9QX4VB0C');
    expect(normalizeSerial('lI0o 0000 0000')).toBe('110000000000');
    expect(normalizeSerial('7K2M9QX4VB0')).toBeUndefined();
    expect(normalizeSerial('7K2M9QX4VB0U')).toBeUndefined();
    expect(isSerial('7k2m9qx4vb0c')).toBe(false);
  });

  it('refuse a bad count and a short random source', () => {
    expect(() => randomSerials(-1)).toThrow('count');
    expect(() => randomSerials(1.5)).toThrow('count');
    expect(() => randomSerials(1, () => new Uint8Array(4))).toThrow('returned 4 bytes');
    expect(randomSerials(0)).toEqual([]);
  });
});

describe('deterministicRng', () => {
  it('gives the same stream however it is read', () => {
    const whole = deterministicRng('x')(100);
    const r = deterministicRng('x');
    const parts = [r(1), r(31), r(33), r(35)];
    expect(Buffer.concat(parts)).toEqual(Buffer.from(whole));
    expect(Buffer.from(deterministicRng('y')(32))).not.toEqual(Buffer.from(whole.subarray(0, 32)));
  });
});
