import fc from 'fast-check';
import type { ValidElection } from '../../ballots/election';
import { contestOptions } from '../../ballots/election';
import { contestMap } from '../../app/station/election-package';
import type { BallotCapture, ContestTargets, LedgerMode } from '../../app/ledger/record';
import { encodeCaptureRecord } from '../../app/ledger/record';
import { bytesToSerial } from '../../app/ledger/serial';
import { example } from '../support/ballots';

/**
 * Ballots of the example elections (ballots/examples) as the station captures them, for the record format's
 * property tests and the records-per-field benchmark.
 */
export interface Election {
  readonly name: 'municipal' | 'general';
  readonly valid: ValidElection;
  readonly map: ContestTargets & ReturnType<typeof contestMap>;
  /** per contest of the definition, which options are write-in lines */
  readonly writeIns: readonly (readonly boolean[])[];
  /** every (style, precinct) pair: one voting ID each */
  readonly places: readonly { style: string; precinct: string; contests: readonly number[] }[];
}

export function election(name: 'municipal' | 'general'): Election {
  const valid = example(name);
  const def = valid.definition;
  const index = new Map(def.contests.map((c, i) => [c.id, i]));
  return {
    name,
    valid,
    map: contestMap(valid),
    writeIns: def.contests.map((c) => contestOptions(c, def).map((o) => o.writeIn)),
    places: def.ballotStyles.flatMap((s) => s.precincts.map((p) => ({ style: s.id, precinct: p, contests: s.contests.map((id) => index.get(id) as number) }))),
  };
}

export interface BallotChoice {
  readonly place: number;
  readonly serial: bigint;
  readonly image: Uint8Array;
  readonly mode: LedgerMode;
  readonly castAsIs: boolean;
  /** per contest of the style: a mark on each target (extra entries unused) */
  readonly marks: readonly (readonly boolean[])[];
  readonly marginal: readonly boolean[];
}

const serialOf = (n: bigint): string => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n);
  return bytesToSerial(b);
};

/** A ballot of the election as the station captures it: flags as the ledger requires them (overvote ⇔ marks > seats…). */
export function capture(e: Election, b: BallotChoice): BallotCapture {
  const place = e.places[b.place % e.places.length] as Election['places'][number];
  const contests = place.contests.map((ci, k) => {
    const def = e.map[ci] as (typeof e.map)[number];
    const marks = b.marks[k] ?? [];
    const options = def.options.map((_, o) => o).filter((o) => marks[o] === true);
    return {
      contest: ci,
      options,
      overvote: options.length > def.seats,
      undervote: options.length < def.seats,
      marginal: b.marginal[k] === true,
      writeIn: options.some((o) => e.writeIns[ci]?.[o] === true),
    };
  });
  return {
    ballotId: serialOf(b.serial),
    votingId: `${b.mode === 'test' ? 'T' : 'O'}:${e.valid.hash.slice(0, 8)}:${place.style}:${place.precinct}`,
    mode: b.mode,
    castAsIs: b.castAsIs,
    imageSha256: new Uint8Array(b.image),
    readerVersion: 1,
    calibrationVersion: 3,
    contests,
  };
}

export const ballotChoice = fc.record({
  place: fc.nat(20),
  serial: fc.bigInt({ min: 0n, max: (1n << 60n) - 1n }),
  image: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  mode: fc.constantFrom('official' as const, 'test' as const),
  castAsIs: fc.boolean(),
  marks: fc.array(fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), { minLength: 24, maxLength: 24 }),
  marginal: fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
});

/** The worst case for size: every target of every contest marked, every flag set, the largest station, batch and versions. */
export function worstCase(e: Election, n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const c = capture(e, {
      place: i,
      serial: BigInt(i) * 0x9e3779b97f4a7n % (1n << 60n),
      image: new Uint8Array(32).fill(i & 0xff),
      mode: 'official',
      castAsIs: true,
      marks: Array.from({ length: 24 }, () => Array.from({ length: 12 }, () => true)),
      marginal: Array.from({ length: 24 }, () => true),
    });
    return encodeCaptureRecord({ ...c, readerVersion: 0xffff, calibrationVersion: 0xffff }, 0xffff, 2_000_000, e.map);
  });
}

