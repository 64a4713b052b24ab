import { assertNever } from '../../lib/result';
import type { Block } from './blocks';
import { groupHex } from './blocks';
import type { Face } from './fonts';
import { ascentOf, measure, wrap } from './fonts';
import type { PaperSpec } from './paper';
import { columnWidth } from './paper';

/** What the renderer draws; y downwards from the page's top-left, in mm. */
export type DrawOp =
  | { readonly op: 'text'; readonly x: number; readonly baseline: number; readonly text: string; readonly face: Face; readonly size: number; readonly color: Ink }
  | { readonly op: 'rect'; readonly x: number; readonly y: number; readonly width: number; readonly height: number; readonly color: Ink }
  | { readonly op: 'line'; readonly x1: number; readonly y1: number; readonly x2: number; readonly y2: number; readonly width: number }
  | { readonly op: 'qr'; readonly x: number; readonly y: number; readonly size: number; readonly text: string };

export type Ink = 'black' | 'white' | 'gray';

/** A slice of content that is never split over two pages; ops are relative to its top. */
interface Piece {
  readonly height: number;
  readonly ops: readonly DrawOp[];
  /** a heading: never the last thing on a page */
  readonly keepWithNext: boolean;
}

/** Pieces that go on one page if they fit on one. */
type Unit = readonly Piece[];

export interface LaidOutPage {
  readonly width: number;
  readonly height: number;
  readonly ops: readonly DrawOp[];
}

export interface PageFurniture {
  /** running header on letter pages */
  readonly header: string;
}

function shift(ops: readonly DrawOp[], dy: number, dx = 0): DrawOp[] {
  return ops.map((o): DrawOp => {
    switch (o.op) {
      case 'text':
        return { ...o, x: o.x + dx, baseline: o.baseline + dy };
      case 'rect':
      case 'qr':
        return { ...o, x: o.x + dx, y: o.y + dy };
      case 'line':
        return { ...o, x1: o.x1 + dx, x2: o.x2 + dx, y1: o.y1 + dy, y2: o.y2 + dy };
      default:
        return assertNever(o, 'draw op');
    }
  });
}

class Measurer {
  constructor(private readonly spec: PaperSpec) {}

  get left(): number {
    return this.spec.marginX;
  }

  get width(): number {
    return columnWidth(this.spec);
  }

  line(size: number): number {
    return size * this.spec.lineHeight;
  }

  /** Wrapped lines of text from `x`, each its own piece so a long paragraph may break between lines. */
  textLines(text: string, face: Face, size: number, opts: { x?: number; width?: number; center?: boolean; color?: Ink } = {}): Piece[] {
    const x = opts.x ?? this.left;
    const width = opts.width ?? this.width;
    return wrap(text, face, size, width).map((t) => {
      const lx = opts.center ? x + (width - measure(t, face, size)) / 2 : x;
      return { height: this.line(size), keepWithNext: false, ops: [{ op: 'text', x: lx, baseline: ascentOf(face, size) + (this.line(size) - size) / 2, text: t, face, size, color: opts.color ?? 'black' }] };
    });
  }

  block(b: Block): Unit {
    const s = this.spec.size;
    switch (b.kind) {
      case 'banner': {
        const size = s.banner;
        const lines = wrap(b.text, 'bold', size, this.width - 4);
        const lh = size * 1.2;
        const pad = size * 0.35;
        const height = lines.length * lh + 2 * pad;
        const ops: DrawOp[] = [];
        if (b.inverse) ops.push({ op: 'rect', x: this.left, y: 0, width: this.width, height, color: 'black' });
        else ops.push({ op: 'rect', x: this.left, y: 0, width: this.width, height: 0.6, color: 'black' }, { op: 'rect', x: this.left, y: height - 0.6, width: this.width, height: 0.6, color: 'black' });
        lines.forEach((t, i) => {
          const x = this.left + (this.width - measure(t, 'bold', size)) / 2;
          ops.push({ op: 'text', x, baseline: pad + i * lh + ascentOf('bold', size) - size * 0.05, text: t, face: 'bold', size, color: b.inverse ? 'white' : 'black' });
        });
        return [{ height: height + 1.5, ops, keepWithNext: true }];
      }
      case 'heading': {
        const pieces = this.textLines(b.text, 'bold', s.heading);
        return pieces.map((p) => ({ ...p, keepWithNext: true }));
      }
      case 'text':
        return this.textLines(b.text, b.bold ? 'bold' : 'regular', b.small ? s.small : s.body, { center: b.center ?? false });
      case 'row':
        return this.row(b);
      case 'hash': {
        const label = this.textLines(b.label, 'regular', s.small, { color: 'black' }).map((p) => ({ ...p, keepWithNext: true }));
        const hex = this.textLines(groupHex(b.hex), 'mono', s.mono, { x: this.left + 2, width: this.width - 2 });
        return [...label, { height: hex.reduce((a, p) => a + p.height, 0), keepWithNext: false, ops: stack(hex) }];
      }
      case 'rule': {
        const w = b.heavy ? 0.6 : 0.25;
        return [{ height: 3, keepWithNext: false, ops: [{ op: 'line', x1: this.left, y1: 1.5, x2: this.left + this.width, y2: 1.5, width: w }] }];
      }
      case 'space':
        return [{ height: b.mm, keepWithNext: false, ops: [] }];
      case 'qr': {
        const size = Math.min(b.mm ?? this.spec.qrSize, this.width);
        return [{ height: size + 2, keepWithNext: false, ops: [{ op: 'qr', x: this.left + (this.width - size) / 2, y: 1, size, text: b.text }] }];
      }
      case 'signature': {
        const label = (what: string): Piece[] => this.textLines(`${b.role}: ${what}`, 'regular', s.small);
        const line: Piece = { height: 9, keepWithNext: false, ops: [{ op: 'line', x1: this.left, y1: 7.5, x2: this.left + Math.min(this.width, 100), y2: 7.5, width: 0.3 }] };
        // a signature's lines belong together
        const pieces = [...label('printed name'), line, ...label('signature'), line, { height: 2, keepWithNext: false, ops: [] }];
        return pieces.map((p, i) => ({ ...p, keepWithNext: i < pieces.length - 1 }));
      }
      case 'group':
        return b.blocks.flatMap((x) => this.block(x));
      default:
        return assertNever(b, 'block');
    }
  }

  /** Label left (wrapped before the number column), number right-aligned on the label's first line. */
  private row(b: Extract<Block, { kind: 'row' }>): Piece[] {
    const s = this.spec.size;
    const face: Face = b.bold ? 'bold' : 'regular';
    const right = this.left + Math.min(this.width, this.spec.rowWidth);
    const indent = b.indent ? 3 : 0;
    const valueWidth = measure(b.value, face, s.body);
    const column = Math.max(valueWidth, measure('0000000', face, s.body)) + 2;
    const labelWidth = right - this.left - indent - column;
    const lines = wrap(b.label, face, s.body, labelWidth);
    const lh = this.line(s.body);
    const base = ascentOf(face, s.body) + (lh - s.body) / 2;
    const ops: DrawOp[] = lines.map((t, i) => ({ op: 'text', x: this.left + indent, baseline: base + i * lh, text: t, face, size: s.body, color: 'black' }));
    ops.push({ op: 'text', x: right - valueWidth, baseline: base, text: b.value, face, size: s.body, color: 'black' });
    let height = lines.length * lh;
    if (b.note !== undefined) {
      for (const t of wrap(b.note, 'regular', s.small, labelWidth - 3)) {
        const nh = this.line(s.small);
        ops.push({ op: 'text', x: this.left + indent + 3, baseline: height + ascentOf('regular', s.small) + (nh - s.small) / 2, text: t, face: 'regular', size: s.small, color: 'gray' });
        height += nh;
      }
    }
    return [{ height, ops, keepWithNext: false }];
  }
}

/** Stacks pieces into one (lines that must not be split). */
function stack(pieces: readonly Piece[]): DrawOp[] {
  let y = 0;
  const ops: DrawOp[] = [];
  for (const p of pieces) {
    ops.push(...shift(p.ops, y));
    y += p.height;
  }
  return ops;
}

function unitHeight(u: Unit): number {
  return u.reduce((a, p) => a + p.height, 0);
}

/**
 * Places blocks on paper. A roll is one page whose height is the content's, measured here, plus its
 * margins; letter paper breaks between pieces, keeps a group on one page when it fits on one and a
 * heading with what follows it, and prints "page i of n" once n is known.
 */
export function layoutPages(blocks: readonly Block[], spec: PaperSpec, furniture: PageFurniture): LaidOutPage[] {
  const m = new Measurer(spec);
  // outside a group, each piece stands alone
  const flat: Unit[] = [];
  for (const b of blocks) {
    const u = m.block(b);
    if (b.kind === 'group') flat.push(u);
    else for (const p of u) flat.push([p]);
  }

  if (spec.height === undefined) return rollPages(flat, spec);

  const top = spec.marginTop + spec.headerBand;
  const bottom = spec.height - spec.marginBottom - spec.footerBand;
  const pages: DrawOp[][] = [[]];
  let y = top;
  let column = 0;
  // the next column, or the first column of a new page
  const newPage = (): void => {
    if (column < spec.columns - 1) column++;
    else {
      pages.push([]);
      column = 0;
    }
    y = top;
  };
  const place = (p: Piece): void => {
    (pages[pages.length - 1] as DrawOp[]).push(...shift(p.ops, y, column * (columnWidth(spec) + spec.columnGap)));
    y += p.height;
  };
  const body = bottom - top;
  // which unit each piece is in, and where that unit starts
  const all: { piece: Piece; unit: number; first: boolean }[] = flat.flatMap((u, ui) => u.map((piece, k) => ({ piece, unit: ui, first: k === 0 })));
  let index = 0;
  for (const u of flat) {
    const h = unitHeight(u);
    if (y + h > bottom && h <= body && y > top) newPage();
    for (const p of u) {
      // a heading goes to the next page with what it heads: the next line, or the whole group that follows
      let need = p.height;
      for (let k = index; k < all.length - 1 && (all[k] as (typeof all)[number]).piece.keepWithNext; k++) {
        const next = all[k + 1] as (typeof all)[number];
        const nextUnit = flat[next.unit] as Unit;
        if (next.first && nextUnit.length > 1 && unitHeight(nextUnit) <= body) {
          need += unitHeight(nextUnit);
          break;
        }
        need += next.piece.height;
      }
      if (y + need > bottom && y > top && need <= body) newPage();
      else if (y + p.height > bottom && y > top) newPage();
      place(p);
      index++;
    }
  }
  const n = pages.length;
  return pages.map((ops, i) => ({ width: spec.width, height: spec.height as number, ops: [...furnitureOps(spec, furniture, i + 1, n), ...ops] }));
}

/**
 * PDF readers refuse pages longer than 200 inches (14,400 units, 5,080 mm): a tape longer than this
 * continues on a second cut, each cut as long as its own content and numbered "page i of n".
 */
export const ROLL_MAX_MM = 5000;

function rollPages(flat: readonly Unit[], spec: PaperSpec): LaidOutPage[] {
  const limit = ROLL_MAX_MM - spec.marginTop - spec.marginBottom;
  const cuts: { ops: DrawOp[]; height: number }[] = [{ ops: [], height: 0 }];
  const cut = (): { ops: DrawOp[]; height: number } => cuts[cuts.length - 1] as { ops: DrawOp[]; height: number };
  for (const u of flat) {
    const h = unitHeight(u);
    if (cut().height + h > limit && cut().height > 0 && h <= limit) cuts.push({ ops: [], height: 0 });
    for (const p of u) {
      if (cut().height + p.height > limit && cut().height > 0) cuts.push({ ops: [], height: 0 });
      cut().ops.push(...shift(p.ops, spec.marginTop + cut().height));
      cut().height += p.height;
    }
  }
  return cuts.map((c, i) => {
    const height = spec.marginTop + c.height + spec.marginBottom;
    if (cuts.length === 1) return { width: spec.width, height, ops: c.ops };
    const size = spec.size.small;
    const label = `page ${i + 1} of ${cuts.length}`;
    const footer: DrawOp = { op: 'text', x: spec.width - spec.marginX - measure(label, 'regular', size), baseline: spec.marginTop + c.height + 1 + ascentOf('regular', size), text: label, face: 'regular', size, color: 'black' };
    return { width: spec.width, height, ops: [...c.ops, footer] };
  });
}

function furnitureOps(spec: PaperSpec, f: PageFurniture, page: number, pages: number): DrawOp[] {
  const size = spec.size.small;
  const left = spec.marginX;
  const right = spec.width - spec.marginX;
  const headBase = spec.marginTop + ascentOf('regular', size);
  const footer = `page ${page} of ${pages}`;
  const footBase = (spec.height as number) - spec.marginBottom - spec.footerBand + 4 + ascentOf('regular', size);
  const header = wrap(f.header, 'regular', size, right - left)[0] ?? '';
  return [
    { op: 'text', x: left, baseline: headBase, text: header, face: 'regular', size, color: 'black' },
    { op: 'line', x1: left, y1: spec.marginTop + spec.headerBand - 3, x2: right, y2: spec.marginTop + spec.headerBand - 3, width: 0.25 },
    { op: 'line', x1: left, y1: footBase - 5, x2: right, y2: footBase - 5, width: 0.25 },
    { op: 'text', x: right - measure(footer, 'regular', size), baseline: footBase, text: footer, face: 'regular', size, color: 'black' },
  ];
}
