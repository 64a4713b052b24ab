import { z } from 'zod';
import { ByteReader, ByteWriter, EncodingError } from './bytes';
import { sha256 } from './hash';
import { SERIAL_PATTERN, bytesToSerial, serialToBytes } from './serial';

/**
 * The public ballot record: what leaves the station (chain data fields, the auditor's bundle). Layout and
 * the reasons for each field are in RECORD.md; keep the two in step.
 */
export const RECORD_VERSION = 1;
export const VOTING_ID_DIGEST_BYTES = 8;
export const IMAGE_DIGEST_PREFIX_BYTES = 8;

export type LedgerMode = 'official' | 'test';

export interface ContestSelection {
  /** index of the contest in the election definition */
  readonly contest: number;
  /** indexes of the marked options within the contest, ascending */
  readonly options: readonly number[];
  readonly overvote: boolean;
  readonly undervote: boolean;
  readonly marginal: boolean;
  /** a write-in target was marked */
  readonly writeIn: boolean;
}

export interface BallotRecord {
  readonly version: typeof RECORD_VERSION;
  readonly mode: LedgerMode;
  readonly castAsIs: boolean;
  /** the 12-character base32 serial of the ballot ID */
  readonly ballotId: string;
  /** first 8 bytes of SHA-256 of the voting ID text */
  readonly votingIdDigest: Uint8Array;
  /** first 8 bytes of SHA-256 of the scanned image (the full digest stays in the local ledger) */
  readonly imageDigest: Uint8Array;
  readonly station: number;
  readonly batch: number;
  readonly readerVersion: number;
  readonly calibrationVersion: number;
  /** contests on the ballot's style, ascending by contest index */
  readonly contests: readonly ContestSelection[];
}

// Flags ride in the top 4 bits of the 8-byte serial field (the serial has 60 bits): no byte of their own.
const FLAG_TEST = 0x80;
const FLAG_CAST_AS_IS = 0x40;
const FLAG_MASK = 0xf0;
const C_OVERVOTE = 0x1;
const C_UNDERVOTE = 0x2;
const C_MARGINAL = 0x4;
const C_WRITE_IN = 0x8;
const COUNT_ESCAPE = 15;

const index = z.number().int().min(0).max(0xffff);

/** What the station hands the ledger for one scanned ballot (validated at the boundary). */
export const BallotCaptureSchema = z.object({
  ballotId: z.string().regex(SERIAL_PATTERN, 'must be a 12-character base32 serial'),
  votingId: z.string().min(1).max(512),
  mode: z.enum(['official', 'test']),
  castAsIs: z.boolean(),
  imageSha256: z.instanceof(Uint8Array).refine((b) => b.length === 32, 'must be 32 bytes'),
  readerVersion: index,
  calibrationVersion: index,
  contests: z
    .array(
      z.object({
        contest: index,
        options: z.array(index).max(255),
        overvote: z.boolean(),
        undervote: z.boolean(),
        marginal: z.boolean(),
        writeIn: z.boolean(),
      }),
    )
    .max(1024),
});
export type BallotCapture = z.infer<typeof BallotCaptureSchema>;

const isIndex = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isWellFormedSelection(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  const options = v.options;
  if (!isIndex(v.contest) || !Array.isArray(options) || options.length > 255) return false;
  for (const o of options) if (!isIndex(o)) return false;
  return typeof v.overvote === 'boolean' && typeof v.undervote === 'boolean' && typeof v.marginal === 'boolean' && typeof v.writeIn === 'boolean';
}

/**
 * True only for what BallotCaptureSchema accepts, checked without zod: the ledger checks every capture while
 * the voter waits and asks the schema only for the readable errors of one this refuses. A property test
 * holds the two together.
 */
export function isWellFormedCapture(v: unknown): v is BallotCapture {
  if (!isPlainObject(v)) return false;
  const { ballotId, votingId, imageSha256, contests } = v;
  if (typeof ballotId !== 'string' || !SERIAL_PATTERN.test(ballotId)) return false;
  if (typeof votingId !== 'string' || votingId.length < 1 || votingId.length > 512) return false;
  if (v.mode !== 'official' && v.mode !== 'test') return false;
  if (typeof v.castAsIs !== 'boolean') return false;
  if (!(imageSha256 instanceof Uint8Array) || imageSha256.length !== 32) return false;
  if (!isIndex(v.readerVersion) || !isIndex(v.calibrationVersion)) return false;
  if (!Array.isArray(contests) || contests.length > 1024) return false;
  for (const c of contests) if (!isWellFormedSelection(c)) return false;
  return true;
}

// A station sees a handful of voting IDs (one per style and precinct) thousands of times each.
const digestCache = new Map<string, Uint8Array>();

/** The cached digest itself: only for writing it into a record, never handed out. */
function sharedVotingIdDigest(votingId: string): Uint8Array {
  let d = digestCache.get(votingId);
  if (d === undefined) {
    d = new Uint8Array(sha256(Buffer.from(votingId, 'utf8')).subarray(0, VOTING_ID_DIGEST_BYTES));
    if (digestCache.size >= 4096) digestCache.clear();
    digestCache.set(votingId, d);
  }
  return d;
}

export function votingIdDigest(votingId: string): Uint8Array {
  return new Uint8Array(sharedVotingIdDigest(votingId));
}

/** The public record of a capture; the ledger supplies station and batch. */
export function recordFromCapture(capture: BallotCapture, station: number, batch: number): BallotRecord {
  const contests = sortedContests(capture.contests);
  const record: BallotRecord = {
    version: RECORD_VERSION,
    mode: capture.mode,
    castAsIs: capture.castAsIs,
    ballotId: capture.ballotId.toUpperCase(),
    votingIdDigest: votingIdDigest(capture.votingId),
    imageDigest: new Uint8Array(capture.imageSha256.subarray(0, IMAGE_DIGEST_PREFIX_BYTES)),
    station,
    batch,
    readerVersion: capture.readerVersion,
    calibrationVersion: capture.calibrationVersion,
    contests,
  };
  checkRecord(record);
  return record;
}

function checkAscending(xs: readonly number[], what: string): void {
  for (let i = 1; i < xs.length; i++) {
    if ((xs[i] as number) <= (xs[i - 1] as number)) throw new EncodingError(`${what} must be strictly ascending with no repeats`);
  }
}

function checkRecord(r: BallotRecord): void {
  checkContests(r.contests);
}

function checkContests(contests: readonly ContestSelection[]): void {
  for (let i = 1; i < contests.length; i++) {
    if ((contests[i] as ContestSelection).contest <= (contests[i - 1] as ContestSelection).contest) throw new EncodingError('contest indexes must be strictly ascending with no repeats');
  }
  for (const c of contests) checkAscending(c.options, `option indexes of contest ${c.contest}`);
}

function ascending(xs: readonly number[]): boolean {
  for (let i = 1; i < xs.length; i++) if ((xs[i] as number) < (xs[i - 1] as number)) return false;
  return true;
}

/** Contests by contest index, each with its options ascending; the capture's own arrays when already so. */
function sortedContests(cs: readonly ContestSelection[]): readonly ContestSelection[] {
  let inOrder = true;
  for (let i = 0; i < cs.length && inOrder; i++) {
    const c = cs[i] as ContestSelection;
    inOrder = ascending(c.options) && (i === 0 || c.contest >= (cs[i - 1] as ContestSelection).contest);
  }
  if (inOrder) return cs;
  return [...cs].map((c) => ({ ...c, options: [...c.options].sort((a, b) => a - b) })).sort((a, b) => a.contest - b.contest);
}

/** Ascending integers as deltas (first absolute, then gap minus one): small numbers, one byte each. */
function writeAscending(w: ByteWriter, xs: readonly number[]): void {
  let prev = -1;
  for (const x of xs) {
    w.varint(x - prev - 1);
    prev = x;
  }
}

export function encodeRecord(r: BallotRecord): Uint8Array {
  checkRecord(r);
  if (r.votingIdDigest.length !== VOTING_ID_DIGEST_BYTES) throw new EncodingError('voting ID digest must be 8 bytes');
  if (r.imageDigest.length !== IMAGE_DIGEST_PREFIX_BYTES) throw new EncodingError('image digest must be 8 bytes');
  return writeRecord(r.mode, r.castAsIs, r.ballotId, r.votingIdDigest, r.imageDigest, r.station, r.batch, r.readerVersion, r.calibrationVersion, r.contests);
}

/**
 * encodeRecord(recordFromCapture(capture, station, batch)) without building the record in between: the
 * ledger encodes one per ballot while the voter waits (a property test holds the two to the same bytes).
 */
export function encodeCaptureRecord(capture: BallotCapture, station: number, batch: number): Uint8Array {
  const contests = sortedContests(capture.contests);
  checkContests(contests);
  const image = capture.imageSha256.subarray(0, IMAGE_DIGEST_PREFIX_BYTES);
  if (image.length !== IMAGE_DIGEST_PREFIX_BYTES) throw new EncodingError('image digest must be 8 bytes');
  return writeRecord(capture.mode, capture.castAsIs, capture.ballotId.toUpperCase(), sharedVotingIdDigest(capture.votingId), image, station, batch, capture.readerVersion, capture.calibrationVersion, contests);
}

const recordWriter = new ByteWriter(256);

/** The one writer of the record layout (RECORD.md); contests come checked and in order. */
function writeRecord(
  mode: LedgerMode,
  castAsIs: boolean,
  ballotId: string,
  votingIdDigest8: Uint8Array,
  imageDigest8: Uint8Array,
  station: number,
  batch: number,
  readerVersion: number,
  calibrationVersion: number,
  contests: readonly ContestSelection[],
): Uint8Array {
  const w = recordWriter.reset();
  w.u8(RECORD_VERSION);
  const serial = serialToBytes(ballotId);
  serial[0] = (serial[0] as number) | (mode === 'test' ? FLAG_TEST : 0) | (castAsIs ? FLAG_CAST_AS_IS : 0);
  w.bytes(serial);
  w.bytes(votingIdDigest8);
  w.bytes(imageDigest8);
  w.varint(station).varint(batch).varint(readerVersion).varint(calibrationVersion);
  w.varint(contests.length);
  let prev = -1;
  for (const c of contests) {
    w.varint(c.contest - prev - 1);
    prev = c.contest;
    const flags = (c.overvote ? C_OVERVOTE : 0) | (c.undervote ? C_UNDERVOTE : 0) | (c.marginal ? C_MARGINAL : 0) | (c.writeIn ? C_WRITE_IN : 0);
    const n = c.options.length;
    w.u8((Math.min(n, COUNT_ESCAPE) << 4) | flags);
    if (n >= COUNT_ESCAPE) w.varint(n - COUNT_ESCAPE);
    writeAscending(w, c.options);
  }
  return w.finish();
}

/** Decodes and insists the bytes are exactly one record in the one canonical encoding. */
export function decodeRecord(bytes: Uint8Array): BallotRecord {
  const rd = new ByteReader(bytes);
  const record = readRecord(rd);
  rd.end('the ballot record');
  return record;
}

/** What a record says about where it belongs, read without building the whole record. */
export interface RecordPlace {
  readonly mode: LedgerMode;
  readonly station: number;
  readonly batch: number;
}

interface RecordFields extends RecordPlace {
  readonly flags: number;
  /** where the serial starts in the reader's bytes; the digests follow it */
  readonly serialAt: number;
  readonly readerVersion: number;
  readonly calibrationVersion: number;
}

/**
 * Walks one record from where the reader stands and checks every field; the contests go into `contests`
 * when given. Records are self-delimiting, so packed data fields need no length prefixes.
 */
function parseRecord(rd: ByteReader, contests: ContestSelection[] | undefined): RecordFields {
  const version = rd.u8('record version');
  if (version !== RECORD_VERSION) throw new EncodingError(`unknown ballot record version ${version} (this software reads version ${RECORD_VERSION})`);
  // offsets, not views: `verify` scans a million records and keeps none of these bytes
  const serialAt = rd.offset;
  rd.skip(8, 'ballot ID');
  const flags = rd.byteAt(serialAt) & FLAG_MASK;
  if ((flags & ~(FLAG_TEST | FLAG_CAST_AS_IS)) !== 0) throw new EncodingError(`unknown record flag bits 0x${flags.toString(16)}`);
  rd.skip(VOTING_ID_DIGEST_BYTES, 'voting ID digest');
  rd.skip(IMAGE_DIGEST_PREFIX_BYTES, 'image digest');
  const station = rd.varint('station');
  const batch = rd.varint('batch');
  const readerVersion = rd.varint('reader version');
  const calibrationVersion = rd.varint('calibration version');
  const nContests = rd.varint('contest count');
  if (nContests > rd.remaining) throw new EncodingError(`contest count ${nContests} exceeds the bytes left`);
  let prevContest = -1;
  for (let i = 0; i < nContests; i++) {
    const contest = prevContest + 1 + rd.varint('contest index');
    prevContest = contest;
    const head = rd.u8('contest header');
    let n = head >> 4;
    if (n === COUNT_ESCAPE) n += rd.varint('selection count');
    if (n > rd.remaining) throw new EncodingError(`contest ${contest} selection count ${n} exceeds the bytes left`);
    const options: number[] | undefined = contests === undefined ? undefined : [];
    let prev = -1;
    for (let k = 0; k < n; k++) {
      prev = prev + 1 + rd.varint('option index');
      options?.push(prev);
    }
    if (contests !== undefined && options !== undefined) {
      contests.push({
        contest,
        options,
        overvote: (head & C_OVERVOTE) !== 0,
        undervote: (head & C_UNDERVOTE) !== 0,
        marginal: (head & C_MARGINAL) !== 0,
        writeIn: (head & C_WRITE_IN) !== 0,
      });
    }
  }
  // No re-encoding check is needed: varints must be minimal, deltas make every index list strictly
  // ascending, and every flag bit is either meaningful or refused, so each accepted byte string is the one
  // encoding of what it decodes to (the property test re-encodes to prove it).
  return { mode: (flags & FLAG_TEST) !== 0 ? 'test' : 'official', flags, serialAt, station, batch, readerVersion, calibrationVersion };
}

/** Reads one record from where the reader stands. */
export function readRecord(rd: ByteReader): BallotRecord {
  const contests: ContestSelection[] = [];
  const f = parseRecord(rd, contests);
  const serial = new Uint8Array(rd.view(f.serialAt, 8));
  serial[0] = (serial[0] as number) & ~FLAG_MASK;
  return {
    version: RECORD_VERSION,
    mode: f.mode,
    castAsIs: (f.flags & FLAG_CAST_AS_IS) !== 0,
    ballotId: bytesToSerial(serial),
    votingIdDigest: new Uint8Array(rd.view(f.serialAt + 8, VOTING_ID_DIGEST_BYTES)),
    imageDigest: new Uint8Array(rd.view(f.serialAt + 8 + VOTING_ID_DIGEST_BYTES, IMAGE_DIGEST_PREFIX_BYTES)),
    station: f.station,
    batch: f.batch,
    readerVersion: f.readerVersion,
    calibrationVersion: f.calibrationVersion,
    contests,
  };
}

/**
 * Checks that the bytes are exactly one well-formed record, as decodeRecord does, and returns only its
 * mode, station and batch: `verify` reads a million records and needs no more of most of them.
 */
export function scanRecord(bytes: Uint8Array): RecordPlace {
  const rd = new ByteReader(bytes);
  const f = parseRecord(rd, undefined);
  rd.end('the ballot record');
  return f;
}

/** The record's ballot ID bytes straight from an encoded record, without a full decode (hot paths). */
export function recordBallotIdKey(bytes: Uint8Array): string {
  // the first serial byte without the flag bits, then the other seven as they are
  return String.fromCharCode((bytes[1] as number) & ~FLAG_MASK) + Buffer.from(bytes.buffer, bytes.byteOffset + 2, 7).toString('latin1');
}
