import fc from 'fast-check';
import type { VotingId } from '../../ballots/identity';
import { encodeVotingId, parseVotingId } from '../../ballots/identity';
import { votingId } from './fixtures';

const id = fc.stringMatching(/^[a-z0-9-]{1,32}$/);
const arbVotingId: fc.Arbitrary<VotingId> = fc.record({
  electionHashPrefix: fc.stringMatching(/^[0-9a-f]{16}$/),
  precinctId: id,
  styleId: id,
  side: fc.constantFrom('front' as const, 'back' as const),
  mode: fc.constantFrom('test' as const, 'official' as const),
});

describe('voting ID', () => {
  it('has the documented shape', () => {
    expect(encodeVotingId(votingId())).toBe('TPV1:9F86D081884C7D65:NORTH-1:STYLE-A:F:O');
    expect(encodeVotingId(votingId({ side: 'back', mode: 'test' }))).toBe('TPV1:9F86D081884C7D65:NORTH-1:STYLE-A:B:T');
  });

  it('round-trips every valid voting event, in QR alphanumeric characters, within 91 characters', () => {
    fc.assert(
      fc.property(arbVotingId, (v) => {
        const s = encodeVotingId(v);
        expect(s).toMatch(/^[0-9A-Z:-]{1,91}$/);
        expect(parseVotingId(s)).toEqual({ ok: true, value: v });
      }),
      { numRuns: 500 },
    );
  });

  it('parses only the canonical spelling, so one event has one string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (s) => {
        const r = parseVotingId(s);
        if (r.ok) expect(encodeVotingId(r.value)).toBe(s);
      }),
      { numRuns: 1000 },
    );
    const good = encodeVotingId(votingId());
    for (const bad of [good.toLowerCase(), good.replace('TPV1', 'TPV2'), good.replace(':O', ':o'), `${good}:X`, good.replace('9F86D081884C7D65', '9F86D081884C7D6'), good.replace('NORTH-1', 'NORTH_1'), good.replace('NORTH-1', '')]) {
      const r = parseVotingId(bad);
      expect({ bad, ok: r.ok }).toEqual({ bad, ok: false });
      if (!r.ok) {
        expect(r.error.code).toBe('malformed-voting-id');
        expect(r.error.message).toBe('The voting ID code (third QR code) is not a Tallyproof voting ID or is damaged.');
      }
    }
  });

  it('accepts an upper-case hash prefix but refuses ids outside [a-z0-9-]{1,32}', () => {
    expect(encodeVotingId(votingId({ electionHashPrefix: '9F86D081884C7D65' }))).toBe(encodeVotingId(votingId()));
    expect(() => encodeVotingId(votingId({ electionHashPrefix: '9f86' }))).toThrow('16 hex');
    expect(() => encodeVotingId(votingId({ precinctId: 'North-1' }))).toThrow('precinct id');
    expect(() => encodeVotingId(votingId({ styleId: 'a:b' }))).toThrow('style id');
    expect(() => encodeVotingId(votingId({ styleId: 'a'.repeat(33) }))).toThrow('style id');
    expect(() => encodeVotingId({ ...votingId(), side: 'top' as never })).toThrow('side');
    expect(() => encodeVotingId({ ...votingId(), mode: 'live' as never })).toThrow('mode');
  });
});
