/** Every length in the layout is in millimetres from the page's top-left corner, y downwards. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export type Side = 'front' | 'back';
export type CodeKind = 'address' | 'ballotId' | 'votingId';
export type FontFace = 'regular' | 'bold';
export type MarkKind = 'corner' | 'orientation' | 'timing';

/** One primitive of the ballot drawing; the PDF printer and the test-deck rasteriser both consume these. */
export type DrawOp =
  | { readonly op: 'text'; readonly x: number; readonly baseline: number; readonly text: string; readonly size: number; readonly font: FontFace }
  | { readonly op: 'fill-rect'; readonly rect: Rect; readonly gray: number }
  | { readonly op: 'stroke-rect'; readonly rect: Rect; readonly lineWidth: number }
  | { readonly op: 'line'; readonly x1: number; readonly y1: number; readonly x2: number; readonly y2: number; readonly lineWidth: number }
  | { readonly op: 'ellipse'; readonly cx: number; readonly cy: number; readonly rx: number; readonly ry: number; readonly lineWidth: number }
  | { readonly op: 'qr'; readonly code: CodeKind; readonly rect: Rect };

export interface RegistrationMark extends Rect {
  readonly kind: MarkKind;
}

/** A place a voter marks: the oval's bounding box. */
export interface Target extends Rect {
  readonly side: Side;
  readonly contestId: string;
  readonly optionId: string;
  readonly writeIn: boolean;
  /**
   * A write-in option's line and the space above it where the voter writes the name (from the drawing's own
   * line and row), so a clip of it shows the handwriting; absent for every other option.
   */
  readonly writeInArea?: Rect;
}

export interface CodeBox extends Rect {
  readonly side: Side;
  readonly kind: CodeKind;
}

export interface ContestBox extends Rect {
  readonly side: Side;
  readonly contestId: string;
}

export interface SideLayout {
  readonly side: Side;
  readonly marks: readonly RegistrationMark[];
  readonly codes: readonly CodeBox[];
  readonly targets: readonly Target[];
  readonly contests: readonly ContestBox[];
  /** The whole drawing of this side, in paint order. */
  readonly drawing: readonly DrawOp[];
}

export interface BallotLayout {
  readonly electionId: string;
  readonly styleId: string;
  readonly page: { readonly width: number; readonly height: number; readonly size: 'letter' | 'legal' };
  readonly sides: readonly SideLayout[];
}

export function rectCenter(r: Rect): { x: number; y: number } {
  return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
}
