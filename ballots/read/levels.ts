import type { GrayImage } from '../gray-image';

/** The gray of blank paper and of solid ink on this scan: every threshold is placed between them. */
export interface Levels {
  readonly paper: number;
  readonly ink: number;
}

/**
 * Paper is the median (a ballot page is mostly paper, whatever its tint, the scanner's brightness or the
 * backing around it); ink is the 0.5th percentile (registration marks, QR modules and text are solid).
 */
export function measureLevels(img: GrayImage): Levels {
  const hist = new Uint32Array(256);
  const step = img.data.length > 4_000_000 ? 7 : 3;
  let n = 0;
  for (let i = 0; i < img.data.length; i += step) {
    hist[img.data[i] as number]!++;
    n++;
  }
  return { paper: quantile(hist, n, 0.5), ink: quantile(hist, n, 0.005) };
}

function quantile(hist: Uint32Array, n: number, q: number): number {
  let acc = 0;
  for (let v = 0; v < 256; v++) {
    acc += hist[v] as number;
    if (acc >= n * q) return v;
  }
  return 255;
}

/** Threshold a fraction `f` of the way from paper down to ink. */
export function between(levels: Levels, f: number): number {
  return levels.paper - f * (levels.paper - levels.ink);
}
