import crypto from 'node:crypto';
import type { ByteReader, ByteWriter } from '../../lib/bytes';
import { EncodingError, toHex } from '../../lib/bytes';

/**
 * What the station keeps of one sheet beside the public record, in the pending entry's local part (RECORD.md,
 * "Sheet detail"): per side, in scan order, a random image ID, the side's SHA-256 and whether the image was
 * kept (app/station/image-store.ts); per contest, every target's score and the options the reader classed
 * marginal. Never in the public record: the scores of a sheet are nearly a fingerprint of the voter's hand.
 */
export interface SideImage {
  /** 128 random bits, 32 lowercase hex: names the image file; never derived from casting order */
  readonly imageId: string;
  /** SHA-256 of this side's scanned bytes */
  readonly sha256: Uint8Array;
  /** the encrypted image is in the station's image store (the retention setting may keep only the hash) */
  readonly kept: boolean;
}

export interface ContestMarks {
  /** contest index in the genesis contest map */
  readonly contest: number;
  /** every target's score in contest-map order, in 1/10000 of ink share (0–10000) */
  readonly scores: readonly number[];
  /** option indexes the reader classed marginal, ascending */
  readonly marginal: readonly number[];
}

export interface SheetDetail {
  readonly sides: readonly SideImage[];
  /** contests on the ballot's style, ascending by contest index */
  readonly contests: readonly ContestMarks[];
}

/** The version byte that starts a sheet-detail block; any other is refused with a sentence. */
export const SHEET_DETAIL_VERSION = 1;
/** Scores are integers (canonical JSON here is integer-only, and a byte string has one reading): 1/10000 of ink share. */
export const SCORE_SCALE = 10_000;
export const IMAGE_ID_BYTES = 16;
export const IMAGE_ID_PATTERN = /^[0-9a-f]{32}$/;
/** A sheet has one or two sides; a few more leave room for a scanner that sends a blank separator page. */
export const MAX_SIDES = 4;
const MAX_CONTESTS = 1024;
const MAX_TARGETS = 255;
const SIDE_KEPT = 0x01;

/** A fresh image ID from the OS's random source: nothing about the sheet or its place in the day goes into it. */
export function newImageId(): string {
  return crypto.randomBytes(IMAGE_ID_BYTES).toString('hex');
}

/** The reader's ink share (0–1, four decimals) as the ledger's integer score. */
export function scoreUnits(share: number): number {
  if (!Number.isFinite(share)) throw new EncodingError(`a mark score must be a number, got ${share}`);
  return Math.min(SCORE_SCALE, Math.max(0, Math.round(share * SCORE_SCALE)));
}

/** SHA-256 over the sides concatenated in scan order: the public record's image digest, as before sides were kept apart. */
export function sheetImageSha256(sides: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const h = crypto.createHash('sha256');
  for (const s of sides) h.update(s);
  return new Uint8Array(h.digest());
}

export function writeSheetDetail(w: ByteWriter, d: SheetDetail): void {
  const problem = sheetDetailProblem(d);
  if (problem !== undefined) throw new EncodingError(`sheet detail: ${problem}`);
  w.u8(SHEET_DETAIL_VERSION).varint(d.sides.length);
  for (const s of d.sides) w.bytes(Buffer.from(s.imageId, 'hex')).bytes(s.sha256).u8(s.kept ? SIDE_KEPT : 0);
  w.varint(d.contests.length);
  let prev = -1;
  for (const c of d.contests) {
    w.varint(c.contest - prev - 1);
    prev = c.contest;
    w.varint(c.scores.length - 1);
    for (const s of c.scores) w.varint(s);
    w.varint(c.marginal.length);
    let prevOption = -1;
    for (const o of c.marginal) {
      w.varint(o - prevOption - 1);
      prevOption = o;
    }
  }
}

/** Structural problems a decoder would refuse, as a sentence; undefined when the detail encodes. */
export function sheetDetailProblem(d: SheetDetail): string | undefined {
  if (d.sides.length < 1 || d.sides.length > MAX_SIDES) return `a sheet has 1 to ${MAX_SIDES} sides, got ${d.sides.length}`;
  for (const [i, s] of d.sides.entries()) {
    if (typeof s.imageId !== 'string' || !IMAGE_ID_PATTERN.test(s.imageId)) return `side ${i + 1}: the image ID must be 32 lowercase hex digits`;
    if (!(s.sha256 instanceof Uint8Array) || s.sha256.length !== 32) return `side ${i + 1}: the SHA-256 must be 32 bytes`;
    if (typeof s.kept !== 'boolean') return `side ${i + 1}: kept must be true or false`;
  }
  if (new Set(d.sides.map((s) => s.imageId)).size !== d.sides.length) return 'two sides have the same image ID';
  if (d.contests.length > MAX_CONTESTS) return `at most ${MAX_CONTESTS} contests`;
  let prev = -1;
  for (const c of d.contests) {
    if (!Number.isSafeInteger(c.contest) || c.contest <= prev) return `contests must be ascending and distinct (contest ${c.contest} after ${prev})`;
    prev = c.contest;
    if (c.scores.length < 1 || c.scores.length > MAX_TARGETS) return `contest ${c.contest}: 1 to ${MAX_TARGETS} target scores, got ${c.scores.length}`;
    for (const s of c.scores) if (!Number.isInteger(s) || s < 0 || s > SCORE_SCALE) return `contest ${c.contest}: a score must be an integer from 0 to ${SCORE_SCALE}, got ${s}`;
    let prevOption = -1;
    for (const o of c.marginal) {
      if (!Number.isInteger(o) || o <= prevOption || o >= c.scores.length) return `contest ${c.contest}: marginal option indexes must be ascending, distinct and below ${c.scores.length}`;
      prevOption = o;
    }
  }
  return undefined;
}

/** Reads a sheet-detail block (its version byte first) that runs to the end of the pending entry. */
export function readSheetDetail(rd: ByteReader): SheetDetail {
  readVersion(rd);
  const sideCount = readSideCount(rd);
  const sides: SideImage[] = [];
  for (let i = 0; i < sideCount; i++) {
    const id = rd.bytes(IMAGE_ID_BYTES, `side ${i + 1} image ID`);
    const sha256 = Uint8Array.from(rd.bytes(32, `side ${i + 1} SHA-256`));
    sides.push({ imageId: toHex(id), sha256, kept: readKept(rd, i) });
  }
  if (new Set(sides.map((s) => s.imageId)).size !== sides.length) throw new EncodingError('sheet detail: two sides have the same image ID');
  const contestCount = readContestCount(rd);
  const contests: ContestMarks[] = [];
  let prev = -1;
  for (let i = 0; i < contestCount; i++) {
    const contest = prev + 1 + rd.varint('contest index');
    prev = contest;
    const n = readTargetCount(rd, contest);
    const scores: number[] = [];
    for (let k = 0; k < n; k++) scores.push(readScore(rd, contest));
    const m = rd.varint(`contest ${contest} marginal count`);
    if (m > n) throw new EncodingError(`sheet detail: contest ${contest} lists ${m} marginal options of ${n}`);
    const marginal: number[] = [];
    let prevOption = -1;
    for (let k = 0; k < m; k++) {
      const o = prevOption + 1 + rd.varint(`contest ${contest} marginal option`);
      if (o >= n) throw new EncodingError(`sheet detail: contest ${contest} marginal option ${o} is not one of its ${n} targets`);
      marginal.push(o);
      prevOption = o;
    }
    contests.push({ contest, scores, marginal });
  }
  return { sides, contests };
}

/** The same checks as readSheetDetail, without making objects: `verify` reads every pending entry. */
export function skipSheetDetail(rd: ByteReader): void {
  readVersion(rd);
  const sideCount = readSideCount(rd);
  const ids = new Set<string>();
  for (let i = 0; i < sideCount; i++) {
    const at = rd.offset;
    rd.skip(IMAGE_ID_BYTES, `side ${i + 1} image ID`);
    if (sideCount > 1) ids.add(toHex(rd.view(at, IMAGE_ID_BYTES)));
    rd.skip(32, `side ${i + 1} SHA-256`);
    readKept(rd, i);
  }
  if (sideCount > 1 && ids.size !== sideCount) throw new EncodingError('sheet detail: two sides have the same image ID');
  const contestCount = readContestCount(rd);
  let prev = -1;
  for (let i = 0; i < contestCount; i++) {
    const contest = prev + 1 + rd.varint('contest index');
    prev = contest;
    const n = readTargetCount(rd, contest);
    for (let k = 0; k < n; k++) readScore(rd, contest);
    const m = rd.varint(`contest ${contest} marginal count`);
    if (m > n) throw new EncodingError(`sheet detail: contest ${contest} lists ${m} marginal options of ${n}`);
    let prevOption = -1;
    for (let k = 0; k < m; k++) {
      const o = prevOption + 1 + rd.varint(`contest ${contest} marginal option`);
      if (o >= n) throw new EncodingError(`sheet detail: contest ${contest} marginal option ${o} is not one of its ${n} targets`);
      prevOption = o;
    }
  }
}

function readVersion(rd: ByteReader): void {
  const v = rd.u8('sheet detail version');
  if (v !== SHEET_DETAIL_VERSION) throw new EncodingError(`unknown sheet detail version ${v} (this software reads version ${SHEET_DETAIL_VERSION})`);
}

function readSideCount(rd: ByteReader): number {
  const n = rd.varint('side count');
  if (n < 1 || n > MAX_SIDES) throw new EncodingError(`sheet detail: a sheet has 1 to ${MAX_SIDES} sides, got ${n}`);
  return n;
}

function readKept(rd: ByteReader, i: number): boolean {
  const f = rd.u8(`side ${i + 1} flags`);
  if ((f & ~SIDE_KEPT) !== 0) throw new EncodingError(`sheet detail: side ${i + 1} flags 0x${f.toString(16)} set bits that mean nothing`);
  return f === SIDE_KEPT;
}

function readContestCount(rd: ByteReader): number {
  const n = rd.varint('contest count');
  if (n > MAX_CONTESTS) throw new EncodingError(`sheet detail: ${n} contests, at most ${MAX_CONTESTS}`);
  return n;
}

function readTargetCount(rd: ByteReader, contest: number): number {
  const n = rd.varint(`contest ${contest} target count`) + 1;
  if (n > MAX_TARGETS) throw new EncodingError(`sheet detail: contest ${contest} has ${n} targets, at most ${MAX_TARGETS}`);
  return n;
}

function readScore(rd: ByteReader, contest: number): number {
  const s = rd.varint(`contest ${contest} score`);
  if (s > SCORE_SCALE) throw new EncodingError(`sheet detail: contest ${contest} score ${s} is above ${SCORE_SCALE}`);
  return s;
}

/**
 * What the ledger checks of a sheet detail against its election and the capture's own contests before it
 * takes the ballot: the same contests, every target of each scored, the marginal flag agreeing with the list.
 */
export function sheetDetailMismatch(d: SheetDetail, contests: readonly { readonly id: string; readonly options: readonly string[] }[], capture: readonly { readonly contest: number; readonly marginal: boolean }[]): string | undefined {
  const structural = sheetDetailProblem(d);
  if (structural !== undefined) return structural;
  if (d.contests.length !== capture.length) return `the sheet detail scores ${d.contests.length} contest(s), the ballot has ${capture.length}`;
  for (const [i, c] of d.contests.entries()) {
    const sel = capture[i];
    const def = contests[c.contest];
    if (sel === undefined || sel.contest !== c.contest) return `the sheet detail's contest ${c.contest} is not the ballot's contest ${sel?.contest ?? '(none)'} at the same place`;
    if (def === undefined) return `the sheet detail's contest index ${c.contest} is not in the election`;
    if (c.scores.length !== def.options.length) return `contest ${def.id}: ${c.scores.length} scores for ${def.options.length} targets`;
    if (sel.marginal !== c.marginal.length > 0) return `contest ${def.id}: the marginal flag disagrees with ${c.marginal.length} marginal option(s) in the sheet detail`;
  }
  return undefined;
}
