/**
 * A whole election day in the browser, on real parts: `tallyproof station --headless --serial <pty>` as a
 * child process (real station service, SQLite ledger, reader), the firmware simulator on a socat pty in this
 * process (the test plays the voters and the poll worker's hands), the kiosk page in Debian's chromium driven
 * by keyboard only. Every screen is photographed into test-output/kiosk-election-day/ and its visible text
 * checked at that moment; the tapes are read back with pdftotext; the ledger's tally must equal the deck's truth.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { Tally } from '../../app/ledger/tally';
import type { TruthSheet } from '../../ballots/testdeck';
import { TestDeck } from '../../ballots/testdeck';
import type { DeckSheet } from '../../firmware-bridge/simulator/deck';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import { faultsAt } from '../../firmware-bridge/simulator/faults';
import { writeSheets } from '../station/support/rig';
import { EXAMPLES, outputDir, tempDir, writeTestKeys } from '../support/ballots';
import { runCli } from '../support/cli';
import { deckOptions } from '../support/reader';
import { CAPTAIN, PINS_ENV, POLL_WORKER, press, screenChecker, signIn, signOut } from './support/kiosk-page';
import { startStationProcess, type StationProcess } from './support/station-process';
import type { PtyScanner } from './support/voter-hand';
import { startPtyScanner, writeDeckSheet } from './support/voter-hand';

const WORKER = POLL_WORKER;

/**
 * An overvoted ballot and the same ballot (same serial) marked correctly: the voter takes the overvoted sheet
 * back, fixes it and feeds it again. The deck makes a second copy of a ballot ID only as a `duplicate` sheet,
 * whose votes are its own (not overvoted), so the seed is the first one whose sheet 0 is an overvote and
 * sheet 1 its duplicate.
 */
async function overvoteAndItsFix(): Promise<{ overvoted: Awaited<ReturnType<TestDeck['sheet']>>; fixed: Awaited<ReturnType<TestDeck['sheet']>> }> {
  for (let i = 0; i < 64; i++) {
    const deck = new TestDeck(deckOptions({ dpi: 200, seed: `e2e-fix-${i}`, kinds: { overvote: 1, duplicate: 1 }, markKinds: ['full'] }));
    const first = deck.plan(0);
    const second = deck.plan(1);
    if (first.kind === 'overvote' && second.kind === 'duplicate' && second.duplicateOf === 0) return { overvoted: await deck.sheet(0), fixed: await deck.sheet(1) };
  }
  throw new Error('no seed gives an overvote followed by its fixed copy');
}

/** The municipal election's contest titles, as a voter reads them, and their IDs, which a voter must never read. */
const CONTEST_TITLE = '(Mayor|City Council, At Large|City Council, Ward \\d|Measure A: Library Bond)';
const CONTEST_ID = /\b(mayor|council-at-large|council-ward-\d|measure-a)\b/;

const pdfText = (pdf: string): string => execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });

/** The ballot counts a tape prints. */
function ballotLines(tape: string): { cast: number; returned: number; castAsIs: number } {
  const n = (label: string): number => {
    const m = new RegExp(`\\n${label}\\s+(\\d+)\\n`).exec(tape);
    if (m?.[1] === undefined) throw new Error(`the tape has no "${label}" line:\n${tape}`);
    return Number(m[1]);
  };
  return { cast: n('Ballots cast'), returned: n('Recorded, not counted'), castAsIs: n('Cast as is') };
}

/** The votes a tape prints for one contest, option by option (write-in lines too), in the tape's order. */
function tapeVotes(tape: string, title: string): number[] {
  const start = tape.indexOf(`\n${title}\n`);
  const end = tape.indexOf('Ballots with this contest', start);
  if (start < 0 || end < 0) throw new Error(`the tape has no contest "${title}":\n${tape}`);
  // option lines end in the count after a run of spaces; "Vote for N" has one space
  return tape
    .slice(start, end)
    .split('\n')
    .flatMap((l) => {
      const m = /\s{2,}(\d+)$/.exec(l);
      return m?.[1] === undefined ? [] : [Number(m[1])];
    });
}

describe('election day in the kiosk, end to end', () => {
  let station: StationProcess | undefined;
  let scanner: PtyScanner | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    if (station?.child.exitCode === null) station.child.kill('SIGKILL');
    await scanner?.stop();
  });

  test('zero tape, open; counted, overvote fixed, overvote and blank cast as is, wrong election, duplicate, counterfeit, a jam; pause; close; results tape; counts equal the deck', async () => {
    const work = tempDir('kiosk-day');
    const keys = writeTestKeys(work);
    const shots = outputDir('kiosk-election-day');
    for (const f of fs.readdirSync(shots)) if (f.endsWith('.png')) fs.rmSync(path.join(shots, f));

    // ---- the paper: what each voter brings, in the order they come
    fs.mkdirSync(path.join(work, 'deck'));
    const plain = await writeSheets(
      [{ kind: 'normal', n: 0 }, { kind: 'overvote', n: 0 }, { kind: 'blank', n: 0 }, { kind: 'wrong-election', n: 0 }, { kind: 'counterfeit', n: 0 }, { kind: 'normal', n: 1 }, { kind: 'normal', n: 2, streaks: true }],
      path.join(work, 'deck'),
    );
    const [normalA, overvoteCast, blank, wrongElection, counterfeit, normalB, streaked] = readDeck(plain.dir);
    const [tA, tOvervoteCast, tBlank, , , tB] = plain.truth;
    const fix = await overvoteAndItsFix();
    writeDeckSheet(path.join(work, 'fix'), '0000', fix.overvoted.images);
    writeDeckSheet(path.join(work, 'fix'), '0001', fix.fixed.images);
    const [overvoteFix, fixed] = readDeck(path.join(work, 'fix'));
    const need = <T,>(x: T | undefined): T => {
      if (x === undefined) throw new Error('deck sheet missing');
      return x;
    };
    const pile: DeckSheet[] = [normalA, overvoteFix, fixed, overvoteCast, blank, wrongElection, normalA, counterfeit, streaked, normalB, normalB].map(need);
    const JAMMED = 9; // the first feeding of normal B jams on its way into the box
    // the sheets that must count, and how they were read
    const counted: TruthSheet[] = [tA, fix.fixed.truth, tOvervoteCast, tBlank, tB].map(need);
    expect(fix.overvoted.truth.serial).toBe(fix.fixed.truth.serial);
    expect(fix.overvoted.truth.expected.reasons).toEqual(['overvote']);
    expect(fix.fixed.truth.expected.status).toBe('accepted');

    scanner = await startPtyScanner(pile, faultsAt({ [JAMMED]: { kind: 'jam', stage: 'accepting' } }), path.join(work, 'pty'));
    const sc = scanner;

    // ---- the station
    const data = path.join(work, 'data');
    const args = ['station', '--serial', sc.path, '--headless', '--port', '0', '--data', data, '--election', path.join(EXAMPLES, 'municipal.json'), '--keys', keys, '--precinct', 'p-101'];
    station = await startStationProcess(args, { TALLYPROOF_PINS: PINS_ENV, TALLYPROOF_STATION_PASSPHRASE: 'e2e station passphrase' }, work);
    const st = station;
    const url = st.url;

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Limits, not timings: a shared 2-core machine under load can take many seconds per step.
    page.setDefaultTimeout(60_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    const { look: shot, visible, taken } = screenChecker(page, shots);
    const voterTitle = (name: string) => page.getByRole('heading', { level: 2, name, exact: true }).waitFor();
    const countIs = (n: number) => page.getByText(`Ballots counted here: ${n}`, { exact: true }).waitFor();

    // a failure leaves the screen it stopped at and what the station said
    const failed = async (e: unknown): Promise<never> => {
      await page.screenshot({ path: path.join(shots, 'failed.png'), fullPage: true }).catch(() => undefined);
      const text = await visible().catch(() => '(page text unavailable)');
      throw new Error(`${(e as Error).message}\n--- screen:\n${text}\n--- station stderr:\n${st.stderr().slice(-4000)}`);
    };

    let zeroFile = '';
    let resultsFile = '';
    try {
      await page.goto(url);
      await voterTitle('This scanner is not open for voting.');
      // the precinct by the name the election gives it
      await shot('01-not-open', ['This scanner is not open for voting.', 'Springfield Municipal Election · Precinct 101 – Old Town', 'Polls not open'], ['p-101']);

      // ---- the captain prints the zero tape and opens the polls
      await signIn(page, CAPTAIN, 'Precinct captain');
      await shot('02-captain-before-open', ['Precinct captain', 'Print zero tape', 'Open polls', 'Ballots cast (this election)']);
      // not before the zero tape: refused at once, with no question asked
      await press(page, 'button[data-command="open-polls"]');
      await page.getByText(/Not done: the polls open only after the zero tape is printed/).waitFor();
      await shot('02b-open-refused-before-zero-tape', ['Not done: the polls open only after the zero tape is printed', 'Polls not open', 'Print zero tape'], ['Open the polls?']);
      await press(page, 'button[data-command="print-zero-tape"]');
      await page.getByText(/The zero tape is printed/).waitFor();
      await shot('03-zero-tape-printed', [/The zero tape is printed \(ledger head \d+\)\. File: \S+\.pdf/]);
      zeroFile = /File: (\S+\.pdf)/.exec(await page.locator('#staff-result').innerText())?.[1] ?? '';
      await press(page, 'button[data-command="open-polls"]');
      await page.getByRole('alertdialog', { name: 'Open the polls?' }).waitFor();
      await shot('03b-confirm-open', ['Open the polls?', 'Check first that every count on the zero tape is zero.', 'Yes, open the polls', 'No, go back', 'Polls not open']);
      await page.keyboard.press('Tab'); // from "No, go back" to "Yes, open the polls"
      await page.keyboard.press('Enter');
      await page.locator('#polls-badge', { hasText: 'Polls open' }).waitFor();
      await shot('04-polls-opened', ['Polls open', 'Pause scanning', 'Close polls'], ['Open polls']);
      await signOut(page);
      await voterTitle('Insert your ballot');
      await shot('05-insert-ballot', ['Insert your ballot', 'Ballots counted here: 0']);

      // ---- voter 1: a good ballot
      await sc.voterFeeds();
      await voterTitle('Your ballot was counted');
      await countIs(1);
      await shot('06-counted', ['Your ballot was counted', 'Thank you for voting.', 'Ballots counted here: 1']);

      // ---- voter 2: overvoted, takes it back, fixes it, feeds it again
      await sc.voterFeeds();
      await voterTitle('Your ballot has not been counted yet');
      // contests by their titles in the election, never by ID
      await shot('07-overvote-held', ['Your ballot has not been counted yet', /too many/i, new RegExp(`Contests: ${CONTEST_TITLE}`), 'Return my ballot so I can fix it', 'Cast my ballot as it is'], [CONTEST_ID]);
      await press(page, '#btn-fix');
      await voterTitle('Your ballot was returned');
      await shot('08-overvote-returned-to-fix', ['Your ballot was returned', 'Please take your ballot.', 'Ballots counted here: 1']);
      await sc.voterFeeds();
      await countIs(2);
      await voterTitle('Your ballot was counted');
      await shot('09-fixed-ballot-counted', ['Your ballot was counted', 'Ballots counted here: 2']);

      // ---- voter 3: overvoted, cast as is
      await sc.voterFeeds();
      await voterTitle('Your ballot has not been counted yet');
      await press(page, '#btn-cast-as-is');
      await page.getByRole('alertdialog').waitFor();
      await shot('10-overvote-confirm-cast-as-is', ['Cast this ballot as it is?', new RegExp(`Votes in these contests will not count: ${CONTEST_TITLE}`), 'Yes, cast it as it is', 'No, go back'], [CONTEST_ID]);
      await page.keyboard.press('Tab'); // from "No, go back" to "Yes, cast it as it is"
      await page.keyboard.press('Enter');
      await countIs(3);
      await voterTitle('Your ballot was counted');
      await shot('11-overvote-cast-as-is-counted', ['Your ballot was counted', 'Ballots counted here: 3']);

      // ---- voter 4: blank, cast as is
      await sc.voterFeeds();
      await voterTitle('Your ballot has not been counted yet');
      await shot('12-blank-held', ['Your ballot has not been counted yet', 'No marks were found on this ballot.', 'Cast my ballot as it is']);
      await press(page, '#btn-cast-as-is');
      await page.getByRole('alertdialog').waitFor();
      await shot('13-blank-confirm', ['Cast this ballot as it is?', 'The ballot will be counted as it is.']);
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await countIs(4);
      await voterTitle('Your ballot was counted');

      // ---- rejected sheets: another election's ballot, a copy of voter 1's ballot, a counterfeit
      await sc.voterFeeds();
      await voterTitle('This ballot cannot be counted');
      await shot('14-wrong-election', ['This ballot cannot be counted', 'This ballot is for a different election.', 'Ballots counted here: 4'], ['Cast my ballot as it is']);
      await sc.voterFeeds();
      await page.getByText('This ballot has already been counted.').waitFor();
      await shot('15-duplicate', ['This ballot cannot be counted', 'This ballot has already been counted. Please ask a poll worker.', 'Ballots counted here: 4']);
      // the poll worker sees which earlier ballot this copies
      await signIn(page, WORKER, 'Poll worker');
      const firstCast = new RegExp(`Ballot ${tA?.serial ?? '?'}\\S* was counted at ledger entry \\d+\\.`, 'i');
      await shot('16-duplicate-poll-worker', ['Poll worker', 'A ballot with this ballot ID is already counted: this sheet is a copy.', firstCast]);
      await signOut(page);
      await sc.voterFeeds();
      await page.getByText('This ballot was not issued for this election.').waitFor();
      await shot('17-counterfeit', ['This ballot cannot be counted', 'This ballot was not issued for this election. Please ask a poll worker.', 'Ballots counted here: 4']);

      // ---- a dirty scanner glass: the streaked sheet goes back and the feeder stops until the glass is clean
      await sc.voterFeeds();
      await voterTitle('Please wait for a poll worker');
      await shot('17b-streaks-voter', ['Please wait for a poll worker', 'Do not insert a ballot', 'The scanner needs cleaning. Please ask a poll worker.', 'Ballots counted here: 4'], ['Insert your ballot']);
      expect(await page.locator('body').getAttribute('data-last-cue')).toBe('alarm');
      await signIn(page, WORKER, 'Poll worker');
      await shot('17c-streaks-poll-worker', ['Streaks on the scanner glass: clean it', 'Clean the scanner glass', 'Connected: the feeder is stopped', 'Clear alarm'], ['Connected: ready', 'No alarms']);
      await press(page, 'button[data-command="clear-alarm"]');
      await page.getByText('Cleared.', { exact: true }).waitFor();
      await signOut(page);

      // ---- voter 5: the ballot jams on its way into the box
      await sc.voterFeeds();
      // the ballot is stuck inside: the voter is told it was not counted and to wait, not to take it and get a new one
      // the poll worker's instruction names the ballot: never on the voter's screen (its record is public once published)
      await shot(
        '18-jam-voter',
        ['Please wait for a poll worker', 'Your ballot was not counted. Please wait: a poll worker will clear the scanner and tell you what to do.', 'Please wait: a poll worker is needed at the scanner.', 'Ballots counted here: 4'],
        ['Please take your ballot', 'give you a new one', /Ballot [0-9A-Z]{12}/],
      );
      await signIn(page, WORKER, 'Poll worker');
      await page.getByText('Paper jam', { exact: true }).waitFor();
      const instruction = /Attention: Ballot \S+ was not counted: the scanner stopped \(jam\) while the ballot was accepting\. Clear the paper path: if the ballot is there, have the voter feed it again/;
      await page.getByText(instruction).waitFor();
      await shot('19-jam-poll-worker', ['Poll worker', 'Paper jam', instruction, 'Ballots cast (this election)\n4']);
      // the poll worker opens the paper path and takes the sheet out
      sc.simulator.clearJam();
      await page.getByText('No alarms', { exact: true }).waitFor();
      await shot('20-jam-cleared-instruction-stays', [instruction, 'No alarms', 'Clear alarm'], ['Paper jam']);
      await press(page, 'button[data-command="clear-alarm"]');
      await page.getByText('Cleared.', { exact: true }).waitFor();
      await shot('21-jam-instruction-cleared', ['Cleared.', 'No alarms'], [/Attention:/]);
      await signOut(page);
      // as the station said: the voter feeds the ballot again
      await sc.voterFeeds();
      await countIs(5);
      await voterTitle('Your ballot was counted');
      await shot('22-jammed-ballot-fed-again', ['Your ballot was counted', 'Ballots counted here: 5']);

      // ---- the poll worker pauses and resumes scanning
      await signIn(page, WORKER, 'Poll worker');
      await press(page, 'button[data-command="pause-polls"]');
      await page.locator('#polls-badge', { hasText: 'Paused' }).waitFor();
      await shot('23-paused', ['Paused', 'Resume scanning', 'Poll worker']);
      await signOut(page);
      await voterTitle('Scanning is paused.');
      await shot('24-voter-paused', ['Scanning is paused.', 'Please ask a poll worker.']);
      await signIn(page, WORKER, 'Poll worker');
      await press(page, 'button[data-command="resume-polls"]');
      await page.locator('#polls-badge', { hasText: 'Polls open' }).waitFor();
      await signOut(page);

      // ---- the captain closes the polls and prints the results tape
      await signIn(page, CAPTAIN, 'Precinct captain');
      const counts = async (key: string): Promise<string> => page.locator(`dd[data-count="${key}"]`).innerText();
      expect([await counts('counts.public'), await counts('counts.castAsIs'), await counts('counts.rejected'), await counts('counts.returned')]).toEqual(['5', '2', '4', '2']);
      await press(page, 'button[data-command="close-polls"]');
      await page.getByRole('alertdialog', { name: 'Close the polls?' }).waitFor();
      await shot('24b-confirm-close', ['Close the polls?', 'This cannot be undone', 'Yes, close the polls', 'Polls open']);
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.locator('#polls-badge', { hasText: 'Polls closed' }).waitFor();
      await shot('25-polls-closed', ['Polls closed', 'Print results tape'], ['Close polls', 'Print zero tape']);
      await press(page, 'button[data-command="print-results-tape"]');
      await page.getByText(/The results tape is printed/).waitFor();
      await shot('26-results-tape-printed', [/The results tape is printed \(ledger head \d+\)\. File: \S+\.pdf/]);
      resultsFile = /File: (\S+\.pdf)/.exec(await page.locator('#staff-result').innerText())?.[1] ?? '';
      await signOut(page);
      await voterTitle('This scanner is not open for voting.');
      await shot('27-voter-after-close', ['This scanner is not open for voting.', 'Polls closed', 'Ballots counted here: 5']);
    } catch (e) {
      await failed(e);
    }
    expect(errors).toEqual([]);

    const status = (await (await fetch(new URL('/api/status', url))).json()) as { polls: string; counts: Record<string, number> };
    expect(status).toMatchObject({ polls: 'closed', counts: { public: 5, castAsIs: 2, rejected: 4, returned: 2 } });
    // every sheet went where the day says: the jammed one out of the path by hand, then into the box
    expect(sc.simulator.physical.map((p) => p.location)).toEqual(['box', 'returned', 'box', 'box', 'box', 'returned', 'returned', 'returned', 'returned', 'removed-by-poll-worker', 'box']);

    expect(await st.stop()).toBe(0);

    // ---- the ledger against the deck's truth: the counted sheets' votes, an overvoted contest giving none
    const tally = await runCli(['ledger', 'tally', '--data', data]);
    expect(tally.code).toBe(0);
    const t = JSON.parse(tally.stdout) as Tally;
    const want = new Map<string, Map<string, number>>();
    for (const sheet of counted) {
      for (const [contestId, c] of Object.entries(sheet.expected.contests)) {
        const votes = want.get(contestId) ?? new Map<string, number>();
        want.set(contestId, votes);
        if (!c.overvote) for (const o of c.selections) votes.set(o, (votes.get(o) ?? 0) + 1);
      }
    }
    expect(t.ballots).toMatchObject({ cast: 5, castAsIs: 2, pending: 0 });
    for (const contest of t.contests) {
      const expectedVotes = Object.fromEntries(Object.keys(contest.votes).map((o) => [o, want.get(contest.id)?.get(o) ?? 0]));
      expect({ contest: contest.id, votes: contest.votes }).toEqual({ contest: contest.id, votes: expectedVotes });
    }
    expect([...want.keys()].every((id) => t.contests.some((c) => c.id === id))).toBe(true);

    // ---- the tapes: the zero tape at zero, the results tape with the same totals as the ledger
    expect(fs.existsSync(zeroFile)).toBe(true);
    expect(fs.existsSync(resultsFile)).toBe(true);
    const zero = pdfText(zeroFile);
    const results = pdfText(resultsFile);
    fs.writeFileSync(path.join(shots, 'zero-tape.txt'), zero);
    fs.writeFileSync(path.join(shots, 'results-tape.txt'), results);
    const titles = new Map((JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'municipal.json'), 'utf8')) as { contests: { id: string; title: string }[] }).contests.map((c) => [c.id, c.title]));
    const onTape = t.contests.filter((c) => results.includes(`\n${titles.get(c.id) ?? '?'}\n`));
    expect(onTape.map((c) => c.id)).toEqual(['mayor', 'council-at-large', 'council-ward-1', 'measure-a']);
    expect(zero).toMatch(/ZERO TAPE\s+Polls open: no ballot has been counted\./);
    expect(ballotLines(zero)).toEqual({ cast: 0, returned: 0, castAsIs: 0 });
    expect(results).toMatch(/RESULTS TAPE\s+Polls closed: totals from the verified ledger\./);
    expect(ballotLines(results)).toEqual({ cast: 5, returned: t.ballots.returned, castAsIs: 2 });
    for (const c of onTape) {
      const title = titles.get(c.id) ?? '?';
      expect({ contest: c.id, votes: tapeVotes(zero, title) }).toEqual({ contest: c.id, votes: Object.values(c.votes).map(() => 0) });
      expect({ contest: c.id, votes: tapeVotes(results, title) }).toEqual({ contest: c.id, votes: Object.values(c.votes) });
    }

    process.stdout.write(`election-day screenshots in ${shots}: ${taken.join(', ')}\n`);
  }, 300_000);
});
