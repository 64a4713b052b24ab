import type { PileFeed } from '../../app/cli/commands/demo-deck';
import { minimumFeeds, pileFaults, planPile } from '../../app/cli/commands/demo-deck';
import { TestDeck } from '../../ballots/testdeck';
import { deckOptions } from '../support/reader';

const EVERY_OUTCOME = ['counted', 'returned:overvote', 'returned:blank-ballot', 'returned:double-sheet', 'rejected:wrong-election', 'rejected:wrong-precinct', 'rejected:counterfeit', 'rejected:duplicate', 'rejected:scanner-streaks'];

function outcomeOf(f: PileFeed): string | undefined {
  return f.expect === undefined ? undefined : `${f.expect.outcome}${f.expect.reason ? `:${f.expect.reason}` : ''}`;
}

describe("the demo's pile", () => {
  it('holds every kind of sheet for any seed, in stories that stay together, the copy after the ballot it copies', () => {
    for (const jam of [true, false]) {
      for (let s = 0; s < 60; s++) {
        const feeds = minimumFeeds(jam) + (s % 5);
        const { feeds: pile, script } = planPile(`seed-${s}`, feeds, jam);
        expect(pile).toHaveLength(feeds);
        const outcomes = new Set(pile.map(outcomeOf));
        for (const o of [...EVERY_OUTCOME, ...(jam ? ['returned:scanner-stopped'] : [])]) expect([s, o, outcomes.has(o)]).toEqual([s, o, true]);
        expect(outcomes.has('returned:scanner-stopped')).toBe(jam);
        expect(pile.filter((f) => f.voter === 'cast-as-is')).toHaveLength(1);
        // the duplicate copies a ballot fed (and counted) earlier
        const copy = pile.findIndex((f) => f.expect?.reason === 'duplicate');
        const original = script[pile[copy]!.sheet]!.duplicateOf!;
        const firstFeed = pile.findIndex((f) => f.sheet === original);
        expect(firstFeed).toBeLessThan(copy);
        expect(outcomeOf(pile[firstFeed]!)).toBe('counted');
        // a voter who takes an overvoted ballot back feeds the corrected one next
        const fix = pile.findIndex((f) => f.voter === 'return' && f.expect?.reason === 'overvote');
        expect(pile[fix + 1]?.what).toBe("the same voter's corrected ballot");
        // the double feed: the pair goes in together, then each is fed again, as the same sheets
        const dbl = pile.findIndex((f) => f.fault === 'double-sheet');
        expect(pile.slice(dbl, dbl + 4).map((f) => f.sheet)).toEqual([pile[dbl]!.sheet, pile[dbl + 1]!.sheet, pile[dbl]!.sheet, pile[dbl + 1]!.sheet]);
        expect(pile[dbl + 1]?.pulledInWithPrevious).toBe(true);
        // the streaked ballot is fed again scanned clean: the same ballot, a new scan
        const streaked = pile.findIndex((f) => f.expect?.reason === 'scanner-streaks');
        expect(script[pile[streaked]!.sheet]!.streaks).toBe(true);
        expect(script[pile[streaked + 1]!.sheet]).toEqual({ kind: 'normal', sameBallotAs: pile[streaked]!.sheet });
        if (jam) {
          const j = pile.findIndex((f) => f.fault === 'jam@accepting');
          expect(pile[j + 1]?.sheet).toBe(pile[j]?.sheet);
        }
      }
    }
  });

  it("names each fault by the scanner's own count of sheets fed: the sheet pulled in with a double feed is not one", () => {
    const { feeds } = planPile('faults', minimumFeeds(true), true);
    const pile = { format: 'tallyproof-demo-pile/1' as const, seed: 'faults', feeds };
    const scannerSheets = feeds.filter((f) => f.pulledInWithPrevious !== true);
    const expected = scannerSheets.flatMap((f, i) => (f.fault === undefined ? [] : [`${i + 1}=${f.fault}`]));
    expect(pileFaults(pile)).toBe(expected.join(','));
    expect(expected).toHaveLength(2);
  });

  it('refuses a pile too small to hold every kind, and a deck script that refers to a sheet not yet made', async () => {
    expect(() => planPile('x', minimumFeeds(true) - 1, true)).toThrow(`the demo's pile needs at least ${minimumFeeds(true)} sheets to hold every kind, got ${minimumFeeds(true) - 1}`);
    const deck = new TestDeck(deckOptions({ script: [{ kind: 'normal' }, { kind: 'duplicate', duplicateOf: 1 }] }));
    await expect(deck.sheet(1)).rejects.toThrow('scripted sheet 1 refers to sheet 1, which is not an earlier one');
    expect(() => new TestDeck(deckOptions({ script: [{ kind: 'normal', duplicateOf: 0 }] })).plan(0)).toThrow('refers to sheet 0, which is not an earlier one');
  });

  it('renders a ballot fed again as the same paper: same ballot ID and marks, a new scan', async () => {
    const deck = new TestDeck(deckOptions({ script: [{ kind: 'normal', streaks: true }, { kind: 'normal', sameBallotAs: 0 }, { kind: 'duplicate', duplicateOf: 0 }] }));
    const [first, again, copy] = await Promise.all([deck.sheet(0), deck.sheet(1), deck.sheet(2)]);
    expect(again.truth.serial).toBe(first.truth.serial);
    expect(again.truth.marks).toEqual(first.truth.marks);
    expect([first.truth.expected.status, first.truth.expected.reasons]).toEqual(['rejected', ['scanner-streaks']]);
    expect(again.truth.expected.status).toBe('accepted');
    expect(again.truth.duplicateOf).toBeUndefined();
    expect([copy.truth.kind, copy.truth.serial, copy.truth.duplicateOf]).toEqual(['duplicate', first.truth.serial, 0]);
  });
});
