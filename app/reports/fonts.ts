import type { LoadedFont } from '../../ballots/layout/fonts';
import { FONT_FILES, loadFontFile, wrapToWidth } from '../../ballots/layout/fonts';

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

export function loadFace(face: Face): LoadedFont {
  return loadFontFile(FILES[face]);
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

/** Greedy word wrap to `width` mm, as the ballots wrap; a word longer than a line is cut by characters. */
export function wrap(text: string, face: Face, size: number, width: number): string[] {
  return wrapToWidth(text, width, (line) => measure(line, face, size));
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
