/** The paper the simulated voter feeds: images from a folder (a test deck), one sheet per front image. */
import { readdirSync } from 'node:fs';
import { readScanFile } from '../../ballots/read/scan-file';
import { join } from 'node:path';
import type { ImageFormatCode } from '../protocol/messages';

export interface DeckImage {
  readonly format: ImageFormatCode;
  readonly bytes: Uint8Array;
}

export interface DeckSheet {
  readonly name: string;
  readonly front: DeckImage;
  readonly back?: DeckImage;
}

export interface SheetSource {
  /** The next sheet the voter puts in the feeder, or undefined when the pile is empty. */
  next(): DeckSheet | undefined;
  readonly remaining: number;
}

export class DeckError extends Error {}

function formatOf(file: string): ImageFormatCode | undefined {
  const f = file.toLowerCase();
  if (f.endsWith('.png')) return 'png';
  if (f.endsWith('.tif') || f.endsWith('.tiff')) return 'tiff';
  return undefined;
}

/** Reads every PNG/TIFF in dir (sorted by name); `x.back.png` is the back of `x.png`. */
export function readDeck(dir: string): DeckSheet[] {
  let files: string[];
  try {
    files = readdirSync(dir).sort();
  } catch (e) {
    throw new DeckError(`cannot read the deck folder ${dir}: ${(e as Error).message}`);
  }
  const images = files.filter((f) => formatOf(f) !== undefined);
  const backs = new Map<string, string>();
  for (const f of images) {
    const m = /^(.*)\.back\.(png|tiff?)$/i.exec(f);
    if (m && m[1] !== undefined) backs.set(m[1], f);
  }
  const sheets: DeckSheet[] = [];
  for (const f of images) {
    if (/\.back\.(png|tiff?)$/i.test(f)) continue;
    const base = f.replace(/\.(png|tiff?)$/i, '');
    const load = (file: string): DeckImage => {
      const r = readScanFile(join(dir, file));
      if (!r.ok) throw new DeckError(`${join(dir, file)}: ${r.error.message}`);
      return { format: formatOf(file) as ImageFormatCode, bytes: r.value };
    };
    const backFile = backs.get(base);
    sheets.push(backFile ? { name: f, front: load(f), back: load(backFile) } : { name: f, front: load(f) });
  }
  if (sheets.length === 0) throw new DeckError(`no PNG or TIFF ballot images in ${dir}`);
  return sheets;
}

/** Feeds the given sheets, cycling through them until `count` sheets have been fed. */
export function deckSource(sheets: readonly DeckSheet[], count = sheets.length): SheetSource {
  let i = 0;
  return {
    next() {
      if (i >= count || sheets.length === 0) return undefined;
      const s = sheets[i % sheets.length] as DeckSheet;
      i += 1;
      return { ...s, name: count > sheets.length ? `${s.name}#${i}` : s.name };
    },
    get remaining() {
      return Math.max(0, count - i);
    },
  };
}
