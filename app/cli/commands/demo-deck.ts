/**
 * The demo's deck: a scripted pile that holds every kind of sheet a poll worker meets on election day, in an
 * order drawn from a seed, with what each sheet must become. The images are rendered once per ballot into
 * `<deck>/` (the test-deck layout: sheet-NNNNNN-1.png + truth.json); the pile the voters feed, in feeding
 * order, is `<deck>/pile/` (one copy per feed: a ballot given back and fed again is in it twice) with
 * `<deck>/pile.json` saying what each feed is, and which feeds the simulated scanner must fault.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ValidElection } from '../../../ballots/election';
import type { ElectionPrivateKeys, ElectionPublicKeys } from '../../../ballots/identity';
import type { DeckTruth, ScriptedSheet, TruthSheet } from '../../../ballots/testdeck';
import { Rng, TestDeck, renderDeck } from '../../../ballots/testdeck';
import { writeFileAtomic } from '../write-file';

/** What becomes of one feed, as the station must tell it. */
export interface ExpectedOutcome {
  readonly outcome: 'counted' | 'returned' | 'rejected';
  /** the feedback reason code the station must give (returned and rejected sheets) */
  readonly reason?: string;
}

export interface PileFeed {
  /** file in pile/ */
  readonly file: string;
  /** the deck sheet (index in truth.json) this feed is a scan of */
  readonly sheet: number;
  /** what the feed is, for the summary and for a person reading pile.json */
  readonly what: string;
  /** a fault the simulated scanner plays on this feed (parseFault's syntax: the demo's are jam@accepting and double-sheet) */
  readonly fault?: string;
  /** the second sheet of a double feed: it goes in with the one before it, and has no outcome of its own */
  readonly pulledInWithPrevious?: boolean;
  /** what the scripted voter chooses when the station holds this ballot */
  readonly voter?: 'return' | 'cast-as-is';
  readonly expect?: ExpectedOutcome;
}

export interface DemoPile {
  readonly format: 'tallyproof-demo-pile/1';
  readonly seed: string;
  readonly feeds: readonly PileFeed[];
}

export interface DemoDeckOptions {
  readonly election: ValidElection;
  readonly publicKeys: ElectionPublicKeys;
  readonly privateKeys: ElectionPrivateKeys;
  readonly precinctId: string;
  readonly seed: string;
  /** feeds in all: the episodes that show every kind, then ordinary voters up to this number */
  readonly feeds: number;
  readonly jobs: number;
  /**
   * false: leave out the jam, which only a program driving the simulator can clear (a person at `npm start`'s
   * screen has no paper path to open); the double feed stays, the station's clear-alarm ends it.
   */
  readonly jam: boolean;
}

type Planned = Omit<PileFeed, 'file' | 'sheet'> & { readonly ballot: ScriptedSheet | { readonly refeed: 'previous' | 'two-back' } };

const COUNTED: ExpectedOutcome = { outcome: 'counted' };
const COPY: Planned = { what: 'a copy of a ballot already counted', ballot: { kind: 'duplicate' }, expect: { outcome: 'rejected', reason: 'duplicate' } };
const ordinary = (what = 'a voter'): Planned => ({ what, ballot: { kind: 'normal' }, expect: COUNTED });

/**
 * Episodes: the feeds of one voter's story, kept together. `refeed` is the same paper fed again (the
 * previous feed, or the one before it after a double feed).
 */
function episodes(jam: boolean): Planned[][] {
  const list: Planned[][] = [
    [{ what: 'an overvoted ballot the voter takes back', ballot: { kind: 'overvote' }, voter: 'return', expect: { outcome: 'returned', reason: 'overvote' } }, ordinary('the same voter\'s corrected ballot')],
    [{ what: 'an overvoted ballot the voter casts as is', ballot: { kind: 'overvote' }, voter: 'cast-as-is', expect: COUNTED }],
    [{ what: 'a blank ballot the voter takes back', ballot: { kind: 'blank' }, voter: 'return', expect: { outcome: 'returned', reason: 'blank-ballot' } }],
    [{ what: "another election's ballot", ballot: { kind: 'wrong-election' }, expect: { outcome: 'rejected', reason: 'wrong-election' } }],
    [{ what: "another precinct's ballot", ballot: { kind: 'wrong-precinct' }, expect: { outcome: 'rejected', reason: 'wrong-precinct' } }],
    [{ what: 'a counterfeit ballot', ballot: { kind: 'counterfeit' }, expect: { outcome: 'rejected', reason: 'counterfeit' } }],
    [
      { what: 'a ballot scanned through streaks on the sensor', ballot: { kind: 'normal', streaks: true }, expect: { outcome: 'rejected', reason: 'scanner-streaks' } },
      { what: 'the same ballot fed again once the sensor is clean', ballot: { refeed: 'previous' }, expect: COUNTED },
    ],
    [
      { what: 'two sheets fed at once', ballot: { kind: 'normal' }, fault: 'double-sheet', expect: { outcome: 'returned', reason: 'double-sheet' } },
      { what: 'the second of the two', ballot: { kind: 'normal' }, pulledInWithPrevious: true },
      { what: 'the first of them fed again', ballot: { refeed: 'two-back' }, expect: COUNTED },
      { what: 'the second of them fed again', ballot: { refeed: 'two-back' }, expect: COUNTED },
    ],
  ];
  if (jam) {
    list.push([
      { what: 'a ballot that jams as it drops', ballot: { kind: 'normal' }, fault: 'jam@accepting', expect: { outcome: 'returned', reason: 'scanner-stopped' } },
      { what: 'the same ballot fed again once the path is clear', ballot: { refeed: 'previous' }, expect: COUNTED },
    ]);
  }
  return list;
}

/** The least `feeds` can be: every episode once, the duplicate and the voter it copies. */
export function minimumFeeds(jam: boolean): number {
  return episodes(jam).reduce((n, e) => n + e.length, 0) + 2;
}

/**
 * The pile in feeding order: the episodes and the ordinary voters shuffled by the seed, and a copy of one
 * ordinary voter's counted ballot fed some time after it (the duplicate). `script` is the deck to render.
 */
export function planPile(seed: string, feeds: number, jam: boolean): { feeds: PileFeed[]; script: ScriptedSheet[] } {
  const min = minimumFeeds(jam);
  if (feeds < min) throw new RangeError(`the demo's pile needs at least ${min} sheets to hold every kind, got ${feeds}`);
  const rng = new Rng(`${seed}/demo-pile`);
  // blocks: each story, and each ordinary voter, fed without another voter's sheet in between
  const blocks: Planned[][] = [...episodes(jam), ...Array.from({ length: feeds - min + 1 }, () => [ordinary()])];
  rng.shuffle(blocks);
  // a copy of the first ordinary voter's ballot comes in later, between two blocks
  const original = blocks.findIndex((b) => b.length === 1 && b[0]?.what === 'a voter');
  if (original < 0) throw new Error('the demo pile has no ordinary voter to copy');
  blocks.splice(rng.int(original + 1, blocks.length), 0, [COPY]);
  const copyOf = blocks.slice(0, original).reduce((n, b) => n + b.length, 0);
  const planned = blocks.flat();

  const script: ScriptedSheet[] = [];
  const sheetOfFeed: number[] = [];
  const out: PileFeed[] = [];
  const add = (p: Planned, ballot: ScriptedSheet | { readonly refeed: 'previous' | 'two-back' }) => {
    let sheet: number;
    if ('refeed' in ballot) {
      const first = sheetOfFeed[sheetOfFeed.length - (ballot.refeed === 'previous' ? 1 : 2)];
      if (first === undefined) throw new Error('a re-fed ballot with nothing before it');
      const again = script[first]!;
      // fed again, it is the same paper: scanned clean this time
      sheet = again.streaks === true ? script.push({ kind: 'normal', sameBallotAs: first }) - 1 : first;
    } else sheet = script.push(ballot) - 1;
    sheetOfFeed.push(sheet);
    const { ballot: _b, ...rest } = p;
    out.push({ ...rest, file: `${String(out.length + 1).padStart(4, '0')}.png`, sheet });
  };
  for (const p of planned) add(p, p === COPY ? { kind: 'duplicate', duplicateOf: sheetOfFeed[copyOf]! } : p.ballot);
  return { feeds: out, script };
}

/** Renders the deck and writes the pile; returns the pile and the deck's truth. */
export async function writeDemoDeck(dir: string, o: DemoDeckOptions): Promise<{ pile: DemoPile; truth: DeckTruth }> {
  const { feeds, script } = planPile(o.seed, o.feeds, o.jam);
  const deck = new TestDeck({
    election: o.election,
    publicKeys: o.publicKeys,
    privateKeys: o.privateKeys,
    seed: o.seed,
    dpi: 200,
    mode: 'official',
    precinctId: o.precinctId,
    kinds: { normal: 1 },
    markKinds: ['full', 'check', 'x'],
    distortion: 'mild',
    streakRate: 0,
    strayMarks: true,
    marginalRate: 0,
    erasureRate: 0,
    format: 'png',
    script,
  });
  fs.rmSync(dir, { recursive: true, force: true });
  const pileDir = path.join(dir, 'pile');
  fs.mkdirSync(pileDir, { recursive: true });
  const sheets = new Array<TruthSheet>(script.length);
  const images = new Array<Uint8Array>(script.length);
  await renderDeck(deck.options, script.length, o.jobs, (s) => {
    const [front, ...rest] = s.images;
    if (front === undefined || rest.length > 0) throw new Error(`the demo deck's sheet ${s.index} has ${s.images.length} images; the demo election is one-sided`);
    fs.writeFileSync(path.join(dir, front.file), front.bytes);
    images[s.index] = front.bytes;
    sheets[s.index] = s.truth;
  });
  for (const f of feeds) fs.writeFileSync(path.join(pileDir, f.file), images[f.sheet]!);
  const truth: DeckTruth = { ...deck.truthHeader, sheets };
  writeFileAtomic(path.join(dir, 'truth.json'), `${JSON.stringify(truth)}\n`);
  const pile: DemoPile = { format: 'tallyproof-demo-pile/1', seed: o.seed, feeds };
  writeFileAtomic(path.join(dir, 'pile.json'), `${JSON.stringify(pile, null, 2)}\n`);
  return { pile, truth };
}

/** The simulated scanner's fault plan for the pile, in `--simulate-faults` syntax (feeds counted from 1 as the scanner counts them). */
export function pileFaults(pile: DemoPile): string {
  const plan: string[] = [];
  let fed = 0;
  for (const f of pile.feeds) {
    if (f.pulledInWithPrevious === true) continue;
    fed += 1;
    if (f.fault !== undefined) plan.push(`${fed}=${f.fault}`);
  }
  return plan.join(',');
}
