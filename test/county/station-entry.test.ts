import fc from 'fast-check';
import { parseStationEntry, readStationEntry } from '../../app/county/log/station-entry';
import { stationSignatureVerifier, type StationSignatureVerifier } from '../../app/county/log/station-signature';
import { makeStations, registryOf, stationEntry } from './support';

/**
 * A county log entry read (station-entry.ts) and its signature checked by either verifier: the native one
 * (native/bip340) the monitor and the log use where built, and tiny-secp256k1, the fallback. Their verdicts
 * must be the same on every entry, good or bad; only the speed differs.
 */

const stations = makeStations(3);
const registry = registryOf(stations.slice(0, 2));
const verifier = (kind: 'native' | 'wasm'): StationSignatureVerifier => {
  const v = stationSignatureVerifier(kind);
  if (!v.ok) throw new Error(v.error);
  return v.value;
};
const native = verifier('native');
const wasm = verifier('wasm');
const SIGNATURE_LINE = 'an entry is a station checkpoint followed by "signature <128 hex digits>"';
/** the shape the log accepted before the signature line was found by position */
const OLD_SHAPE = /^([\s\S]*\n)signature ([0-9a-f]{128})\n$/;

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const good = stationEntry(stations[0]!, 7);

test('a good entry: the same checkpoint, body and signature by both verifiers, read from a view into a larger buffer too', () => {
  const a = parseStationEntry(good, registry, native);
  const b = parseStationEntry(good, registry, wasm);
  expect(a).toEqual(b);
  expect(a.ok && a.value.checkpoint).toMatchObject({ station: 'station-001', batch: 7 });
  const padded = Buffer.concat([Buffer.from('xx'), good, Buffer.from('yy')]);
  expect(parseStationEntry(padded.subarray(2, 2 + good.length), registry, native)).toEqual(a);
});

test('forged and misplaced signatures are refused alike by both verifiers, with the same words', () => {
  const t = text(good);
  const sigAt = t.lastIndexOf('signature ') + 10;
  const flipped = t.slice(0, sigAt + 5) + (t[sigAt + 5] === '0' ? '1' : '0') + t.slice(sigAt + 6);
  // station-002's checkpoint carrying station-001's signature of another checkpoint
  const other = text(stationEntry(stations[1]!, 7));
  const borrowed = other.slice(0, other.lastIndexOf('signature ')) + t.slice(t.lastIndexOf('signature '));
  // an unregistered station's entry, genuinely signed: refused before any signature is checked
  const unregistered = text(stationEntry(stations[2]!, 7));
  for (const [entry, kind, words] of [
    [flipped, 'bad-signature', /not station station-001's/],
    [borrowed, 'bad-signature', /not station station-002's/],
    [unregistered, 'unknown-station', /station-003.*not registered/],
    [t.replace(/signature ([0-9a-f]+)/, (_m, h: string) => `signature ${h.toUpperCase()}`), 'malformed', SIGNATURE_LINE],
  ] as const) {
    const a = parseStationEntry(Buffer.from(entry), registry, native);
    expect(a).toEqual(parseStationEntry(Buffer.from(entry), registry, wasm));
    expect(a.ok).toBe(false);
    if (!a.ok) {
      expect(a.error.kind).toBe(kind);
      expect(a.error.message).toMatch(words);
    }
  }
});

test('the signature line is found where the old pattern found it: 1,000 mutated entries, the same accepted shape', () => {
  const alphabet = ['\n', ' ', 'a', 'f', 'g', 'A', '0', 's', 'é'];
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), ch: fc.constantFrom(...alphabet) }),
    fc.record({ op: fc.constant('replace' as const), at: fc.nat(), ch: fc.constantFrom(...alphabet) }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat(), n: fc.constant(0) }),
  );
  const base = text(good);
  const seen = { shape: 0, refused: 0 };
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), (ops, nearEnd) => {
      let t = base;
      for (const m of ops) {
        // most of what matters is in the last line: aim there half the time
        const at = nearEnd ? t.length - 1 - (m.at % 150) : m.at % (t.length + 1);
        const i = Math.max(0, Math.min(t.length, at));
        if (m.op === 'delete') t = t.slice(0, i) + t.slice(i + m.n);
        else if (m.op === 'insert') t = t.slice(0, i) + m.ch + t.slice(i);
        else if (m.op === 'replace') t = t.slice(0, i) + m.ch + t.slice(i + 1);
        else t = t.slice(0, i);
      }
      const r = readStationEntry(Buffer.from(t), registry);
      const refusedShape = !r.ok && r.error.message === SIGNATURE_LINE;
      expect(refusedShape).toBe(!OLD_SHAPE.test(t));
      seen[refusedShape ? 'refused' : 'shape']++;
      // and whatever reads as a station entry carries the signature the old pattern took from it
      if (r.ok) expect(Buffer.from(r.value.signature).toString('hex')).toBe((OLD_SHAPE.exec(t) as RegExpExecArray)[2]);
    }),
    { numRuns: 1000 },
  );
  // both sides of the line were exercised, not only one
  expect(Math.min(seen.shape, seen.refused)).toBeGreaterThan(100);
});

test('the shortest shapes: no body, a body without its newline, nothing but the signature line', () => {
  const sig = `signature ${'ab'.repeat(64)}\n`;
  for (const t of [sig, `x${sig}`, `\n${sig}`, `${sig}\n`, '', '\n']) {
    const r = readStationEntry(Buffer.from(t), registry);
    expect(!r.ok && r.error.message === SIGNATURE_LINE).toBe(!OLD_SHAPE.test(t));
  }
});
