import sharp from 'sharp';
import type { DrawOp, SideLayout } from '../layout';
import { textPathData } from '../layout';
import { assertNever } from '../../lib/result';
import type { GrayImage } from '../gray-image';
import { mmToPx } from '../gray-image';

/**
 * The printed drawing of one side, without its QR codes (they differ per sheet), rasterised at `dpi` from
 * the same draw operations the PDF printer uses; text is drawn from the same font outlines.
 */
export async function renderSideTemplate(side: SideLayout, page: { width: number; height: number }, dpi: number): Promise<GrayImage> {
  const widthPx = Math.round(mmToPx(page.width, dpi));
  const heightPx = Math.round(mmToPx(page.height, dpi));
  const svg = sideSvg(side.drawing, widthPx, heightPx, dpi);
  const { data, info } = await sharp(Buffer.from(svg), { limitInputPixels: false })
    .flatten({ background: '#ffffff' })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected a 1-channel raster, got ${info.channels}`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

export function sideSvg(drawing: readonly DrawOp[], widthPx: number, heightPx: number, dpi: number): string {
  const vbW = (widthPx * 25.4) / dpi;
  const vbH = (heightPx * 25.4) / dpi;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${heightPx}" viewBox="0 0 ${vbW.toFixed(4)} ${vbH.toFixed(4)}" shape-rendering="geometricPrecision">`,
    `<rect x="0" y="0" width="${vbW}" height="${vbH}" fill="#ffffff"/>`,
  ];
  for (const op of drawing) parts.push(svgOp(op));
  parts.push('</svg>');
  return parts.join('');
}

function svgOp(op: DrawOp): string {
  switch (op.op) {
    case 'text':
      return `<path fill="#000" d="${textPathData(op.text, op.font, op.size, op.x, op.baseline)}"/>`;
    case 'fill-rect': {
      const v = Math.round(op.gray * 255);
      return `<rect x="${op.rect.x}" y="${op.rect.y}" width="${op.rect.width}" height="${op.rect.height}" fill="rgb(${v},${v},${v})"/>`;
    }
    case 'stroke-rect':
      return `<rect x="${op.rect.x}" y="${op.rect.y}" width="${op.rect.width}" height="${op.rect.height}" fill="none" stroke="#000" stroke-width="${op.lineWidth}"/>`;
    case 'line':
      return `<line x1="${op.x1}" y1="${op.y1}" x2="${op.x2}" y2="${op.y2}" stroke="#000" stroke-width="${op.lineWidth}"/>`;
    case 'ellipse':
      return `<ellipse cx="${op.cx}" cy="${op.cy}" rx="${op.rx}" ry="${op.ry}" fill="none" stroke="#000" stroke-width="${op.lineWidth}"/>`;
    case 'qr':
      return ''; // per-sheet: drawn by drawQr
    default:
      return assertNever(op, 'draw op');
  }
}
