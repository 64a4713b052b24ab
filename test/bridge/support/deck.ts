/** Test ballots for the bridge: gray letter pages at 200 dpi with a few shapes, made with sharp. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeck, type DeckSheet } from '../../../firmware-bridge/simulator/deck';
import { samplePage, writeSampleDeck } from '../../../firmware-bridge/simulator/sample-deck';

export const pageImage = samplePage;

/** Writes n front images (and, with backs, n back images) to a new folder and reads it as a deck. */
export async function makeDeck(n: number, opts: { backs?: boolean; dir?: string; small?: boolean } = {}): Promise<{ dir: string; deck: DeckSheet[] }> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tp-deck-'));
  await writeSampleDeck(dir, n, opts.small ? { backs: opts.backs, width: 340, height: 440 } : { backs: opts.backs });
  return { dir, deck: readDeck(dir) };
}
