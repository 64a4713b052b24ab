import fs from 'node:fs';
import * as fontkit from 'fontkit';
import type { FontFace } from './geometry';

/**
 * DejaVu Sans, shipped as an npm package so layout, printing and test decks measure and draw the same
 * glyphs on every machine (Latin with accents, Greek and Cyrillic), independent of system fonts.
 */
export const FONT_FILES: Record<FontFace, string> = {
  regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
};

export interface LoadedFont {
  readonly font: fontkit.Font;
  readonly bytes: Buffer;
}

const cache = new Map<string, LoadedFont>();

/** A font file read and parsed once per process (the ballots' faces, and the tapes' mono face). */
export function loadFontFile(file: string): LoadedFont {
  let f = cache.get(file);
  if (!f) {
    const bytes = fs.readFileSync(file);
    const font = fontkit.create(bytes) as fontkit.Font;
    f = { font, bytes };
    cache.set(file, f);
  }
  return f;
}

export function loadFont(face: FontFace): LoadedFont {
  return loadFontFile(FONT_FILES[face]);
}

/** Width in mm of a single line of text at `size` mm (em size). */
export function textWidth(text: string, face: FontFace, size: number): number {
  const { font } = loadFont(face);
  return (font.layout(text).advanceWidth / font.unitsPerEm) * size;
}

/** Greedy word wrap to `width` mm; a word longer than the line is broken by characters. */
export function wrapText(text: string, face: FontFace, size: number, width: number): string[] {
  return wrapToWidth(text, width, (s) => textWidth(s, face, size));
}

/** The same greedy wrap for any way of measuring a line (the tapes measure with their own faces). */
export function wrapToWidth(text: string, width: number, measure: (line: string) => number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      const candidate = line ? `${line} ${word}` : word;
      if (measure(candidate) <= width) {
        line = candidate;
        continue;
      }
      if (line) lines.push(line);
      line = word;
      while (measure(line) > width && line.length > 1) {
        let cut = line.length - 1;
        while (cut > 1 && measure(line.slice(0, cut)) > width) cut--;
        lines.push(line.slice(0, cut));
        line = line.slice(cut);
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Ascent of the font in mm at `size`: where a line's baseline sits below its top. */
export function ascent(face: FontFace, size: number): number {
  const { font } = loadFont(face);
  return (font.ascent / font.unitsPerEm) * size;
}

/** SVG path data for a line of text with its baseline at (x, baseline), in mm. */
export function textPathData(text: string, face: FontFace, size: number, x: number, baseline: number): string {
  const { font } = loadFont(face);
  const scale = size / font.unitsPerEm;
  const run = font.layout(text);
  let pen = x;
  const parts: string[] = [];
  run.glyphs.forEach((glyph, i) => {
    const pos = run.positions[i];
    const gx = pen + (pos ? pos.xOffset : 0) * scale;
    const gy = baseline - (pos ? pos.yOffset : 0) * scale;
    const path = glyph.path.scale(scale, -scale).translate(gx, gy);
    parts.push(path.toSVG());
    pen += (pos ? pos.xAdvance : glyph.advanceWidth) * scale;
  });
  return parts.join('');
}
