/** An 8-bit grayscale raster, row-major, 0 = black ink, 255 = white paper. */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export function grayImage(width: number, height: number, fill = 255): GrayImage {
  return { width, height, data: new Uint8Array(width * height).fill(fill) };
}

export function cloneImage(img: GrayImage): GrayImage {
  return { width: img.width, height: img.height, data: img.data.slice() };
}

/** Millimetres to pixels at `dpi`. */
export function mmToPx(mm: number, dpi: number): number {
  return (mm * dpi) / 25.4;
}
