/**
 * Ballot records per 1,040-byte chain data field (issue 14: the design promises at least 25) for the two
 * example elections, worst case (every target marked, every flag set, 3-byte station, batch and version
 * varints) and random ballots, with the time to pack and unpack them. Same-run baseline: the same ballots
 * as version-1 records packed in format 1 (records back to back), what the software wrote before.
 *   node scripts/run-ts.js test/bench/record-pack.bench.ts [ballots=10000]
 */
import fc from 'fast-check';
import { RECORDS_HEADER_BYTES } from '../../app/formats/publication-formats';
import { decodeRecord, encodeCaptureRecord, encodeRecord } from '../../app/ledger/record';
import { DEFAULT_FIELD_BYTES, packRecords, unpackRecords } from '../../app/ledger/record-pack';
import type { Election } from '../ledger/example-ballots';
import { ballotChoice, capture, election, worstCase } from '../ledger/example-ballots';
import { machine } from './support/machine';

const N = Number(process.argv[2] ?? 10_000);
const PACK_BYTES = DEFAULT_FIELD_BYTES - RECORDS_HEADER_BYTES;

interface Figures {
  recordBytes: { min: number; max: number };
  fields: number;
  recordsPerField: { min: number; mean: number };
  chainBytesPerBallot: number;
  packMs: number;
  unpackMs: number;
}

function measure(records: readonly Uint8Array[]): Figures {
  const t0 = performance.now();
  const fields = packRecords(records, PACK_BYTES);
  const packMs = performance.now() - t0;
  const t1 = performance.now();
  const back = fields.map((f) => unpackRecords(f));
  const unpackMs = performance.now() - t1;
  const flat = back.flat();
  if (flat.length !== records.length || flat.some((r, i) => Buffer.compare(r, records[i] as Uint8Array) !== 0)) throw new Error('unpacked records differ from the packed ones');
  const counts = back.map((b) => b.length);
  const full = counts.length > 1 ? counts.slice(0, -1) : counts;
  const sizes = records.map((r) => r.length);
  return {
    recordBytes: { min: Math.min(...sizes), max: Math.max(...sizes) },
    fields: fields.length,
    recordsPerField: { min: Math.min(...full), mean: Number((records.length / fields.length).toFixed(2)) },
    chainBytesPerBallot: Number(((fields.reduce((a, f) => a + f.length, 0) + RECORDS_HEADER_BYTES * fields.length) / records.length).toFixed(1)),
    packMs: Math.round(packMs),
    unpackMs: Math.round(unpackMs),
  };
}

const asVersion1 = (records: readonly Uint8Array[]): Uint8Array[] => records.map((r) => encodeRecord({ ...decodeRecord(r), version: 1 }));

function run(e: Election): Record<string, { v2: Figures; baselineV1: Figures }> {
  const random = fc.sample(ballotChoice, { numRuns: N, seed: 14 }).map((b) => encodeCaptureRecord(capture(e, { ...b, mode: 'official' }), 7, 3, e.map));
  const worst = worstCase(e, N);
  return {
    worstCase: { v2: measure(worst), baselineV1: measure(asVersion1(worst)) },
    random: { v2: measure(random), baselineV1: measure(asVersion1(random)) },
  };
}

const municipal = run(election('municipal'));
const general = run(election('general'));
const worstMunicipal = municipal.worstCase?.v2.recordsPerField.min ?? 0;
process.stdout.write(
  `${JSON.stringify({
    bench: 'record-pack',
    ballots: N,
    fieldBytes: DEFAULT_FIELD_BYTES,
    municipal,
    general,
    budget: { recordsPerField: 25, ballot: 'municipal worst case' },
    pass: worstMunicipal >= 25,
    machine: machine(),
  })}\n`,
);
