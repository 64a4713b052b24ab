/**
 * The demo's election day again and again, as CI runs it: each run renders a new deck from its own seed
 * (every kind of sheet, a jam and a double feed) and must end with every sheet as the deck says, the scripted
 * voter and poll worker acting only on the station's events. Ten days, as the issue asks of CI: a day costs
 * about 15 s of CPU (rendering its deck, reading 16 sheets, two tapes), nothing in it waits on a timer;
 * `npm run demo:loop` runs the whole demo (ballot PDFs, publishing, audit) 10 times.
 */
import fs from 'node:fs';
import path from 'node:path';
import { electionDay } from '../../app/cli/commands/demo-day';
import { minimumFeeds, writeDemoDeck } from '../../app/cli/commands/demo-deck';
import { EXAMPLES, example, tempDir, testKeys, writeTestKeys } from '../support/ballots';

const RUNS = 10;

describe("the demo's election day, run after run", () => {
  it(`ends green on ${RUNS} decks of different seeds, every kind of sheet in each`, async () => {
    const root = tempDir('demo-loop');
    const keysDir = writeTestKeys(root);
    const keys = testKeys();
    const election = example('municipal');
    const electionFile = path.join(EXAMPLES, 'municipal.json');
    for (let i = 1; i <= RUNS; i++) {
      const seed = `loop-${i}`;
      const deckDir = path.join(root, `deck-${i}`);
      const { pile } = await writeDemoDeck(deckDir, { election, publicKeys: keys.public, privateKeys: keys.private, precinctId: 'p-101', seed, feeds: minimumFeeds(true), jobs: 1, jam: true });
      const said: string[] = [];
      const day = await electionDay({
        dataDir: path.join(root, `day-${i}`),
        electionFile,
        publicKeysFile: path.join(keysDir, 'election-public.json'),
        precinct: 'p-101',
        pileDir: path.join(deckDir, 'pile'),
        pile,
        say: (l) => said.push(l),
        log: () => undefined,
        safetyLimitMs: 600_000,
      });
      expect([seed, day.disagreements]).toEqual([seed, []]);
      expect(day.feeds.every((f) => f.agrees)).toBe(true);
      expect(day.counts.public).toBe(day.feeds.filter((f) => f.expected.outcome === 'counted').length);
      expect(day.alarmsCleared).toHaveLength(4);
      expect(day.tapes.map((t) => path.basename(t).split('-')[0])).toEqual(['zero', 'results']);
      expect(said.join('\n')).toMatch(/close-polls: Polls are closed/);
      fs.rmSync(path.join(root, `day-${i}`), { recursive: true, force: true });
    }
  }, 3_600_000);
});

describe("the demo's election day when it cannot end", () => {
  it('fails at its safety limit with the station and scanner state, instead of hanging or passing', async () => {
    const root = tempDir('demo-stuck');
    const keysDir = writeTestKeys(root);
    const keys = testKeys();
    const deckDir = path.join(root, 'deck');
    const { pile } = await writeDemoDeck(deckDir, { election: example('municipal'), publicKeys: keys.public, privateKeys: keys.private, precinctId: 'p-101', seed: 'stuck', feeds: minimumFeeds(false), jobs: 1, jam: false });
    // the scanner's cover opens as the first sheet comes in: the scripted poll worker has no cover to close
    const stuck = { ...pile, feeds: pile.feeds.map((f, i) => (i === 0 ? { ...f, fault: 'cover-open@feeding' } : f)) };
    const day = electionDay({
      dataDir: path.join(root, 'day'),
      electionFile: path.join(EXAMPLES, 'municipal.json'),
      publicKeysFile: path.join(keysDir, 'election-public.json'),
      precinct: 'p-101',
      pileDir: path.join(deckDir, 'pile'),
      pile: stuck,
      say: () => undefined,
      log: () => undefined,
      safetyLimitMs: 15_000,
    });
    await expect(day).rejects.toThrow(/^demo: election day did not end within 15 s: 0 of \d+ sheets finished; station: polls open, .*alarms \[cover-open\].*simulator: \{.*"coverOpen":true/);
    // the station was closed on the way out: its ledger is whole and can be opened again
    expect(fs.existsSync(path.join(root, 'day', 'ledger', 'official.sqlite.open'))).toBe(false);
  }, 300_000);
});
