import { z } from 'zod';
import { assertNever } from '../../lib/result';
import { ByteReader, ByteWriter, EncodingError } from '../../lib/bytes';
import { sha256 } from './hash';
import { SERIAL_PATTERN, bytesToSerial, serialToBytes } from './serial';
import type { SheetDetail } from './sheet-detail';
import { sheetDetailProblem } from './sheet-detail';

/**
 * The public ballot record: what leaves the station (chain data fields, the auditor's bundle). Layout and
 * the reasons for each field are in RECORD.md; keep the two in step. Version 2 is what this software
 * writes; version 1 (written before it, in ledgers and bundles that may still be about) is still read.
 */
export const RECORD_VERSION = 2;
export const RECORD_VERSION_1 = 1;
export type RecordVersion = typeof RECORD_VERSION | typeof RECORD_VERSION_1;
export const VOTING_ID_DIGEST_BYTES = 8;
export const IMAGE_DIGEST_PREFIX_BYTES = 8;
/** Version 2: bytes 1..16 are the serial (with the flag bits) and the image digest, the part of a record no other ballot shares. */
export const RECORD_V2_OWN_BYTES = 16;

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
  /**
   * Version 2: how many targets (options) the contest has on the ballot, from the election's contest map;
   * the selections are a bitmap over them. Version-1 records do not carry it.
   */
  readonly targets?: number;
}

export interface BallotRecord {
  readonly version: RecordVersion;
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

/** What the encoder needs of the election: each contest's option count, in definition order (the genesis contest map fits). */
export type ContestTargets = readonly { readonly options: { readonly length: number } }[];

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
  /** what stays in the pending entry's local part (sheet-detail.ts): per-side images, every target's score */
  detail: z
    .custom<SheetDetail>((v) => typeof v === 'object' && v !== null && Array.isArray((v as SheetDetail).sides) && Array.isArray((v as SheetDetail).contests))
    .superRefine((d, ctx) => {
      const problem = sheetDetailProblem(d);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
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
  const detail = v.detail;
  if (detail !== undefined) {
    if (!isPlainObject(detail) || !Array.isArray(detail.sides) || !Array.isArray(detail.contests)) return false;
    if (sheetDetailProblem(detail as unknown as SheetDetail) !== undefined) return false;
  }
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

/** The public record of a capture; the ledger supplies station, batch and the election's contest map. */
export function recordFromCapture(capture: BallotCapture, station: number, batch: number, targets: ContestTargets): BallotRecord {
  const contests = withTargets(sortedContests(capture.contests), targets);
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

function withTargets(contests: readonly ContestSelection[], map: ContestTargets): ContestSelection[] {
  return contests.map((c) => {
    const def = map[c.contest];
    if (def === undefined) throw new EncodingError(`contest index ${c.contest} is not in the election (it has ${map.length})`);
    return { ...c, targets: def.options.length };
  });
}

function checkAscending(xs: readonly number[], what: string): void {
  for (let i = 1; i < xs.length; i++) {
    if ((xs[i] as number) <= (xs[i - 1] as number)) throw new EncodingError(`${what} must be strictly ascending with no repeats`);
  }
}

function checkRecord(r: BallotRecord): void {
  checkContests(r.contests);
  if (r.version === RECORD_VERSION) for (const c of r.contests) checkTargets(c.contest, c.options, c.targets);
}

// An option index is at most 0xffff (BallotCaptureSchema), so a contest has at most 0x10000 targets.
const MAX_TARGETS = 0x10000;

function checkTargets(contest: number, options: readonly number[], targets: number | undefined): number {
  if (targets === undefined || !Number.isInteger(targets) || targets < 1 || targets > MAX_TARGETS) throw new EncodingError(`contest ${contest}: a version-2 record needs the contest's target count (1..${MAX_TARGETS}), got ${String(targets)}`);
  const last = options[options.length - 1];
  if (last !== undefined && last >= targets) throw new EncodingError(`option index ${last} is not in contest ${contest} (it has ${targets})`);
  return targets;
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

/** Writes the record in its own version: version 2 for every record this software makes, version 1 only to re-encode one it read. */
export function encodeRecord(r: BallotRecord): Uint8Array {
  checkRecord(r);
  if (r.votingIdDigest.length !== VOTING_ID_DIGEST_BYTES) throw new EncodingError('voting ID digest must be 8 bytes');
  if (r.imageDigest.length !== IMAGE_DIGEST_PREFIX_BYTES) throw new EncodingError('image digest must be 8 bytes');
  switch (r.version) {
    case RECORD_VERSION:
      return writeRecord(r, undefined);
    case RECORD_VERSION_1:
      return writeRecordV1(r);
    default:
      return assertNever(r.version, 'ballot record version');
  }
}

/**
 * encodeRecord(recordFromCapture(capture, station, batch, targets)) without building the record in between:
 * the ledger encodes one per ballot while the voter waits (a property test holds the two to the same bytes).
 */
export function encodeCaptureRecord(capture: BallotCapture, station: number, batch: number, targets: ContestTargets): Uint8Array {
  const contests = sortedContests(capture.contests);
  checkContests(contests);
  const image = capture.imageSha256.subarray(0, IMAGE_DIGEST_PREFIX_BYTES);
  if (image.length !== IMAGE_DIGEST_PREFIX_BYTES) throw new EncodingError('image digest must be 8 bytes');
  const fields: RecordFieldsToWrite = {
    mode: capture.mode,
    castAsIs: capture.castAsIs,
    ballotId: capture.ballotId.toUpperCase(),
    votingIdDigest: sharedVotingIdDigest(capture.votingId),
    imageDigest: image,
    station,
    batch,
    readerVersion: capture.readerVersion,
    calibrationVersion: capture.calibrationVersion,
    contests,
  };
  return writeRecord(fields, targets);
}

const recordWriter = new ByteWriter(256);

function flaggedSerial(ballotId: string, mode: LedgerMode, castAsIs: boolean): Uint8Array {
  const serial = serialToBytes(ballotId);
  serial[0] = (serial[0] as number) | (mode === 'test' ? FLAG_TEST : 0) | (castAsIs ? FLAG_CAST_AS_IS : 0);
  return serial;
}

/** A record's fields as both layouts write them; the version picks the writer. */
type RecordFieldsToWrite = Omit<BallotRecord, 'version'>;

/**
 * The fields every version starts with; the versions differ only in which digest comes first (version 2
 * puts the image digest first so a record pack can share the context that follows it).
 */
function writeRecordHead(version: RecordVersion, r: RecordFieldsToWrite): ByteWriter {
  const w = recordWriter.reset();
  w.u8(version);
  w.bytes(flaggedSerial(r.ballotId, r.mode, r.castAsIs));
  const [first, second] = version === RECORD_VERSION ? [r.imageDigest, r.votingIdDigest] : [r.votingIdDigest, r.imageDigest];
  w.bytes(first).bytes(second);
  w.varint(r.station).varint(r.batch).varint(r.readerVersion).varint(r.calibrationVersion);
  w.varint(r.contests.length);
  return w;
}

const contestFlags = (c: ContestSelection): number => (c.overvote ? C_OVERVOTE : 0) | (c.undervote ? C_UNDERVOTE : 0) | (c.marginal ? C_MARGINAL : 0) | (c.writeIn ? C_WRITE_IN : 0);

/**
 * The one writer of the version-2 layout (RECORD.md); contests come checked and in order. Their target
 * counts come from `map` when given (the capture path), else from each selection.
 */
function writeRecord(r: RecordFieldsToWrite, map: ContestTargets | undefined): Uint8Array {
  const { contests } = r;
  const w = writeRecordHead(RECORD_VERSION, r);
  const targets: number[] = [];
  let prev = -1;
  for (const c of contests) {
    let t = c.targets;
    if (map !== undefined) {
      const def = map[c.contest];
      if (def === undefined) throw new EncodingError(`contest index ${c.contest} is not in the election (it has ${map.length})`);
      t = def.options.length;
    }
    targets.push(checkTargets(c.contest, c.options, t));
    w.varint(c.contest - prev - 1).varint((t as number) - 1);
    prev = c.contest;
  }
  // the selection bits: per contest its 4 flag bits, then one bit per target; first bit is a byte's top bit
  let acc = 0;
  let nbits = 0;
  const put = (bit: number): void => {
    acc = (acc << 1) | bit;
    if (++nbits === 8) {
      w.u8(acc);
      acc = 0;
      nbits = 0;
    }
  };
  contests.forEach((c, ci) => {
    const f = contestFlags(c);
    for (let b = 3; b >= 0; b--) put((f >> b) & 1);
    const t = targets[ci] as number;
    let k = 0;
    for (const o of c.options) {
      for (; k < o; k++) put(0);
      put(1);
      k = o + 1;
    }
    for (; k < t; k++) put(0);
  });
  if (nbits > 0) w.u8(acc << (8 - nbits));
  return w.finish();
}

/** The version-1 layout, kept to re-encode version-1 records read from old ledgers and bundles. */
function writeRecordV1(r: RecordFieldsToWrite): Uint8Array {
  const w = writeRecordHead(RECORD_VERSION_1, r);
  let prev = -1;
  for (const c of r.contests) {
    w.varint(c.contest - prev - 1);
    prev = c.contest;
    const n = c.options.length;
    w.u8((Math.min(n, COUNT_ESCAPE) << 4) | contestFlags(c));
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
  readonly version: RecordVersion;
  readonly flags: number;
  /** where the serial starts in the reader's bytes */
  readonly serialAt: number;
  readonly votingIdAt: number;
  readonly imageAt: number;
  readonly readerVersion: number;
  readonly calibrationVersion: number;
}

/** The shared part of a version-2 record, from the voting ID digest to the last target count. */
export interface RecordContext {
  readonly station: number;
  readonly batch: number;
  readonly readerVersion: number;
  readonly calibrationVersion: number;
  /** contest indexes and their target counts */
  readonly contests: readonly number[];
  readonly targets: readonly number[];
  /** bytes of selection bits that follow the context */
  readonly bitBytes: number;
}

/**
 * Reads the context of a version-2 record (RECORD.md: voting ID digest through the target counts) from
 * where the reader stands and checks it. The record pack keeps each distinct context once per data field.
 */
export function readRecordContext(rd: ByteReader): RecordContext {
  const contests: number[] = [];
  const targets: number[] = [];
  const c = parseContext(rd, contests, targets);
  return { station: c.station, batch: c.batch, readerVersion: c.readerVersion, calibrationVersion: c.calibrationVersion, contests, targets, bitBytes: c.bitBytes };
}

interface ContextFields {
  readonly station: number;
  readonly batch: number;
  readonly readerVersion: number;
  readonly calibrationVersion: number;
  readonly bits: number;
  readonly bitBytes: number;
}

/** The context walk; contest indexes and target counts go into the arrays when given (`verify` scans without them). */
function parseContext(rd: ByteReader, contests: number[] | undefined, targets: number[] | undefined): ContextFields {
  rd.skip(VOTING_ID_DIGEST_BYTES, 'voting ID digest');
  const station = rd.varint('station');
  const batch = rd.varint('batch');
  const readerVersion = rd.varint('reader version');
  const calibrationVersion = rd.varint('calibration version');
  const n = rd.varint('contest count');
  if (n > rd.remaining) throw new EncodingError(`contest count ${n} exceeds the bytes left`);
  let bits = 0;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const contest = prev + 1 + rd.varint('contest index');
    prev = contest;
    const t = 1 + rd.varint('target count');
    if (t > MAX_TARGETS) throw new EncodingError(`contest ${contest} says ${t} targets, more than ${MAX_TARGETS}`);
    contests?.push(contest);
    targets?.push(t);
    bits += 4 + t;
  }
  return { station, batch, readerVersion, calibrationVersion, bits, bitBytes: Math.ceil(bits / 8) };
}

/**
 * Walks one record from where the reader stands and checks every field; the contests go into `contests`
 * when given. Records are self-delimiting, so packed data fields need no length prefixes.
 */
function parseRecord(rd: ByteReader, contests: ContestSelection[] | undefined): RecordFields {
  const version = rd.u8('record version');
  if (version !== RECORD_VERSION && version !== RECORD_VERSION_1) throw new EncodingError(`unknown ballot record version ${version} (this software reads versions ${RECORD_VERSION_1} and ${RECORD_VERSION})`);
  // offsets, not views: `verify` scans a million records and keeps none of these bytes
  const serialAt = rd.offset;
  rd.skip(8, 'ballot ID');
  const flags = rd.byteAt(serialAt) & FLAG_MASK;
  if ((flags & ~(FLAG_TEST | FLAG_CAST_AS_IS)) !== 0) throw new EncodingError(`unknown record flag bits 0x${flags.toString(16)}`);
  const mode: LedgerMode = (flags & FLAG_TEST) !== 0 ? 'test' : 'official';
  if (version === RECORD_VERSION_1) {
    const v1 = parseV1Body(rd, contests);
    return { version, mode, flags, serialAt, votingIdAt: serialAt + 8, imageAt: serialAt + 16, ...v1 };
  }
  rd.skip(IMAGE_DIGEST_PREFIX_BYTES, 'image digest');
  const indexes: number[] | undefined = contests === undefined ? undefined : [];
  const targets: number[] | undefined = contests === undefined ? undefined : [];
  const ctx = parseContext(rd, indexes, targets);
  const bitsAt = rd.offset;
  rd.skip(ctx.bitBytes, 'selection bits');
  const pad = ctx.bitBytes * 8 - ctx.bits;
  if (pad > 0 && (rd.byteAt(bitsAt + ctx.bitBytes - 1) & ((1 << pad) - 1)) !== 0) throw new EncodingError('selection bits: the padding after the last target is not zero');
  if (contests !== undefined && indexes !== undefined && targets !== undefined) readSelectionBits(rd, bitsAt, indexes, targets, contests);
  // No re-encoding check is needed: varints must be minimal, deltas make contest indexes strictly
  // ascending, target counts are stored minus one so none is zero, every flag bit is meaningful and padding
  // bits must be zero, so each accepted byte string is the one encoding of what it decodes to.
  return { version, mode, flags, serialAt, votingIdAt: serialAt + 16, imageAt: serialAt + 8, station: ctx.station, batch: ctx.batch, readerVersion: ctx.readerVersion, calibrationVersion: ctx.calibrationVersion };
}

function readSelectionBits(rd: ByteReader, at: number, indexes: readonly number[], targets: readonly number[], contests: ContestSelection[]): void {
  let pos = 0;
  const bit = (): number => (rd.byteAt(at + (pos >> 3)) >> (7 - (pos++ & 7))) & 1;
  indexes.forEach((contest, ci) => {
    const f = (bit() << 3) | (bit() << 2) | (bit() << 1) | bit();
    const t = targets[ci] as number;
    const options: number[] = [];
    for (let k = 0; k < t; k++) if (bit() === 1) options.push(k);
    contests.push({
      contest,
      options,
      overvote: (f & C_OVERVOTE) !== 0,
      undervote: (f & C_UNDERVOTE) !== 0,
      marginal: (f & C_MARGINAL) !== 0,
      writeIn: (f & C_WRITE_IN) !== 0,
      targets: t,
    });
  });
}

/** Version 1 after the serial: voting ID digest, image digest, station…calibration, contests as counted index lists. */
function parseV1Body(rd: ByteReader, contests: ContestSelection[] | undefined): Pick<RecordFields, 'station' | 'batch' | 'readerVersion' | 'calibrationVersion'> {
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
  // Version 1 is canonical the same way: minimal varints, deltas, every header flag bit meaningful.
  return { station, batch, readerVersion, calibrationVersion };
}

/** Reads one record (either version) from where the reader stands. */
export function readRecord(rd: ByteReader): BallotRecord {
  const contests: ContestSelection[] = [];
  const f = parseRecord(rd, contests);
  const serial = new Uint8Array(rd.view(f.serialAt, 8));
  serial[0] = (serial[0] as number) & ~FLAG_MASK;
  return {
    version: f.version,
    mode: f.mode,
    castAsIs: (f.flags & FLAG_CAST_AS_IS) !== 0,
    ballotId: bytesToSerial(serial),
    votingIdDigest: new Uint8Array(rd.view(f.votingIdAt, VOTING_ID_DIGEST_BYTES)),
    imageDigest: new Uint8Array(rd.view(f.imageAt, IMAGE_DIGEST_PREFIX_BYTES)),
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
  // the first serial byte without the flag bits, then the other seven as they are (both versions put the serial at byte 1)
  return String.fromCharCode((bytes[1] as number) & ~FLAG_MASK) + Buffer.from(bytes.buffer, bytes.byteOffset + 2, 7).toString('latin1');
}

/** The ballot ID of an encoded record (either version) without decoding its selections. */
export function recordBallotId(bytes: Uint8Array): string {
  if (bytes.length < 9) throw new EncodingError(`truncated: a ballot record of ${bytes.length} bytes has no ballot ID`);
  // a copy: Buffer's slice() is a view, and clearing the flag bits in it cleared them in the caller's record
  const serial = Uint8Array.from(bytes.subarray(1, 9));
  serial[0] = (serial[0] as number) & ~FLAG_MASK;
  return bytesToSerial(serial);
}
