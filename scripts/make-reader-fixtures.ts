/*
 * Writes the small committed fixture set of the reader (test/fixtures/reader/): a few scans chosen to cover
 * the outcomes, as 150 dpi JPEG so they stay small. Run once; the test reads the files, not the generator,
 * so a later change to the generator cannot silently change what the reader is held to.
 * Usage: node scripts/run-ts.js scripts/make-reader-fixtures.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { loadElection } from '../ballots/election';
import { deterministicRng, generateElectionKeys } from '../ballots/identity';
import type { SheetKind, TruthSheet } from '../ballots/testdeck';
import { MARK_KINDS, TestDeck } from '../ballots/testdeck';

const out = path.join(__dirname, '..', 'test', 'fixtures', 'reader');
const wanted: { kind: SheetKind; distortion: 'mild' | 'full'; streaks?: boolean }[] = [
  { kind: 'normal', distortion: 'mild' },
  { kind: 'normal', distortion: 'full' },
  { kind: 'overvote', distortion: 'mild' },
  { kind: 'blank', distortion: 'mild' },
  { kind: 'counterfeit', distortion: 'mild' },
  { kind: 'wrong-election', distortion: 'mild' },
  { kind: 'mis-scaled', distortion: 'mild' },
  { kind: 'normal', distortion: 'mild', streaks: true },
];

(async () => {
  const loaded = loadElection(path.join(__dirname, '..', 'ballots', 'examples', 'municipal.json'));
  if (!loaded.ok) throw new Error('example invalid');
  const keys = generateElectionKeys('florincoin-regtest', deterministicRng('reader-fixtures'));
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'election-public.json'), `${JSON.stringify(keys.public, null, 2)}\n`);
  const sheets: (TruthSheet & { fixture: string })[] = [];
  for (const [n, w] of wanted.entries()) {
    const deck = new TestDeck({
      election: loaded.value, publicKeys: keys.public, privateKeys: keys.private, seed: `fixture-${n}`, dpi: 150, mode: 'official', precinctId: 'p-101',
      kinds: { [w.kind]: 1 }, markKinds: MARK_KINDS, distortion: w.distortion, streakRate: w.streaks ? 1 : 0, strayMarks: true, marginalRate: n === 1 ? 1 : 0, erasureRate: 0.5, format: 'jpeg',
    });
    const s = await deck.sheet(0);
    const file = `${String(n + 1).padStart(2, '0')}-${w.kind}${w.streaks ? '-streaks' : ''}.jpg`;
    // quality 55 keeps the set small; the reader is held to JPEG down to quality 30 anyway
    fs.writeFileSync(path.join(out, file), await sharp(s.images[0]!.bytes).jpeg({ quality: 55 }).toBuffer());
    sheets.push({ ...s.truth, fixture: file });
  }
  fs.writeFileSync(path.join(out, 'truth.json'), `${JSON.stringify({ election: 'ballots/examples/municipal.json', station: { mode: 'official', precinctId: 'p-101' }, sheets }, null, 1)}\n`);
  console.log(`wrote ${sheets.length} fixtures to ${out}`);
})();
