import type { GrayImage } from '../gray-image';
import { Rng } from './rng';

/**
 * What a duplex scanner sends for the unprinted back of a one-sided ballot: the paper's tint with sensor noise,
 * specks of dust, and the front's printing faintly showing through. The reader must call it blank (and set it
 * aside), not "another document", or every one-sided ballot on a duplex scanner would be refused.
 */
export function blankScan(width: number, height: number, seed: number | string = 'blank'): GrayImage {
  const rng = new Rng(seed);
  const paper = 234 + Math.floor(rng.next() * 10);
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, paper - 6 + Math.floor(rng.next() * 13));
  // show-through: text lines of the front, mirrored and faint (a fifth of the ink's contrast)
  const faint = paper - 22;
  for (let line = 0; line < 30; line++) {
    const y0 = Math.floor(height * (0.1 + 0.025 * line));
    for (let y = y0; y < y0 + 3 && y < height; y++) {
      for (let x = Math.floor(width * 0.15); x < width * (0.5 + 0.3 * rng.next()); x++) if (rng.next() < 0.5) data[y * width + x] = faint;
    }
  }
  // dust: a few dark specks, far fewer pixels than any printing
  for (let k = 0; k < 40; k++) {
    const x = Math.floor(rng.next() * (width - 3));
    const y = Math.floor(rng.next() * (height - 3));
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) data[(y + dy) * width + x + dx] = 50;
  }
  return { width, height, data };
}
