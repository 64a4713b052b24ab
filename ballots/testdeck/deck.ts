import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import sharp from 'sharp';
import type { Contest, ValidElection } from '../election';
import { contestResult, voteFor } from '../election';
import type { BallotCodes, ElectionPrivateKeys, ElectionPublicKeys, Mode, VotingId } from '../identity';
import { deriveBallotAddress, generateElectionKeys, issueBallotCodes, publicKeysOf, randomSerials } from '../identity';
import type { BallotLayout, Side, SideLayout, Target } from '../layout';
import { layoutBallot, layoutCache } from '../layout';
import { placeSymbol } from '../print/qr';
import type { Distortion, DistortionProfile } from './distort';
import { NO_DISTORTION, applyPaperEffects, applyScannerEffects, keepMarksInFrame, placeInFrame, randomDistortion } from './distort';
import type { GrayImage } from '../gray-image';
import { cloneImage, mmToPx } from '../gray-image';
import type { MarkClass, MarkKind } from './marks';
import { EXPECTED_CLASS, MARK_KINDS, PEN, drawMark, drawStrayMarks } from './marks';
import { polyline } from './paint';
import { drawQr } from './qr-raster';
import { Rng } from './rng';
import { renderSideTemplate } from './template';
import type { DeckTruth, ExpectedReason, SheetKind, TruthContest, TruthImage, TruthMark, TruthSheet } from './truth';
import { SHEET_KINDS } from './truth';

export type ImageFormat = 'png' | 'jpeg' | 'tiff';

export interface DeckOptions {
  readonly election: ValidElection;
  readonly publicKeys: ElectionPublicKeys;
  readonly privateKeys: ElectionPrivateKeys;
  readonly seed: string;
  readonly dpi: number;
  /** The station's mode: ballots are printed in it unless the sheet kind says otherwise. */
  readonly mode: Mode;
  /** The station's precinct; undefined = central count (every precinct is right, no wrong-precinct sheets). */
  readonly precinctId?: string;
  /** Relative weights of sheet kinds; missing kinds get 0. */
  readonly kinds: Partial<Record<SheetKind, number>>;
  readonly markKinds: readonly MarkKind[];
  readonly distortion: DistortionProfile;
  /** Chance per sheet of vertical scanner streaks (the sheet is then expected to be rejected). */
  readonly streakRate: number;
  readonly strayMarks: boolean;
  /** Chance per sheet of an unintended dot (marginal) and of an erased mark on an unvoted target. */
  readonly marginalRate: number;
  readonly erasureRate: number;
  readonly format: ImageFormat;
  /** false: keep rasters only (in-process benchmarks; PNG would be a lossless round trip). */
  readonly encode?: boolean;
  /**
   * Sheet i is script[i] instead of a random kind (a deck that must hold given sheets in a given order, such
   * as the demo's); sheets past its end are drawn from `kinds` as usual.
   */
  readonly script?: readonly ScriptedSheet[];
}

/** One sheet of a scripted deck. */
export interface ScriptedSheet {
  readonly kind: SheetKind;
  /** scanner streaks on this sheet (default: none, whatever `streakRate` says) */
  readonly streaks?: boolean;
  /** for a 'duplicate': the earlier sheet whose ballot ID it copies */
  readonly duplicateOf?: number;
  /**
   * The same paper ballot as an earlier sheet (same ID, same marks), scanned again: the voter feeds it again
   * after the scanner gave it back (streaks on the sensor). Only its scan differs.
   */
  readonly sameBallotAs?: number;
}

export const DEFAULT_KIND_WEIGHTS: Readonly<Record<SheetKind, number>> = {
  normal: 70,
  undervote: 8,
  overvote: 6,
  blank: 3,
  'wrong-election': 3,
  'wrong-precinct': 3,
  'test-mode': 2,
  counterfeit: 3,
  duplicate: 2,
  'mis-scaled': 2,
  // every target filled: a calibration sheet (tallyproof calibrate), not part of an election-day mix
  'all-filled': 0,
};

export interface RenderedSheet {
  readonly truth: TruthSheet;
  /** In scanner order, encoded in the deck's format. */
  readonly images: readonly { readonly file: string; readonly bytes: Buffer }[];
  /** The same images as rasters before encoding, for in-process benchmarks. */
  readonly rasters: readonly GrayImage[];
}

export interface SheetPlan {
  readonly kind: SheetKind;
  readonly serial: string;
  readonly precinctId: string;
  readonly styleId: string;
  readonly duplicateOf?: number;
}

/**
 * Makes scanner-like images of marked ballots and the truth about each. Deterministic for a seed: sheet i
 * depends only on the seed and i.
 */
export class TestDeck {
  private readonly templates = new Map<string, Promise<GrayImage>>();
  private readonly counterfeitKeys: ElectionPrivateKeys;
  private readonly otherElectionKeys: { public: ElectionPublicKeys; private: ElectionPrivateKeys };
  private readonly kindTable: readonly { kind: SheetKind; cumulative: number }[];

  private readonly layouts: (styleId: string) => BallotLayout;

  constructor(readonly options: DeckOptions) {
    this.layouts = layoutCache(options.election.definition);
    const seedRng = new Rng(`${options.seed}/keys`);
    this.counterfeitKeys = generateElectionKeys(options.publicKeys.network, (n) => seedRng.bytes(n)).private;
    this.otherElectionKeys = generateElectionKeys(options.publicKeys.network, (n) => seedRng.bytes(n));
    let total = 0;
    const table: { kind: SheetKind; cumulative: number }[] = [];
    for (const kind of SHEET_KINDS) {
      let w = options.kinds[kind] ?? 0;
      if (kind === 'wrong-precinct' && !this.otherPrecinctPossible()) w = 0;
      if (w <= 0) continue;
      total += w;
      table.push({ kind, cumulative: total });
    }
    if (total === 0) throw new Error('no sheet kind has a positive weight');
    this.kindTable = table.map((t) => ({ kind: t.kind, cumulative: t.cumulative / total }));
    if (options.markKinds.length === 0) throw new Error('at least one mark kind is needed');
    if (options.precinctId !== undefined && !options.election.definition.precincts.some((p) => p.id === options.precinctId)) {
      throw new Error(`the election has no precinct "${options.precinctId}"`);
    }
  }

  get truthHeader(): Omit<DeckTruth, 'sheets'> {
    const o = this.options;
    return {
      format: 'tallyproof-testdeck-truth/1',
      election: { id: o.election.definition.election.id, hash: o.election.hash },
      seed: o.seed,
      dpi: o.dpi,
      station: o.precinctId === undefined ? { mode: o.mode } : { mode: o.mode, precinctId: o.precinctId },
    };
  }

  /**
   * Who sheet `index` is: kind, serial, precinct, style. A pure function of the seed and the index, so any
   * sheet can be made alone (in any worker, in any order); a duplicate re-derives the sheet it copies.
   * Serials are 60 random bits: a collision within even ten million sheets has odds below 1 in 20,000.
   */
  plan(index: number): SheetPlan {
    const o = this.options;
    const scripted = this.scripted(index);
    if (scripted?.sameBallotAs !== undefined) return { ...this.plan(scripted.sameBallotAs), kind: scripted.kind };
    const rng = new Rng(`${o.seed}/plan/${index}`);
    let kind = scripted?.kind ?? this.pickKind(rng);
    if (kind === 'duplicate' && index === 0) kind = 'normal';
    if (kind === 'duplicate') {
      const duplicateOf = scripted?.duplicateOf ?? rng.int(0, index - 1);
      const original = this.plan(duplicateOf);
      return { kind, serial: original.serial, precinctId: original.precinctId, styleId: original.styleId, duplicateOf };
    }
    const def = o.election.definition;
    const stationPrecincts = o.precinctId === undefined ? def.precincts.map((p) => p.id) : [o.precinctId];
    const precinctId =
      kind === 'wrong-precinct' ? rng.pick(def.precincts.map((p) => p.id).filter((p) => !stationPrecincts.includes(p))) : rng.pick(stationPrecincts);
    const styleId = rng.pick(def.ballotStyles.filter((st) => st.precincts.includes(precinctId))).id;
    const [serial] = randomSerials(1, (n) => rng.bytes(n));
    if (!serial) throw new Error('no serial');
    return { kind, serial, precinctId, styleId };
  }

  /** Renders sheet `index`. */
  async sheet(index: number): Promise<RenderedSheet> {
    const o = this.options;
    const { kind, serial, precinctId, styleId, duplicateOf } = this.plan(index);
    const scripted = this.scripted(index);
    // the same ballot scanned again carries the same marks: they are drawn from its first sheet's stream
    const rng = new Rng(`${o.seed}/sheet/${scripted?.sameBallotAs ?? index}`);
    const def = o.election.definition;
    const mode: Mode = kind === 'test-mode' ? (o.mode === 'test' ? 'official' : 'test') : o.mode;
    const layout = this.layout(styleId);

    // Votes, then the marks that express them.
    const contests = new Map(def.contests.map((c) => [c.id, c]));
    const allTargets = layout.sides.flatMap((s) => s.targets);
    const byContest = groupBy(allTargets, (t) => t.contestId);
    const chosen = chooseVotes(kind, [...byContest.keys()].map((id) => contests.get(id)!), byContest, rng);
    const marks: TruthMark[] = [];
    const fillKinds = o.markKinds.filter((k) => EXPECTED_CLASS[k] === 'filled');
    for (const t of chosen) {
      const markKind = fillKinds.length > 0 ? rng.pick(fillKinds) : 'full';
      marks.push({ side: t.side, contestId: t.contestId, optionId: t.optionId, kind: markKind, expected: EXPECTED_CLASS[markKind] });
    }
    const unvoted = allTargets.filter((t) => !chosen.includes(t));
    for (const [extra, rate] of [
      ['dot', o.marginalRate],
      ['erasure', o.erasureRate],
    ] as const) {
      if (!o.markKinds.includes(extra) || unvoted.length === 0 || !rng.chance(rate)) continue;
      const i = rng.int(0, unvoted.length - 1);
      const t = unvoted.splice(i, 1)[0]!;
      marks.push({ side: t.side, contestId: t.contestId, optionId: t.optionId, kind: extra, expected: EXPECTED_CLASS[extra] });
    }

    // Codes per side.
    const codes = this.codesFor(kind, layout, { precinctId, styleId, mode }, serial);

    // Geometry and photometry shared by both sides of the sheet (one pass through one scanner).
    const page = layout.page;
    const widthPx = Math.round(mmToPx(page.width, o.dpi));
    const streaks = scripted !== undefined ? scripted.streaks === true : o.streakRate > 0 && rng.chance(o.streakRate);
    const drawn = randomDistortion(o.distortion, rng, { widthPx, page }, { streaks });
    // Printed too small or too large for the reader to trust: outside 97–103 % with a clear gap.
    const base = kind === 'mis-scaled' ? { ...drawn, scale: rng.chance(0.5) ? rng.uniform(0.9, 0.955) : rng.uniform(1.045, 1.06) } : drawn;
    const backFirst = layout.sides.length === 2 && rng.chance(0.25);
    const order: Side[] = layout.sides.map((s) => s.side);
    if (backFirst) order.reverse();

    const images: TruthImage[] = [];
    const files: { file: string; bytes: Buffer }[] = [];
    const rasters: GrayImage[] = [];
    let strayCount = 0;
    for (const [n, sideName] of order.entries()) {
      const side = layout.sides.find((s) => s.side === sideName)!;
      const img = cloneImage(await this.template(styleId, precinctId, mode, side));
      for (const box of side.codes) {
        const placed = placeSymbol(codes.get(sideName)![box.kind], box);
        if (!placed.ok) throw new Error(placed.error.message);
        drawQr(img, placed.value, o.dpi);
      }
      for (const m of marks.filter((mk) => mk.side === sideName)) {
        const t = side.targets.find((tt) => tt.contestId === m.contestId && tt.optionId === m.optionId)!;
        drawMark(img, m.kind, t, o.dpi, rng);
        if (t.writeIn && EXPECTED_CLASS[m.kind] === 'filled') writeName(img, t, side, o.dpi, rng);
      }
      if (o.strayMarks && rng.chance(0.3)) strayCount += drawStrayMarks(img, side, page, rng.int(1, 3), o.dpi, rng).length;
      const sideDistortion: Distortion = { ...base, ...keepMarksInFrame(base, side.marks, page) };
      applyPaperEffects(img, sideDistortion, o.dpi);
      const framed = placeInFrame(img, sideDistortion, o.dpi, 250);
      let scanned = await scannerOptics(framed, sideDistortion);
      applyScannerEffects(scanned, sideDistortion, rng);
      const q = sideDistortion.jpegQuality;
      // the scanner compressed the image: its artefacts are part of the raster, whatever the file format
      if (q !== undefined && o.format !== 'jpeg') scanned = await jpegRoundTrip(scanned, q);
      const file = `sheet-${String(index + 1).padStart(6, '0')}-${n + 1}.${o.format === 'jpeg' ? 'jpg' : o.format === 'tiff' ? 'tif' : 'png'}`;
      const bytes = o.encode === false ? Buffer.alloc(0) : await encodeImage(scanned, o.format, q);
      images.push({ file, side: sideName, distortion: sideDistortion });
      files.push({ file, bytes });
      rasters.push(scanned);
    }

    const atStationPrecinct = o.precinctId === undefined || precinctId === o.precinctId;
    const expected = expectedOutcome(kind, mode, o.mode, atStationPrecinct, streaks, marks, [...byContest.keys()].map((id) => contests.get(id)!));
    const truth: TruthSheet = {
      index,
      kind,
      serial,
      styleId,
      precinctId,
      mode,
      images,
      marks,
      strayMarks: strayCount,
      expected,
      ...(duplicateOf === undefined ? {} : { duplicateOf }),
    };
    return { truth, images: files, rasters };
  }

  private scripted(index: number): ScriptedSheet | undefined {
    const s = this.options.script?.[index];
    if (s === undefined) return undefined;
    for (const earlier of [s.duplicateOf, s.sameBallotAs]) {
      if (earlier !== undefined && !(Number.isInteger(earlier) && earlier >= 0 && earlier < index)) throw new Error(`scripted sheet ${index} refers to sheet ${earlier}, which is not an earlier one`);
    }
    if (s.duplicateOf !== undefined && s.kind !== 'duplicate') throw new Error(`scripted sheet ${index} names the sheet it duplicates but is a ${s.kind}`);
    return s;
  }

  private otherPrecinctPossible(): boolean {
    const o = this.options;
    return o.precinctId !== undefined && o.election.definition.precincts.length > 1;
  }

  private pickKind(rng: Rng): SheetKind {
    const r = rng.next();
    return (this.kindTable.find((k) => r < k.cumulative) ?? this.kindTable[this.kindTable.length - 1]!).kind;
  }

  layout(styleId: string): BallotLayout {
    return this.layouts(styleId);
  }

  private template(styleId: string, precinctId: string, mode: Mode, side: SideLayout): Promise<GrayImage> {
    const key = `${styleId}/${precinctId}/${mode}/${side.side}`;
    let t = this.templates.get(key);
    if (!t) {
      const withText = layoutBallot(this.options.election.definition, styleId, { precinctId, mode });
      if (!withText.ok) throw new Error(withText.error.message);
      const s = withText.value.sides.find((x) => x.side === side.side)!;
      t = renderSideTemplate(s, withText.value.page, this.options.dpi);
      this.templates.set(key, t);
    }
    return t;
  }

  private codesFor(kind: SheetKind, layout: BallotLayout, at: { precinctId: string; styleId: string; mode: Mode }, serial: string): Map<Side, BallotCodes> {
    const o = this.options;
    const out = new Map<Side, BallotCodes>();
    for (const side of layout.sides) {
      const votingId: VotingId = { electionHashPrefix: o.election.hash.slice(0, 16), precinctId: at.precinctId, styleId: at.styleId, side: side.side, mode: at.mode };
      switch (kind) {
        case 'wrong-election': {
          // A genuine ballot of another election: its own hash and its own keys.
          const other = bytesToHex(sha256(utf8ToBytes(`another election/${o.election.hash}`))).slice(0, 16);
          out.set(side.side, issueBallotCodes(this.otherElectionKeys.private, this.otherElectionKeys.public, { ...votingId, electionHashPrefix: other }, serial));
          break;
        }
        case 'counterfeit': {
          // Right election, right address (anyone can derive it), but not signed by the issuing key.
          const fake = issueBallotCodes(this.counterfeitKeys, publicKeysOf(this.counterfeitKeys), votingId, serial);
          out.set(side.side, { ...fake, address: deriveBallotAddress(o.publicKeys, serial) });
          break;
        }
        default:
          out.set(side.side, issueBallotCodes(o.privateKeys, o.publicKeys, votingId, serial));
      }
    }
    return out;
  }
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/** Which targets the voter means to fill, for the kind of sheet. */
function chooseVotes(kind: SheetKind, contests: readonly Contest[], targets: ReadonlyMap<string, readonly Target[]>, rng: Rng): Target[] {
  if (kind === 'blank') return [];
  if (kind === 'all-filled') return [...targets.values()].flat();
  const out: Target[] = [];
  const overvoteIn = kind === 'overvote' ? rng.pick(contests.filter((c) => (targets.get(c.id)?.length ?? 0) > voteFor(c))).id : undefined;
  const undervoteIn = kind === 'undervote' ? rng.pick(contests).id : undefined;
  for (const c of contests) {
    const ts = [...(targets.get(c.id) ?? [])];
    const n = voteFor(c);
    let k: number;
    if (c.id === overvoteIn) k = rng.int(n + 1, Math.min(ts.length, n + 2));
    else if (c.id === undervoteIn) k = rng.int(0, n - 1);
    else k = rng.chance(0.85) ? n : rng.int(0, n);
    out.push(...rng.shuffle(ts).slice(0, k));
  }
  if (out.length === 0 && kind !== 'undervote') {
    // a non-blank kind must carry at least one vote
    const c = rng.pick(contests);
    out.push(rng.pick(targets.get(c.id) ?? []));
  }
  return out;
}

function expectedOutcome(
  kind: SheetKind,
  ballotMode: Mode,
  stationMode: Mode,
  atStationPrecinct: boolean,
  streaks: boolean,
  marks: readonly TruthMark[],
  contests: readonly Contest[],
): TruthSheet['expected'] {
  const perContest: Record<string, TruthContest> = {};
  let anyOvervote = false;
  let anyMarginal = false;
  let anyVote = false;
  for (const c of contests) {
    const mine = marks.filter((m) => m.contestId === c.id);
    const ids = (cls: MarkClass) => new Set(mine.filter((m) => m.expected === cls).map((m) => m.optionId));
    const result = contestResult(c, ids('filled'), ids('marginal'));
    anyOvervote ||= result.overvote;
    anyMarginal ||= result.marginal.length > 0;
    anyVote ||= result.selections.length > 0;
    perContest[c.id] = result;
  }
  const rejected: ExpectedReason[] = [];
  if (kind === 'wrong-election') rejected.push('wrong-election');
  if (kind === 'counterfeit') rejected.push('counterfeit');
  // from the facts, not the kind: a photocopy of another precinct's ballot is of another precinct too
  if (!atStationPrecinct) rejected.push('wrong-precinct');
  if (ballotMode !== stationMode) rejected.push(ballotMode === 'test' ? 'test-ballot-in-official-mode' : 'official-ballot-in-test-mode');
  if (streaks) rejected.push('scanner-streaks');
  // Enlarged prints push the corner marks off the paper: the reader may say either.
  if (kind === 'mis-scaled') rejected.push('mis-scaled', 'unalignable');
  if (rejected.length > 0) return { status: 'rejected', reasons: rejected, contests: perContest };
  const returned: ExpectedReason[] = [];
  if (anyOvervote) returned.push('overvote');
  if (!anyVote && !anyMarginal) returned.push('blank-ballot');
  if (anyMarginal) returned.push('marginal-marks');
  return { status: returned.length > 0 ? 'returned' : 'accepted', reasons: returned, contests: perContest };
}

/** A handwritten name on the write-in line: outside the target, so it must not change the reading. */
function writeName(img: GrayImage, t: Target, side: SideLayout, dpi: number, rng: Rng): void {
  const box = side.contests.find((c) => c.contestId === t.contestId);
  if (!box) return;
  const x0 = t.x + t.width + 3;
  const x1 = box.x + box.width - 3;
  const baseY = t.y + t.height / 2 + 3.2;
  const pts: (readonly [number, number])[] = [];
  for (let x = x0; x < x1; x += rng.uniform(0.8, 1.6)) pts.push([mmToPx(x, dpi), mmToPx(baseY - rng.uniform(0, 2.2), dpi)]);
  polyline(img, pts, mmToPx(0.35, dpi), PEN(rng), rng);
}

async function scannerOptics(img: GrayImage, d: Distortion): Promise<GrayImage> {
  if (d.blurSigma < 0.3) return img;
  const { data, info } = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 1 } })
    .blur(d.blurSigma)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`blur gave ${info.channels} channels`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** 8-bit gray in `format`; PNG and TIFF are lossless, so their pixels are the raster's. */
export async function encodeImage(img: GrayImage, format: ImageFormat, jpegQuality?: number): Promise<Buffer> {
  const source = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 1 } }).toColourspace('b-w');
  if (format === 'jpeg') return source.jpeg({ quality: jpegQuality ?? 90 }).toBuffer();
  if (format === 'tiff') return source.tiff({ compression: 'lzw' }).toBuffer();
  return source.png({ compressionLevel: 3 }).toBuffer();
}

async function jpegRoundTrip(img: GrayImage, quality: number): Promise<GrayImage> {
  const jpg = await encodeImage(img, 'jpeg', quality);
  const { data, info } = await sharp(jpg).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

export { MARK_KINDS, NO_DISTORTION };
