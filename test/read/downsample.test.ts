import fc from 'fast-check';
import { downsample } from '../../ballots/read/components';
import type { GrayImage } from '../../ballots/gray-image';

/** The definition: each output pixel is the floor of its f×f block's mean. */
function reference(img: GrayImage, f: number): number[] {
  const w = Math.floor(img.width / f);
  const h = Math.floor(img.height / f);
  const out: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += img.data[(y * f + dy) * img.width + x * f + dx]!;
      out.push(Math.floor(s / (f * f)));
    }
  }
  return out;
}

describe('block-mean downsampling', () => {
  it('equals the block mean for every factor, width and buffer offset (the 4× word path included)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (f, wordsWide, high, offset, seed) => {
        const width = wordsWide * 4 + (seed % 2 === 0 ? 0 : seed % 4); // widths on and off a word
        const backing = new Uint8Array(offset + width * high + 4);
        let state = seed;
        for (let i = 0; i < backing.length; i++) {
          state = (state * 1103515245 + 12345) >>> 0;
          backing[i] = i % 7 === 0 ? 255 : state >>> 24; // extremes too: the 16-bit lanes must not carry
        }
        const img: GrayImage = { width, height: high, data: backing.subarray(offset, offset + width * high) };
        const got = downsample(img, f);
        expect(got.width).toBe(Math.floor(width / f));
        expect(got.height).toBe(Math.floor(high / f));
        expect(Array.from(got.data)).toEqual(reference(img, f));
      }),
      { numRuns: 400 },
    );
  });

  it('all-black and all-white blocks stay exact at the lane limits', () => {
    for (const v of [0, 255]) {
      const img: GrayImage = { width: 16, height: 8, data: new Uint8Array(128).fill(v) };
      expect(Array.from(downsample(img, 4).data)).toEqual(new Array(8).fill(v));
    }
  });
});
