import type { BallotStyle, Contest, ElectionDefinition } from '../election';
import { contestOptions, findStyle, styleContests } from '../election';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import { ascent, textWidth, wrapText } from './fonts';
import type { BallotLayout, CodeBox, CodeKind, ContestBox, DrawOp, FontFace, Rect, RegistrationMark, Side, SideLayout, Target } from './geometry';
import { BALLOT, PAPER, pt } from './page';

export type BallotMode = 'test' | 'official';

/** Precinct and mode change only the words printed in the header, never the geometry. */
export interface LayoutOptions {
  readonly precinctId?: string;
  readonly mode?: BallotMode;
}

export type LayoutError =
  | { readonly code: 'unknown-style'; readonly message: string }
  | { readonly code: 'unknown-precinct'; readonly message: string }
  | { readonly code: 'does-not-fit'; readonly contestId: string; readonly message: string };

const TITLE_SIZE = pt(9);
const SMALL_SIZE = pt(7);
const NAME_SIZE = pt(9);
const PARTY_SIZE = pt(7);
const MEASURE_TEXT_SIZE = pt(7.5);
const PAD = 1.5;
/** how far below a write-in line its area reaches (descenders, a hand that writes low); the row ends 1.8 mm under it */
const WRITE_IN_BELOW_LINE = 1.4;

export function layoutBallot(election: ElectionDefinition, styleId: string, options: LayoutOptions = {}): Result<BallotLayout, LayoutError> {
  const style = findStyle(election, styleId);
  if (!style) return err({ code: 'unknown-style', message: `the election has no ballot style "${styleId}"` });
  if (options.precinctId !== undefined && !style.precincts.includes(options.precinctId)) {
    return err({ code: 'unknown-precinct', message: `ballot style "${styleId}" is not used in precinct "${options.precinctId}"` });
  }
  const page = { ...PAPER[election.paper.size], size: election.paper.size };
  const sides: Side[] = election.paper.sides === 2 ? ['front', 'back'] : ['front'];
  const content = { x0: BALLOT.contentInset, x1: page.width - BALLOT.contentInset };
  const codeTop = codeTopOf(page.height);
  const contestBottom = codeTop - BALLOT.qr.quietZone - BALLOT.codeBandGap;
  const colWidth = (content.x1 - content.x0 - (BALLOT.columns - 1) * BALLOT.columnGap) / BALLOT.columns;

  const contests = styleContests(election, style);
  const builders = sides.map((side) => new SideBuilder(side, page));
  const flowTops = builders.map((b, i) => b.header(election, style, options, i, sides.length, content));

  // Flow contests down the columns of the front, then of the back; a contest never splits.
  let sideIndex = 0;
  let column = 0;
  let y = flowTops[0]!;
  for (const contest of contests) {
    const height = measureContest(contest, election, colWidth);
    if (height > contestBottom - Math.min(...flowTops)) {
      return err({ code: 'does-not-fit', contestId: contest.id, message: `contest "${contest.id}" is taller (${height.toFixed(0)} mm) than a whole column; shorten its text or its candidate list` });
    }
    while (y + height > contestBottom) {
      column += 1;
      if (column === BALLOT.columns) {
        column = 0;
        sideIndex += 1;
      }
      if (sideIndex === sides.length) {
        return err({
          code: 'does-not-fit',
          contestId: contest.id,
          message: `contest "${contest.id}" and those after it do not fit on a ${election.paper.sides}-sided ${page.size} sheet; use legal paper, two sides, or fewer contests`,
        });
      }
      y = flowTops[sideIndex]!;
    }
    const x = content.x0 + column * (colWidth + BALLOT.columnGap);
    builders[sideIndex]!.contest(contest, election, { x, y, width: colWidth, height });
    y += height + BALLOT.contestGap;
  }

  return ok({ electionId: election.election.id, styleId: style.id, page, sides: builders.map((b) => b.codesAndMarks()) });
}

/** Height of a contest box in a column of `width` mm: the layout needs it before drawing. */
function measureContest(contest: Contest, election: ElectionDefinition, width: number): number {
  return drawContest(contest, election, { x: 0, y: 0, width, height: 0 }, 'front').height;
}

interface ContestDrawing {
  height: number;
  ops: DrawOp[];
  targets: Target[];
}

function drawContest(contest: Contest, election: ElectionDefinition, at: Rect, side: Side): ContestDrawing {
  const ops: DrawOp[] = [];
  const targets: Target[] = [];
  const inner = at.width - 2 * PAD;
  let y = at.y + PAD;
  const lines = (text: string, face: FontFace, size: number, width = inner, x = at.x + PAD) => {
    for (const line of wrapText(text, face, size, width)) {
      ops.push({ op: 'text', x, baseline: y + ascent(face, size) * 0.8, text: line, size, font: face });
      y += size * 1.2;
    }
  };
  const titleTop = y - PAD;
  lines(contest.title, 'bold', TITLE_SIZE);
  if (contest.type === 'candidate') {
    if (contest.subtitle) lines(contest.subtitle, 'regular', SMALL_SIZE);
    lines(contest.voteFor === 1 ? 'Vote for 1' : `Vote for up to ${contest.voteFor}`, 'bold', SMALL_SIZE);
  } else {
    y += 0.5;
    lines(contest.text, 'regular', MEASURE_TEXT_SIZE);
  }
  y += 0.8;
  const headerBottom = y;
  ops.unshift({ op: 'fill-rect', rect: { x: at.x, y: titleTop, width: at.width, height: headerBottom - titleTop }, gray: 0.88 });
  ops.push({ op: 'line', x1: at.x, y1: headerBottom, x2: at.x + at.width, y2: headerBottom, lineWidth: BALLOT.boxLine });

  const oval = BALLOT.oval;
  const textX = at.x + oval.left + oval.width + 2.5;
  const textWidthAvail = at.x + at.width - PAD - textX;
  for (const option of contestOptions(contest, election)) {
    const rowHeight = option.writeIn ? 9 : option.party ? 7.5 : 6;
    const nameMid = y + (option.writeIn ? 3.2 : option.party ? 3.2 : rowHeight / 2);
    const lineY = y + rowHeight - 1.8;
    const lineEnd = at.x + at.width - PAD;
    const target: Target = {
      side,
      contestId: contest.id,
      optionId: option.id,
      writeIn: option.writeIn,
      x: at.x + oval.left,
      y: nameMid - oval.height / 2,
      width: oval.width,
      height: oval.height,
      // the row from its top to just under the line, from where the line starts to where it ends: the name is
      // written on the line, over the small "write-in" word; the next row starts below it
      ...(option.writeIn ? { writeInArea: { x: textX, y, width: lineEnd - textX, height: lineY + WRITE_IN_BELOW_LINE - y } } : {}),
    };
    targets.push(target);
    ops.push({ op: 'ellipse', cx: target.x + oval.width / 2, cy: nameMid, rx: oval.width / 2, ry: oval.height / 2, lineWidth: oval.line });
    if (option.writeIn) {
      ops.push({ op: 'line', x1: textX, y1: lineY, x2: lineEnd, y2: lineY, lineWidth: 0.25 });
      ops.push({ op: 'text', x: textX, baseline: nameMid + pt(7) * 0.35, text: 'write-in', size: pt(7), font: 'regular' });
    } else {
      const size = fitSize(option.label, 'bold', NAME_SIZE, textWidthAvail);
      ops.push({ op: 'text', x: textX, baseline: nameMid + NAME_SIZE * 0.35, text: option.label, size, font: 'bold' });
      if (option.party) {
        const psize = fitSize(option.party, 'regular', PARTY_SIZE, textWidthAvail);
        ops.push({ op: 'text', x: textX, baseline: nameMid + NAME_SIZE * 0.35 + PARTY_SIZE * 1.15, text: option.party, size: psize, font: 'regular' });
      }
    }
    y += rowHeight;
  }
  y += 0.5;
  const height = y - at.y;
  ops.push({ op: 'stroke-rect', rect: { x: at.x, y: at.y, width: at.width, height }, lineWidth: BALLOT.boxLine });
  return { height, ops, targets };
}

/** Shrinks text that would overflow its line rather than wrapping it, so geometry never depends on words. */
function fitSize(text: string, face: FontFace, size: number, width: number): number {
  const w = textWidth(text, face, size);
  return w <= width ? size : (size * width) / w;
}

class SideBuilder {
  private readonly ops: DrawOp[] = [];
  private readonly targets: Target[] = [];
  private readonly contests: ContestBox[] = [];

  constructor(
    private readonly side: Side,
    private readonly page: { width: number; height: number },
  ) {}

  /** Draws the header; returns where contests may start. The header's height is the same for every precinct and mode. */
  header(election: ElectionDefinition, style: BallotStyle, options: LayoutOptions, index: number, sideCount: number, content: { x0: number; x1: number }): number {
    const width = content.x1 - content.x0;
    let y = BALLOT.contentInset;
    const line = (text: string, face: FontFace, size: number) => {
      const s = fitSize(text, face, size, width);
      this.ops.push({ op: 'text', x: content.x0, baseline: y + ascent(face, size) * 0.8, text, size: s, font: face });
      y += size * 1.25;
    };
    const precinct = election.precincts.find((p) => p.id === options.precinctId);
    const modeText = options.mode === 'test' ? 'TEST BALLOT – NOT VALID FOR VOTING' : options.mode === 'official' ? 'Official Ballot' : 'Ballot';
    const where = precinct ? `${precinct.name} · style ${style.id}` : `Ballot style ${style.id}`;
    const sideText = sideCount === 2 ? ` · Side ${index + 1} of 2` : '';
    if (index === 0) {
      line(`${modeText} – ${election.election.title}`, 'bold', pt(13));
      line(`${election.election.jurisdiction} · ${formatDate(election.election.date)}`, 'regular', pt(9));
      line(`${where}${sideText}`, 'regular', pt(9));
      y += 1;
      const instructions =
        'To vote, fill in the oval completely next to your choice with a black or blue pen. To vote for a person not listed, fill in the oval next to “write-in” and write the name on the line. If you make a mistake, ask a poll worker for a new ballot.';
      const rows = wrapText(instructions, 'regular', pt(8), width - 4).slice(0, 3);
      const boxTop = y;
      y += 1.5;
      for (const r of rows) {
        this.ops.push({ op: 'text', x: content.x0 + 2, baseline: y + ascent('regular', pt(8)) * 0.8, text: r, size: pt(8), font: 'regular' });
        y += pt(8) * 1.2;
      }
      y = boxTop + 1.5 + 3 * pt(8) * 1.2 + 1;
      this.ops.push({ op: 'stroke-rect', rect: { x: content.x0, y: boxTop, width, height: y - boxTop }, lineWidth: 0.3 });
    } else {
      line(`${modeText} – ${election.election.title}`, 'bold', pt(11));
      line(`${where}${sideText}`, 'regular', pt(9));
    }
    return y + 3;
  }

  contest(contest: Contest, election: ElectionDefinition, at: Rect): void {
    const drawn = drawContest(contest, election, at, this.side);
    this.ops.push(...drawn.ops);
    this.targets.push(...drawn.targets);
    this.contests.push({ side: this.side, contestId: contest.id, ...at });
  }

  codesAndMarks(): SideLayout {
    const marks = registrationMarks(this.page);
    const labels: Record<CodeKind, string> = { address: 'Ballot address', ballotId: 'Ballot ID', votingId: 'Voting ID' };
    const codes: CodeBox[] = [];
    const drawing: DrawOp[] = [...marks.map((r): DrawOp => ({ op: 'fill-rect', rect: r, gray: 0 })), ...this.ops];
    for (const { kind, rect } of codeBoxes(this.page)) {
      codes.push({ side: this.side, kind, ...rect });
      drawing.push({ op: 'qr', code: kind, rect });
      const label = labels[kind];
      const lw = textWidth(label, 'regular', BALLOT.qr.labelSize);
      drawing.push({ op: 'text', x: rect.x + (rect.width - lw) / 2, baseline: rect.y + rect.height + BALLOT.qr.labelGap + BALLOT.qr.labelSize * 0.8, text: label, size: BALLOT.qr.labelSize, font: 'regular' });
    }
    return { side: this.side, marks, codes, targets: this.targets, contests: this.contests, drawing };
  }
}

/**
 * The registration marks of a page: four corner squares, the orientation square beside the top-left one,
 * and timing marks down both edges. They depend on the paper only, so a reader can align a page before it
 * knows the ballot style.
 */
export function registrationMarks(page: { width: number; height: number }): RegistrationMark[] {
  const { width: W, height: H } = page;
  const m = BALLOT.markInset;
  const c = BALLOT.cornerMark;
  const marks: RegistrationMark[] = [
    { kind: 'corner', x: m, y: m, width: c, height: c },
    { kind: 'corner', x: W - m - c, y: m, width: c, height: c },
    { kind: 'corner', x: m, y: H - m - c, width: c, height: c },
    { kind: 'corner', x: W - m - c, y: H - m - c, width: c, height: c },
    { kind: 'orientation', x: m + c + BALLOT.orientationGap, y: m, width: c, height: c },
  ];
  const t = BALLOT.timingMark;
  for (let y = m + c + t.pitch - t.height; y + t.height <= H - m - c - t.pitch / 2; y += t.pitch) {
    marks.push({ kind: 'timing', x: m, y, width: t.width, height: t.height });
    marks.push({ kind: 'timing', x: W - m - t.width, y, width: t.width, height: t.height });
  }
  return marks;
}

/** Where the three QR codes sit on a page of this size (the same for every style of an election). */
export function codeBoxes(page: { width: number; height: number }): { kind: CodeKind; rect: Rect }[] {
  const box = BALLOT.qr.box;
  const x0 = BALLOT.contentInset;
  const x1 = page.width - BALLOT.contentInset;
  const top = codeTopOf(page.height);
  return [
    { kind: 'address', rect: { x: x0, y: top, width: box, height: box } },
    { kind: 'ballotId', rect: { x: (x0 + x1 - box) / 2, y: top, width: box, height: box } },
    { kind: 'votingId', rect: { x: x1 - box, y: top, width: box, height: box } },
  ];
}

function codeTopOf(pageHeight: number): number {
  return pageHeight - BALLOT.contentInset - BALLOT.qr.labelGap - BALLOT.qr.labelSize - BALLOT.qr.box;
}

function formatDate(iso: string): string {
  const [y, mo, d] = iso.split('-').map(Number);
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  return `${months[(mo ?? 1) - 1]} ${d}, ${y}`;
}
