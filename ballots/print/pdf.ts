import PDFDocument from 'pdfkit';
import type { BallotLayout, CodeKind, DrawOp, SideLayout } from '../layout';
import { loadFont } from '../layout';
import type { Result } from '../../lib/result';
import { assertNever, ok } from '../../lib/result';
import type { QrPlacementError } from './qr';
import { drawQrModules, placeSymbol } from './qr';

const MM = 72 / 25.4;

/** The three code strings of one side of one sheet. */
export type SideCodes = Readonly<Record<CodeKind, string>>;

export interface PrintedSheet {
  readonly layout: BallotLayout;
  /** One entry per side of the layout, in the same order. */
  readonly codes: readonly SideCodes[];
}

export interface PdfOptions {
  readonly title: string;
  /** Fixed so the same print run gives the same bytes. */
  readonly creationDate?: Date;
}

/** Writes sheets to one PDF, one page per side (front then back, for duplex printing). */
export function renderBallotsPdf(sheets: readonly PrintedSheet[], options: PdfOptions): Promise<Result<Buffer, QrPlacementError>> {
  const first = sheets[0];
  if (!first) return Promise.reject(new Error('nothing to print'));
  const doc = new PDFDocument({
    size: [first.layout.page.width * MM, first.layout.page.height * MM],
    margin: 0,
    autoFirstPage: false,
    compress: true,
    info: { Title: options.title, Creator: 'Tallyproof', Producer: 'Tallyproof', CreationDate: options.creationDate ?? new Date(0) },
  });
  doc.registerFont('regular', loadFont('regular').bytes);
  doc.registerFont('bold', loadFont('bold').bytes);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  for (const sheet of sheets) {
    for (const [i, side] of sheet.layout.sides.entries()) {
      const codes = sheet.codes[i];
      if (!codes) return Promise.reject(new Error(`sheet has no codes for its ${side.side} side`));
      doc.addPage({ size: [sheet.layout.page.width * MM, sheet.layout.page.height * MM], margin: 0 });
      const drawn = drawSide(doc, side, codes);
      if (!drawn.ok) {
        doc.end();
        return done.then(() => drawn);
      }
    }
  }
  doc.end();
  return done.then((b) => ok(b));
}

function drawSide(doc: PDFKit.PDFDocument, side: SideLayout, codes: SideCodes): Result<true, QrPlacementError> {
  doc.save();
  doc.scale(MM);
  for (const op of side.drawing) {
    const r = drawOp(doc, op, codes);
    if (!r.ok) {
      doc.restore();
      return r;
    }
  }
  doc.restore();
  return ok(true);
}

function drawOp(doc: PDFKit.PDFDocument, op: DrawOp, codes: SideCodes): Result<true, QrPlacementError> {
  switch (op.op) {
    case 'text':
      doc.font(op.font).fontSize(op.size).fillColor('black').text(op.text, op.x, op.baseline, { lineBreak: false, baseline: 'alphabetic' });
      break;
    case 'fill-rect':
      doc.rect(op.rect.x, op.rect.y, op.rect.width, op.rect.height).fill(grayHex(op.gray));
      break;
    case 'stroke-rect':
      doc.rect(op.rect.x, op.rect.y, op.rect.width, op.rect.height).lineWidth(op.lineWidth).stroke('black');
      break;
    case 'line':
      doc.moveTo(op.x1, op.y1).lineTo(op.x2, op.y2).lineWidth(op.lineWidth).stroke('black');
      break;
    case 'ellipse':
      doc.ellipse(op.cx, op.cy, op.rx, op.ry).lineWidth(op.lineWidth).stroke('black');
      break;
    case 'qr': {
      const placed = placeSymbol(codes[op.code], op.rect);
      if (!placed.ok) return placed;
      const { symbol, module, x, y } = placed.value;
      drawQrModules(doc, symbol, x, y, module);
      doc.fill('black');
      break;
    }
    default:
      assertNever(op, 'draw op');
  }
  return ok(true);
}

function grayHex(gray: number): string {
  const v = Math.round(Math.max(0, Math.min(1, gray)) * 255)
    .toString(16)
    .padStart(2, '0');
  return `#${v}${v}${v}`;
}
