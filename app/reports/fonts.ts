import fs from 'node:fs';
import * as fontkit from 'fontkit';
import { FONT_FILES } from '../../ballots/layout/fonts';

/**
 * The tape faces: the ballots' DejaVu Sans (so names print exactly as on the ballot, accents, Greek and
 * Cyrillic included) plus DejaVu Sans Mono for hashes, where equal-width digits let a person compare two
 * printed hashes column by column.
 */
export type Face = 'regular' | 'bold' | 'mono';

const FILES: Record<Face, string> = {
  regular: FONT_FILES.regular,
  bold: FONT_FILES.bold,
  mono: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf'),
};

interface Loaded {
  readonly font: fontkit.Font;
  readonly bytes: Buffer;
}

const cache = new Map<Face, Loaded>();

export function loadFace(face: Face): Loaded {
  let f = cache.get(face);
  if (f === undefined) {
    const bytes = fs.readFileSync(FILES[face]);
    f = { font: fontkit.create(bytes) as fontkit.Font, bytes };
    cache.set(face, f);
  }
  return f;
}

/** Width in mm of one line at `size` mm (em size). */
export function measure(text: string, face: Face, size: number): number {
  const { font } = loadFace(face);
  return (font.layout(text).advanceWidth / font.unitsPerEm) * size;
}

/** Ascent below a line's top to its baseline, in mm. */
export function ascentOf(face: Face, size: number): number {
  const { font } = loadFace(face);
  return (font.ascent / font.unitsPerEm) * size;
}

/** Greedy word wrap to `width` mm; a word longer than a line is cut by characters. */
export function wrap(text: string, face: Face, size: number, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (measure(candidate, face, size) <= width) {
        line = candidate;
        continue;
      }
      if (line !== '') lines.push(line);
      line = word;
      while (line.length > 1 && measure(line, face, size) > width) {
        let cut = line.length - 1;
        while (cut > 1 && measure(line.slice(0, cut), face, size) > width) cut--;
        lines.push(line.slice(0, cut));
        line = line.slice(cut);
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Characters no face can print: a tape must not silently drop a letter of a name. */
export function missingGlyphs(text: string, face: Face): string[] {
  const { font } = loadFace(face);
  const missing = new Set<string>();
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp > 0x20 && !font.hasGlyphForCodePoint(cp)) missing.add(ch);
  }
  return [...missing];
}
