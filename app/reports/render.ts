import path from 'node:path';
import { replaceFileAtomically } from '../../lib/durable-fs';
import PDFDocument from 'pdfkit';
import { drawQrModules, qrSymbol } from '../../ballots/print/qr';
import { assertNever } from '../../lib/result';
import { ReportError } from './errors';
import type { Face } from './fonts';
import { loadFace } from './fonts';
import type { DrawOp, Ink, LaidOutPage } from './layout';

const MM = 72 / 25.4;

export interface PdfMeta {
  readonly title: string;
  readonly subject: string;
  /** fixed from the input (printedAt), so the same input gives the same bytes */
  readonly date: Date;
}

const INK: Record<Ink, string> = { black: '#000000', white: '#ffffff', gray: '#444444' };

/** Draws laid-out pages into one PDF with DejaVu embedded (subset). */
export function renderPdf(pages: readonly LaidOutPage[], meta: PdfMeta): Promise<Buffer> {
  const doc = new PDFDocument({
    autoFirstPage: false,
    margin: 0,
    compress: true,
    info: { Title: meta.title, Subject: meta.subject, Creator: 'Tallyproof', Producer: 'Tallyproof', CreationDate: meta.date, ModDate: meta.date },
  });
  const faces: Face[] = ['regular', 'bold', 'mono'];
  for (const f of faces) doc.registerFont(f, loadFace(f).bytes);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  for (const page of pages) {
    doc.addPage({ size: [page.width * MM, page.height * MM], margin: 0 });
    doc.save();
    doc.scale(MM);
    for (const op of page.ops) draw(doc, op);
    doc.restore();
  }
  doc.end();
  return done;
}

function draw(doc: PDFKit.PDFDocument, op: DrawOp): void {
  switch (op.op) {
    case 'text':
      doc.font(op.face).fontSize(op.size).fillColor(INK[op.color]).text(op.text, op.x, op.baseline, { lineBreak: false, baseline: 'alphabetic' });
      break;
    case 'rect':
      doc.rect(op.x, op.y, op.width, op.height).fill(INK[op.color]);
      break;
    case 'line':
      doc.moveTo(op.x1, op.y1).lineTo(op.x2, op.y2).lineWidth(op.width).stroke('#000000');
      break;
    case 'qr': {
      const symbol = qrSymbol(op.text);
      // the quiet zone (4 modules each side) is inside op.size: a scanner needs it to find the symbol
      const module = op.size / (symbol.modules + 8);
      const x0 = op.x + 4 * module;
      const y0 = op.y + 4 * module;
      drawQrModules(doc, symbol, x0, y0, module);
      doc.fill('#000000');
      break;
    }
    default:
      assertNever(op, 'draw op');
  }
}

/** Writes via a temporary sibling and a rename: a failed print leaves no half-written tape. */
export function writePdfFile(file: string, bytes: Uint8Array): void {
  const dir = path.dirname(file);
  try {
    replaceFileAtomically(file, bytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? `the directory ${dir} does not exist` : code === 'EACCES' || code === 'EPERM' ? `permission denied in ${dir}` : code === 'EISDIR' ? 'it is a directory' : code === 'EROFS' ? 'read-only file system' : (e as Error).message;
    throw new ReportError('unwritable', `cannot write ${file}: ${why}`);
  }
}
