import type { CalibrationProfile } from '../../calibration/profile';
import type { ContestResult, ValidElection } from '../election';
import { contestResult } from '../election';
import type { BallotCodes, ElectionPublicKeys, IdentityError, Mode } from '../identity';
import { verifyBallotCodes } from '../identity';
import type { BallotLayout, CodeKind, Side, SideLayout } from '../layout';
import { PAPER, codeBoxes, layoutCache, registrationMarks } from '../layout';
import type { GrayImage } from '../gray-image';
import { scoringImage } from './debug-image';
import { decodeImage } from './decode';
import type { Homography } from './homography';
import { applyHomography, imageRectOf } from './homography';
import { between, measureLevels } from './levels';
import { decodeQrIn } from './qr-decode';
import type { Reason, RejectReason, ReturnReason } from './reasons';
import type { Registration } from './registration';
import { register } from './registration';
import { targetScore } from './score';
import { findStreaks } from './streaks';
import type { MarkClass, MarkReading } from './mark-reading';

export type { MarkClass, MarkReading } from './mark-reading';

export type ContestReading = ContestResult;

export type Status = 'accepted' | 'returned' | 'rejected';

export interface PageReading {
  readonly status: Status;
  readonly reasons: readonly Reason[];
  /** A sentence for the log: what went wrong, with numbers. */
  readonly detail?: string;
  readonly ballotId?: string;
  readonly votingId?: string;
  readonly address?: string;
  readonly side?: Side;
  readonly styleId?: string;
  readonly precinctId?: string;
  readonly sides?: number;
  readonly contests: Readonly<Record<string, ContestReading>>;
  readonly marks: readonly MarkReading[];
  readonly alignment?: { readonly dpi: number; readonly scale: number; readonly upsideDown: boolean; readonly residualPx: number; readonly timingMarks: number };
  readonly ms: number;
}

export interface ReaderSetup {
  readonly election: ValidElection;
  readonly publicKeys: ElectionPublicKeys;
  readonly profile: CalibrationProfile;
  /** The station's mode, and its precinct (undefined: central count, any precinct of the election). */
  readonly station: { readonly mode: Mode; readonly precinctId?: string };
  /** Return ballots with undervotes for the voter to review (an election setting; off by default). */
  readonly returnUndervotes?: boolean;
}

export interface ReadOptions {
  /** Receives a PNG of the scan with every target's score drawn on it (the scoring report). */
  readonly onScoring?: (png: Buffer) => void;
}

/** Reads ballot pages for one election; keeps the layouts it has computed. */
export class BallotReader {
  private readonly page: { width: number; height: number };
  private readonly marks;
  private readonly validStyles: ReadonlyMap<string, readonly string[]>;

  private readonly layouts: (styleId: string) => BallotLayout;

  constructor(readonly setup: ReaderSetup) {
    this.layouts = layoutCache(setup.election.definition);
    this.page = PAPER[setup.election.definition.paper.size];
    this.marks = registrationMarks(this.page);
    const m = new Map<string, string[]>();
    for (const st of setup.election.definition.ballotStyles) for (const p of st.precincts) m.set(p, [...(m.get(p) ?? []), st.id]);
    this.validStyles = m;
  }

  /** Reads one encoded image (PNG, JPEG, TIFF, PNM). Never throws for bad input: it says why in the result. */
  async readFile(bytes: Uint8Array, options: ReadOptions = {}): Promise<PageReading> {
    const started = process.hrtime.bigint();
    const decoded = await decodeImage(bytes);
    if (!decoded.ok) return this.finish(started, { status: 'rejected', reasons: [decoded.error.code], detail: decoded.error.message, contests: {}, marks: [] });
    return this.readImage(decoded.value, started, options);
  }

  async readImage(img: GrayImage, started = process.hrtime.bigint(), options: ReadOptions = {}): Promise<PageReading> {
    const reject = (reason: RejectReason, detail: string, extra: Partial<PageReading> = {}): PageReading =>
      this.finish(started, { status: 'rejected', reasons: [reason], detail, contests: {}, marks: [], ...extra });
    const levels = measureLevels(img);
    const reg = register(img, levels, this.page, this.marks);
    if (!reg.ok) {
      // A streak through a registration mark can be why the page does not align: cleaning the glass is
      // then the useful instruction, so look for streaks over the whole frame before giving up.
      if (reg.error.code === 'unalignable') {
        const frame = [
          { x: 0, y: 0 },
          { x: img.width - 1, y: 0 },
          { x: 0, y: img.height - 1 },
          { x: img.width - 1, y: img.height - 1 },
        ];
        const streaks = findStreaks(img, frame, between(levels, 0.5), this.setup.profile.streakFraction);
        if (streaks.length > 0) return reject('scanner-streaks', `vertical streaks at x = ${streaks.join(', ')} px (the page could not be aligned: ${reg.error.message})`);
      }
      return reject(reg.error.code, reg.error.message);
    }
    const alignment = { dpi: round(reg.value.dpi, 1), scale: round(reg.value.scale, 4), upsideDown: reg.value.upsideDown, residualPx: round(reg.value.residualPx, 2), timingMarks: reg.value.timingMarks };
    const { profile } = this.setup;
    const inkBelow = between(levels, profile.inkCut);

    const corners = this.marks.filter((m) => m.kind === 'corner').map((m) => applyHomography(reg.value.toImage, m.x + m.width / 2, m.y + m.height / 2));
    const streaks = findStreaks(img, corners, between(levels, 0.5), profile.streakFraction);

    const codes = await this.readCodes(img, reg.value, inkBelow);
    if (!codes.ok) {
      if (streaks.length > 0) return reject('scanner-streaks', `vertical streaks at x = ${streaks.join(', ')} px`, { alignment });
      return reject(codes.reason, codes.detail, { alignment });
    }
    const ids = { ballotId: codes.serial, votingId: codes.codes.votingId, address: codes.codes.address };
    if (streaks.length > 0) return reject('scanner-streaks', `vertical streaks at x = ${streaks.join(', ')} px`, { alignment, ...ids });
    const verified = verifyBallotCodes(codes.codes, this.setup.publicKeys, {
      electionHash: this.setup.election.hash,
      mode: this.setup.station.mode,
      ...(this.setup.station.precinctId === undefined ? {} : { precinctId: this.setup.station.precinctId }),
      validStyles: this.validStyles,
    });
    if (!verified.ok) return reject(identityReason(verified.error), verified.error.message, { alignment, ...ids });
    const v = verified.value;
    const layout = this.layout(v.votingId.styleId);
    const side = layout.sides.find((s) => s.side === v.votingId.side);
    if (!side) return reject('codes-disagree', `the voting ID names the ${v.votingId.side} side of a one-sided ballot`, { alignment, ...ids });

    const marks = this.scoreSide(img, reg.value.toImage, side, inkBelow, reg.value.dpi);
    if (options.onScoring) options.onScoring(await scoringImage(img, reg.value.toImage, side, marks, reg.value.dpi));
    const contests = this.contestsOf(side, marks);
    const reasons = pageReturnReasons(contests, marks, layout.sides.length === 1, this.setup.returnUndervotes ?? false);
    return this.finish(started, {
      status: reasons.length > 0 ? 'returned' : 'accepted',
      reasons,
      ...ids,
      ballotId: v.serial,
      side: v.votingId.side,
      styleId: v.votingId.styleId,
      precinctId: v.votingId.precinctId,
      sides: layout.sides.length,
      contests,
      marks,
      alignment,
    });
  }

  private finish(started: bigint, r: Omit<PageReading, 'ms'>): PageReading {
    return { ...r, ms: round(Number(process.hrtime.bigint() - started) / 1e6, 2) };
  }

  layout(styleId: string): BallotLayout {
    return this.layouts(styleId);
  }

  private async readCodes(
    img: GrayImage,
    reg: Registration,
    inkBelow: number,
  ): Promise<{ ok: true; codes: BallotCodes; serial: string } | { ok: false; reason: RejectReason; detail: string }> {
    const found = await decodeCodeBoxes(img, reg.toImage, reg.dpi, this.page, inkBelow);
    const missing = (['address', 'ballotId', 'votingId'] as const).filter((k) => found[k] === undefined);
    if (missing.length > 0) return { ok: false, reason: 'unreadable-codes', detail: `could not decode the ${missing.join(', ')} code${missing.length > 1 ? 's' : ''}` };
    const codes: BallotCodes = { address: found.address!, ballotId: found.ballotId!, votingId: found.votingId! };
    return { ok: true, codes, serial: codes.ballotId.split(':')[1] ?? '' };
  }

  private scoreSide(img: GrayImage, toImage: Homography, side: SideLayout, inkBelow: number, dpi: number): MarkReading[] {
    const { profile } = this.setup;
    return side.targets.map((t) => {
      const score = targetScore(img, toImage, t, inkBelow, profile.insetMm, profile.offsets, dpi);
      const cls: MarkClass = score >= profile.thresholds.definite ? 'filled' : score >= profile.thresholds.marginal ? 'marginal' : 'empty';
      return { contestId: t.contestId, optionId: t.optionId, score: round(score, 4), class: cls };
    });
  }

  private contestsOf(side: SideLayout, marks: readonly MarkReading[]): Record<string, ContestReading> {
    const byId = new Map(this.setup.election.definition.contests.map((c) => [c.id, c]));
    const out: Record<string, ContestReading> = {};
    for (const box of side.contests) {
      const mine = marks.filter((m) => m.contestId === box.contestId);
      const ids = (cls: MarkClass) => new Set(mine.filter((m) => m.class === cls).map((m) => m.optionId));
      out[box.contestId] = contestResult(byId.get(box.contestId)!, ids('filled'), ids('marginal'));
    }
    return out;
  }
}

/** Return reasons of one page; a blank ballot is decided per page only for one-sided ballots. */
export function pageReturnReasons(contests: Readonly<Record<string, ContestReading>>, marks: readonly MarkReading[], wholeBallot: boolean, returnUndervotes: boolean): ReturnReason[] {
  const list = Object.values(contests);
  const reasons: ReturnReason[] = [];
  if (list.some((c) => c.overvote)) reasons.push('overvote');
  if (wholeBallot && marks.every((m) => m.class === 'empty')) reasons.push('blank-ballot');
  if (marks.some((m) => m.class === 'marginal')) reasons.push('marginal-marks');
  if (returnUndervotes && list.some((c) => !c.overvote && c.undervote > 0)) reasons.push('undervote');
  return reasons;
}

/**
 * The QR texts found in a registered page's three code boxes, by kind: the fast try first, then the whole
 * neighbourhood harder, then despeckled and binarised (dust, folds). An empty box is skipped at once (a page
 * without codes must not be slower than a ballot). Used by the reader and by the auditor's paper check.
 */
export async function decodeCodeBoxes(img: GrayImage, toImage: Homography, dpi: number, page: { width: number; height: number }, inkBelow: number): Promise<Partial<Record<CodeKind, string>>> {
  const found: Partial<Record<CodeKind, string>> = {};
  const modulePx = (0.75 * dpi) / 25.4;
  const fastScale = 1 / Math.max(1, Math.floor(modulePx / 2.8));
  for (const { kind, rect } of codeBoxes(page)) {
    if (inkShare(img, imageRectOf(toImage, rect, 0), inkBelow) < 0.05) continue;
    for (const attempt of [
      { margin: 4, scale: fastScale, tryHarder: false, clean: false },
      { margin: 12, scale: 1, tryHarder: true, clean: false },
      { margin: 6, scale: 1, tryHarder: true, clean: true },
    ]) {
      const results = await decodeQrIn(img, imageRectOf(toImage, rect, attempt.margin), { scale: attempt.scale, tryHarder: attempt.tryHarder, clean: attempt.clean, maxSymbols: attempt.margin > 4 ? 3 : 1 });
      const text = results.map((r) => r.text).find((t) => codeKindOf(t) === kind);
      if (text !== undefined) {
        found[kind] = text;
        break;
      }
    }
  }
  return found;
}

/** Which of the three codes a QR text is, by its prefix (the address has none). */
export function codeKindOf(text: string): CodeKind {
  if (text.startsWith('TPB1:')) return 'ballotId';
  if (text.startsWith('TPV1:')) return 'votingId';
  return 'address';
}

function identityReason(e: IdentityError): RejectReason {
  switch (e.code) {
    case 'bad-signature':
      return 'counterfeit';
    case 'wrong-election':
    case 'wrong-network':
    case 'wrong-precinct':
    case 'unknown-precinct':
    case 'unknown-style':
    case 'test-ballot-in-official-mode':
    case 'official-ballot-in-test-mode':
      return e.code;
    default:
      return 'codes-disagree';
  }
}


/** Share of sampled pixels in an image rectangle that are ink. */
function inkShare(img: GrayImage, r: { x: number; y: number; width: number; height: number }, inkBelow: number): number {
  const x0 = Math.max(0, Math.floor(r.x));
  const y0 = Math.max(0, Math.floor(r.y));
  const x1 = Math.min(img.width, Math.ceil(r.x + r.width));
  const y1 = Math.min(img.height, Math.ceil(r.y + r.height));
  let n = 0;
  let ink = 0;
  for (let y = y0; y < y1; y += 2) {
    for (let x = x0; x < x1; x += 2) {
      n++;
      if ((img.data[y * img.width + x] as number) < inkBelow) ink++;
    }
  }
  return n === 0 ? 0 : ink / n;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
