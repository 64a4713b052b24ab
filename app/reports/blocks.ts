import { ReportError } from './errors';
import { missingGlyphs } from './fonts';

/**
 * What a tape or report says, before it is placed on paper: the same blocks are laid out on an 80 mm roll
 * and on letter pages, so both papers always carry the same facts.
 */
export type Block =
  /** a full-width bar: inverse is white on black (TEST, ZERO TAPE) so nobody mistakes the tape */
  | { readonly kind: 'banner'; readonly text: string; readonly inverse: boolean }
  | { readonly kind: 'heading'; readonly text: string }
  | { readonly kind: 'text'; readonly text: string; readonly small?: boolean; readonly bold?: boolean; readonly center?: boolean }
  /** a label on the left and its number on the right; `note` is a smaller line under the label (a party) */
  | { readonly kind: 'row'; readonly label: string; readonly value: string; readonly note?: string; readonly bold?: boolean; readonly indent?: boolean }
  /** a hash in a monospaced face, in groups of eight hex digits */
  | { readonly kind: 'hash'; readonly label: string; readonly hex: string }
  | { readonly kind: 'rule'; readonly heavy?: boolean }
  | { readonly kind: 'space'; readonly mm: number }
  /** `mm`: the symbol's side with its quiet zone (default: the paper's qrSize), a dense code needs a larger one */
  | { readonly kind: 'qr'; readonly text: string; readonly mm?: number }
  /** a printed-name line and a signature line for one person */
  | { readonly kind: 'signature'; readonly role: string }
  /** blocks kept on one page when they fit on one (a contest with its totals) */
  | { readonly kind: 'group'; readonly blocks: readonly Block[] };

/** Refuses blocks with a character the tape font cannot print (it would come out as a blank box). */
export function assertPrintable(blocks: readonly Block[]): void {
  const unprintable = [...new Set(blocks.flatMap(blockText).flatMap((t) => missingGlyphs(t, 'regular')))];
  if (unprintable.length > 0) {
    throw new ReportError('unprintable', `the tape font has no glyph for ${unprintable.map((c) => `"${c}" (U+${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')})`).join(', ')}`);
  }
}

function blockText(b: Block): string[] {
  switch (b.kind) {
    case 'banner':
    case 'heading':
    case 'text':
      return [b.text];
    case 'row':
      return [b.label, b.value, b.note ?? ''];
    case 'hash':
      return [b.label];
    case 'signature':
      return [b.role];
    case 'group':
      return b.blocks.flatMap(blockText);
    case 'rule':
    case 'space':
    case 'qr':
      return [];
  }
}

/** `0123abcd...` → `0123abcd 4567ef01 ...`: eight digits at a time are what a person compares. */
export function groupHex(hex: string): string {
  return (hex.match(/.{1,8}/g) ?? []).join(' ');
}
