import QRCode from 'qrcode';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import type { Rect } from '../layout';
import { BALLOT } from '../layout';

export interface QrSymbol {
  readonly modules: number;
  readonly version: number;
  /** Row-major, 1 = dark. */
  readonly data: Uint8Array;
}

/** ECC level M: survives 15% damage (a fold, a smudge) while keeping modules large. */
export function qrSymbol(text: string): QrSymbol {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  return { modules: qr.modules.size, version: qr.version, data: Uint8Array.from(qr.modules.data) };
}

export interface PlacedSymbol {
  readonly symbol: QrSymbol;
  /** Top-left of the symbol (without quiet zone) and module size, in mm. */
  readonly x: number;
  readonly y: number;
  readonly module: number;
}

export type QrPlacementError = { code: 'qr-too-dense'; message: string };

/** Centres a symbol in its reserved box with the largest module the ballot allows. */
export function placeSymbol(text: string, box: Rect): Result<PlacedSymbol, QrPlacementError> {
  const symbol = qrSymbol(text);
  const module = Math.min(BALLOT.qr.maxModule, box.width / symbol.modules, box.height / symbol.modules);
  if (module < BALLOT.qr.minModule) {
    return err({
      code: 'qr-too-dense',
      message: `a ${text.length}-character code needs QR version ${symbol.version} (${symbol.modules} modules), which would print modules of ${module.toFixed(2)} mm, below the ${BALLOT.qr.minModule} mm minimum`,
    });
  }
  const size = module * symbol.modules;
  return ok({ symbol, module, x: box.x + (box.width - size) / 2, y: box.y + (box.height - size) / 2 });
}

/** What drawQrModules needs of a PDF document (pdfkit's PDFDocument). */
export interface RectSink {
  rect(x: number, y: number, w: number, h: number): unknown;
}

/**
 * Adds the symbol's dark modules to the current path, one rectangle per run of dark modules in a row:
 * adjacent squares leave hairline seams in some rasterisers. The caller fills.
 */
export function drawQrModules(doc: RectSink, symbol: QrSymbol, x: number, y: number, module: number): void {
  for (let row = 0; row < symbol.modules; row++) {
    for (let col = 0; col < symbol.modules; ) {
      if (!symbol.data[row * symbol.modules + col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < symbol.modules && symbol.data[row * symbol.modules + col]) col++;
      doc.rect(x + start * module, y + row * module, (col - start) * module, module);
    }
  }
}
