import type { PlacedSymbol } from '../print/qr';
import type { GrayImage } from '../gray-image';
import { mmToPx } from '../gray-image';

/** Paints a placed QR symbol: a pixel is dark when its centre falls inside a dark module. */
export function drawQr(img: GrayImage, placed: PlacedSymbol, dpi: number): void {
  const { symbol, module } = placed;
  const x0 = mmToPx(placed.x, dpi);
  const y0 = mmToPx(placed.y, dpi);
  const m = mmToPx(module, dpi);
  const size = m * symbol.modules;
  const px0 = Math.max(0, Math.floor(x0));
  const py0 = Math.max(0, Math.floor(y0));
  const px1 = Math.min(img.width - 1, Math.ceil(x0 + size));
  const py1 = Math.min(img.height - 1, Math.ceil(y0 + size));
  for (let y = py0; y <= py1; y++) {
    const row = Math.floor((y + 0.5 - y0) / m);
    if (row < 0 || row >= symbol.modules) continue;
    for (let x = px0; x <= px1; x++) {
      const col = Math.floor((x + 0.5 - x0) / m);
      if (col < 0 || col >= symbol.modules) continue;
      if (symbol.data[row * symbol.modules + col]) img.data[y * img.width + x] = 0;
    }
  }
}
