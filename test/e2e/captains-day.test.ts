/**
 * The captain's whole election day, as the people at the station live it, on real parts: `tallyproof station
 * --headless --serial <pty>` as a child process (station service, SQLite ledger, reader), the firmware
 * simulator on a socat pty in this process feeding the demo's deck (every sheet kind a poll worker meets), and
 * the kiosk page in Debian's chromium driven by keyboard only. The only thing the test does that no screen
 * does is play the hands: the voter putting the next sheet in, the poll worker opening the paper path.
 *
 * Every expectation is computed from the deck's plan and truth or from `tallyproof ledger tally` (run as its
 * own process), never written down: a wrong count, a missing reason or a screen that says the wrong thing
 * fails the walk at the step where a person would have seen it. Screens go to test-output/captains-day/.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { minimumFeeds, pileFaults, writeDemoDeck, type PileFeed } from '../../app/cli/commands/demo-deck';
import type { Tally } from '../../app/ledger/tally';
import { reasonLabel, tapeTime } from '../../app/reports/tapes';
import { STATION_REASON_TEXT } from '../../app/station/policy';
import { REASON_TEXT, type Reason } from '../../ballots/read/reasons';
import type { TruthSheet } from '../../ballots/testdeck';
import { readDeck } from '../../firmware-bridge/simulator/deck';
import { noFaults, parseFaultPlan } from '../../firmware-bridge/simulator/faults';
import { ok } from '../../lib/result';
import { validateElection } from '../../ballots/election';
import { EXAMPLES, outputDir, tempDir, testKeys, writeTestKeys } from '../support/ballots';
import { CAPTAIN, PINS_ENV, POLL_WORKER, answerYes, press, screenChecker, signIn, signOut } from '../kiosk/support/kiosk-page';
import { runCliProcess, startStationProcess, type StationProcess } from '../kiosk/support/station-process';
import { startPtyScanner, type PtyScanner } from '../kiosk/support/voter-hand';

const SEED = process.env['CAPTAINS_DAY_SEED'] ?? 'captains-day-1';
const PRECINCT = 'p-101';

/**
 * The demo's municipal election as a county with Spanish-speaking voters publishes it: the same definition
 * with the optional Spanish titles (the example itself stays as it is, its hash pinned by the reader fixtures).
 */
const SPANISH: { election: string; precincts: Record<string, string>; contests: Record<string, string> } = {
  election: 'Elección Municipal de Springfield',
  precincts: { 'p-101': 'Recinto 101 – Casco Antiguo', 'p-102': 'Recinto 102 – Ribera' },
  contests: { mayor: 'Alcaldía', 'council-at-large': 'Concejo Municipal, en general', 'council-ward-1': 'Concejo Municipal, Distrito 1', 'council-ward-2': 'Concejo Municipal, Distrito 2', 'measure-a': 'Medida A: Bono para la biblioteca' },
};
function withSpanish(raw: { election: Record<string, unknown>; precincts: { id: string }[]; contests: { id: string }[] }): unknown {
  return {
    ...raw,
    election: { ...raw.election, titles: { es: SPANISH.election } },
    precincts: raw.precincts.map((p) => (SPANISH.precincts[p.id] === undefined ? p : { ...p, names: { es: SPANISH.precincts[p.id] } })),
    contests: raw.contests.map((c) => (SPANISH.contests[c.id] === undefined ? c : { ...c, titles: { es: SPANISH.contests[c.id] } })),
  };
}
const electionJson = withSpanish(JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'municipal.json'), 'utf8')) as Parameters<typeof withSpanish>[0]);
const validated = validateElection(electionJson);
if (!validated.ok) throw new Error(`the Spanish municipal election is invalid: ${JSON.stringify(validated.error)}`);
const election = validated.value;
const def = election.definition;
const spanishTitle = new Map(def.contests.map((c) => [c.id, c.titles?.['es'] ?? c.title]));
const contestTitle = new Map(def.contests.map((c) => [c.id, c.title]));
const precinctName = def.precincts.find((p) => p.id === PRECINCT)?.name ?? '?';
const CONTEST_ID = new RegExp(`\\b(${def.contests.map((c) => c.id).join('|')})\\b`);

/** What the voter and the poll worker are told for a reason code: the station's own sentences. */
function reasonText(code: string): { voter: string; pollWorker: string } {
  const t = (STATION_REASON_TEXT as Record<string, { voter: string; pollWorker: string }>)[code] ?? REASON_TEXT[code as Reason];
  if (t === undefined) throw new Error(`no sentence for reason ${code}`);
  return t;
}

const pdfText = (pdf: string): string => execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The number a tape prints on the row labelled `label` (the first such row after `from`). */
function row(tape: string, label: string, from = 0): number {
  const m = new RegExp(`^\\s*${escape(label)}\\s{2,}(\\d+)\\s*$`, 'm').exec(tape.slice(from));
  if (m?.[1] === undefined) throw new Error(`the tape has no "${label}" row${from > 0 ? ' there' : ''}:\n${tape.slice(from, from + 3000)}`);
  return Number(m[1]);
}

/** The value (text) a tape prints on the row labelled `label`. */
function rowText(tape: string, label: string): string {
  const m = new RegExp(`^\\s*${escape(label)}\\s{2,}(\\S.*?)\\s*$`, 'm').exec(tape);
  if (m?.[1] === undefined) throw new Error(`the tape has no "${label}" row:\n${tape}`);
  return m[1];
}

/** The rows indented under a total row (`Rejected`, `Returned to the voter`), as reason label → count. */
function reasonRows(tape: string, total: string): Map<string, number> {
  const lines = tape.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^(\\s*)${escape(total)}\\s{2,}\\d+\\s*$`).test(l));
  if (at < 0) throw new Error(`the tape has no "${total}" row:\n${tape}`);
  const indent = /^\s*/.exec(lines[at] ?? '')?.[0].length ?? 0;
  const out: [string, number][] = [];
  for (const l of lines.slice(at + 1)) {
    const lead = /^\s*/.exec(l)?.[0].length ?? 0;
    if (l.trim() === '' || lead <= indent) break;
    const m = /^\s*(\S.*?)\s{2,}(\d+)\s*$/.exec(l);
    const last = out[out.length - 1];
    // a long label wraps onto the next line, without the number
    if (m === null && last !== undefined) last[0] = `${last[0]} ${l.trim()}`;
    else if (m !== null) out.push([m[1] ?? '', Number(m[2])]);
    else break;
  }
  return new Map(out);
}

const count = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
const sumOf = (m: ReadonlyMap<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
const occurrences = (text: string, s: string): number => text.split(s).length - 1;

/** What the day must have done after each feed, kept as the walk goes (from the deck's plan alone). */
interface Expected {
  counted: number;
  castAsIs: number;
  returned: Map<string, number>;
  rejected: Map<string, number>;
  countedSheets: number[];
}

describe("the captain's election day on the staff and voter screens", () => {
  let station: StationProcess | undefined;
  let scanner: PtyScanner | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    if (station?.child.exitCode === null) station.child.kill('SIGKILL');
    await scanner?.stop();
  });

  test('zero tape before opening, every sheet kind of the demo deck on both screens, alarms cleared, pause and resume reports, close, results tape equal to the ledger tally', async () => {
    let began = Date.now();
    const phases: string[] = [];
    const phase = (name: string): void => {
      phases.push(`${name} ${Math.round((Date.now() - began) / 1000)} s`);
      began = Date.now();
    };
    const work = tempDir('captains-day');
    const shots = outputDir('captains-day');
    for (const f of fs.readdirSync(shots)) fs.rmSync(path.join(shots, f), { recursive: true, force: true });
    process.stdout.write(`captain's day: seed ${SEED}, work in ${work}\n`);

    // ---- the paper: the demo deck's pile, each kind once (feeds in the seed's order)
    const keys = writeTestKeys(work);
    const k = testKeys();
    const deckDir = path.join(work, 'deck');
    const { pile, truth } = await writeDemoDeck(deckDir, { election, publicKeys: k.public, privateKeys: k.private, precinctId: PRECINCT, seed: SEED, feeds: minimumFeeds(true), jobs: 2, jam: true });
    phase('deck');
    const spec = pileFaults(pile);
    const faults = spec === '' ? ok(noFaults) : parseFaultPlan(spec);
    if (!faults.ok) throw new Error(faults.error);
    scanner = await startPtyScanner(readDeck(path.join(deckDir, 'pile')), faults.value, path.join(work, 'pty'));
    const sc = scanner;
    const fed = pile.feeds.filter((f) => f.pulledInWithPrevious !== true);
    const sheetTruth = (f: PileFeed): TruthSheet => {
      const t = truth.sheets[f.sheet];
      if (t === undefined) throw new Error(`no truth for sheet ${f.sheet}`);
      return t;
    };

    // ---- the station
    const electionFile = path.join(work, 'municipal-es.json');
    fs.writeFileSync(electionFile, `${JSON.stringify(electionJson, null, 2)}\n`);
    const data = path.join(work, 'data');
    station = await startStationProcess(
      ['station', '--serial', sc.path, '--headless', '--port', '0', '--data', data, '--election', electionFile, '--keys', keys, '--precinct', PRECINCT],
      { TALLYPROOF_PINS: PINS_ENV, TALLYPROOF_STATION_PASSPHRASE: 'captains-day station passphrase' },
      work,
    );
    const st = station;
    phase('station start');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // limits, not timings: a shared machine under load can take seconds per step
    page.setDefaultTimeout(60_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const { look, visible, taken } = screenChecker(page, shots);
    const staffResult = (): Promise<string> => page.locator('#staff-result').innerText();
    const fileIn = (text: string): string => {
      const f = /File: (\S+\.pdf)/.exec(text)?.[1];
      if (f === undefined) throw new Error(`no PDF named in "${text}"`);
      return f;
    };
    const cue = (): Promise<string | null> => page.locator('body').getAttribute('data-last-cue');

    const want: Expected = { counted: 0, castAsIs: 0, returned: new Map(), rejected: new Map(), countedSheets: [] };
    /** the staff screen's counts as the deck says they must be now */
    const staffCounts = (): string[] => [
      `Ballots cast (this election)\n${want.counted}`,
      `Returned\n${sumOf(want.returned)}`,
      `Rejected\n${sumOf(want.rejected)}`,
      `Cast as is\n${want.castAsIs}`,
    ];
    let pauseReport = '';
    let resumeReport = '';
    let pausedAfter: Expected | undefined;
    const times: { opened?: [number, number]; closed?: [number, number]; paused?: [number, number]; resumed?: [number, number] } = {};
    const timed = async (fn: () => Promise<void>): Promise<[number, number]> => {
      const before = Date.now();
      await fn();
      return [before, Date.now()];
    };
    let zeroFile = '';
    let resultsFile = '';

    try {
      await page.goto(st.url);
      await look('01-not-open', ['This scanner is not open for voting.', `${def.election.title} · ${precinctName}`, 'Polls not open'], [PRECINCT]);

      // ---- the captain: opening refused before the zero tape, the zero tape, the opening with a yes
      await signIn(page, CAPTAIN, 'Precinct captain');
      await press(page, 'button[data-command="open-polls"]');
      await look('02-open-refused', ['Not done: the polls open only after the zero tape is printed', 'Polls not open', 'Print zero tape'], ['Open the polls?']);
      await press(page, 'button[data-command="print-zero-tape"]');
      await look('03-zero-tape', [/The zero tape is printed \(ledger head \d+\)\. File: \S+\.pdf/]);
      zeroFile = fileIn(await staffResult());
      await press(page, 'button[data-command="open-polls"]');
      await look('04-confirm-open', ['Open the polls?', 'Check first that every count on the zero tape is zero.', 'Yes, open the polls', 'No, go back', 'Polls not open']);
      times.opened = await timed(async () => {
        await answerYes(page);
        await look('05-polls-open', ['Polls open', 'Polls are open.', 'Pause scanning', 'Close polls'], ['Open polls']);
      });
      await signOut(page);
      await look('06-insert', ['Insert your ballot', `Ballots counted here: 0`]);

      // ---- the voters: each feed of the pile, what each screen says, what the poll worker does
      for (const [i, f] of fed.entries()) {
        const n = String(i + 1).padStart(2, '0');
        // ---- half way through the day the poll worker pauses scanning for a while, then resumes
        if (i === Math.floor(fed.length / 2)) {
          await signIn(page, POLL_WORKER, 'Poll worker');
          times.paused = await timed(async () => {
            await press(page, 'button[data-command="pause-polls"]');
            await look('p1-paused', ['Paused', 'Polls are paused: the scanner takes no ballots.', 'Resume scanning', /File: \S+\.pdf/]);
          });
          pauseReport = fileIn(await staffResult());
          await signOut(page);
          await look('p2-voter-paused', ['Scanning is paused.', 'Please ask a poll worker.', `Ballots counted here: ${want.counted}`], ['Insert your ballot']);
          await signIn(page, POLL_WORKER, 'Poll worker');
          times.resumed = await timed(async () => {
            await press(page, 'button[data-command="resume-polls"]');
            await look('p3-resumed', ['Polls open', 'Polls are open again.', 'Pause scanning', /File: \S+\.pdf/]);
          });
          resumeReport = fileIn(await staffResult());
          await signOut(page);
          pausedAfter = { ...want, returned: new Map(want.returned), rejected: new Map(want.rejected), countedSheets: [...want.countedSheets] };
        }
        const reason = f.expect?.reason;
        const outcome = f.expect?.outcome ?? 'counted';
        await sc.voterFeeds();
        const alarm = f.fault === 'jam@accepting' ? 'jam' : f.fault === 'double-sheet' ? 'double-sheet' : reason === 'scanner-streaks' ? 'streaks' : null;

        if (f.voter !== undefined) {
          // held: the voter reads why, the contests by their titles, and chooses
          const r = reasonText(reason ?? (sheetTruth(f).kind === 'blank' ? 'blank-ballot' : 'overvote'));
          const overvotedIds = Object.entries(sheetTruth(f).expected.contests).filter(([, c]) => c.overvote).map(([id]) => id);
          const overvoted = overvotedIds.map((id) => contestTitle.get(id) ?? id);
          if (f.voter === 'cast-as-is' && overvotedIds.length > 0) {
            // this voter reads Spanish: the contests and the precinct by the election's Spanish titles
            await press(page, 'button[data-lang="es"]');
            const es = overvotedIds.map((id) => spanishTitle.get(id) ?? id);
            const esPrecinct = def.precincts.find((p) => p.id === PRECINCT)?.names?.['es'] ?? '?';
            await look(`${n}a-held-es`, ['Su boleta todavía no fue contada', `${def.election.titles?.['es'] ?? '?'} · ${esPrecinct}`, `Contiendas: ${es.join('; ')}`, 'Depositar mi boleta tal como está'], [CONTEST_ID, ...overvoted, precinctName]);
            await press(page, '#btn-cast-as-is');
            await look(`${n}b-confirm-es`, ['¿Depositar esta boleta tal como está?', `Los votos en estas contiendas no contarán: ${es.join('; ')}.`, 'Sí, depositarla tal como está'], [CONTEST_ID, ...overvoted]);
            await answerYes(page);
            want.counted += 1;
            want.countedSheets.push(f.sheet);
            want.castAsIs += 1;
            await look(`${n}-counted-es`, ['Su boleta fue contada', `Boletas contadas aquí: ${want.counted}`]);
            // the next voter starts in the default language
            await look(`${n}-next-voter-en`, ['Insert your ballot', `${def.election.title} · ${precinctName}`, `Ballots counted here: ${want.counted}`], ['Boletas contadas']);
            await signIn(page, POLL_WORKER, 'Poll worker');
            await look(`${n}-staff`, [...staffCounts(), 'No alarms'], ['Clear alarm']);
            await signOut(page);
            continue;
          }
          await look(`${n}a-held`, ['Your ballot has not been counted yet', r.voter, ...(overvoted.length > 0 ? [`Contests: ${overvoted.join('; ')}`] : []), 'Return my ballot so I can fix it', 'Cast my ballot as it is'], [CONTEST_ID]);
          if (f.voter === 'return') {
            await press(page, '#btn-fix');
            await look(`${n}b-returned`, ['Your ballot was returned', 'Please take your ballot.', `Ballots counted here: ${want.counted}`]);
          } else {
            await press(page, '#btn-cast-as-is');
            await look(`${n}b-confirm`, ['Cast this ballot as it is?', overvoted.length > 0 ? `Votes in these contests will not count: ${overvoted.join('; ')}.` : 'The ballot will be counted as it is.', 'Yes, cast it as it is', 'No, go back'], [CONTEST_ID]);
            await answerYes(page);
          }
        }
        if (outcome === 'counted') {
          want.counted += 1;
          want.countedSheets.push(f.sheet);
          if (f.voter === 'cast-as-is') want.castAsIs += 1;
          await look(`${n}-counted`, ['Your ballot was counted', 'Thank you for voting.', `Ballots counted here: ${want.counted}`]);
        } else if (reason === undefined) throw new Error(`feed ${f.file} is ${outcome} with no reason in the plan`);
        else if (outcome === 'rejected') count(want.rejected, reason);
        // a sheet the voter takes back after a warning is the voter's choice, counted by that warning
        else count(want.returned, f.voter === 'return' ? `voter-returned:${reason}` : reason);

        if (alarm !== null) {
          // the feeder stopped: the voter waits for a poll worker, with the alarm's sound
          const r = reasonText(reason ?? '');
          const voterText = alarm === 'jam' ? ['Your ballot was not counted. Please wait: a poll worker will clear the scanner and tell you what to do.', 'Please wait: a poll worker is needed at the scanner.'] : ['Do not insert a ballot', r.voter];
          await look(`${n}-${alarm}-voter`, ['Please wait for a poll worker', ...voterText, `Ballots counted here: ${want.counted}`], ['Insert your ballot', 'Please take your ballot', /Ballot [0-9A-Z]{12}/]);
          expect({ feed: f.file, cue: await cue() }).toEqual({ feed: f.file, cue: 'alarm' });
        } else if (outcome === 'rejected') {
          await look(`${n}-rejected-${reason ?? ''}`, ['This ballot cannot be counted', reasonText(reason ?? '').voter, `Ballots counted here: ${want.counted}`], ['Cast my ballot as it is']);
        } else if (outcome === 'returned' && f.voter === undefined) {
          await look(`${n}-returned-${reason ?? ''}`, ['Your ballot was returned', reasonText(reason ?? '').voter, `Ballots counted here: ${want.counted}`]);
        }

        // the poll worker's screen: the counts, the sheet's reason in the poll worker's words, any alarm and what to do
        await signIn(page, POLL_WORKER, 'Poll worker');
        const pw = reason === undefined ? [] : [reasonText(reason).pollWorker];
        if (alarm === null) {
          await look(`${n}-staff`, [...staffCounts(), ...pw, 'No alarms', /Connected: \w/], ['Connected: the feeder is stopped', 'Clear alarm']);
        } else {
          const names = { jam: 'Paper jam', 'double-sheet': 'Two sheets fed at once', streaks: 'Streaks on the scanner glass: clean it' } as const;
          const todo = { jam: 'Open the cover and take the stuck sheet out of the paper path', 'double-sheet': 'Make sure the voter has both sheets back, then press "Clear alarm".', streaks: 'Clean the scanner glass with the cleaning sheet or a lint-free cloth, then press "Clear alarm".' } as const;
          const jamLine = alarm === 'jam' ? [/Attention: Ballot \S+ was not counted: the scanner stopped \(jam\)/] : [];
          await look(`${n}-${alarm}-staff`, [...staffCounts(), names[alarm], todo[alarm], 'Connected: the feeder is stopped', 'Clear alarm', ...jamLine], ['Connected: ready', 'No alarms']);
          if (alarm === 'jam') {
            // the poll worker opens the paper path and takes the ballot out; the instruction stays until cleared
            sc.simulator.clearJam();
            await look(`${n}-jam-path-clear`, ['No alarms', 'Clear alarm', ...jamLine], ['Paper jam']);
          }
          await press(page, 'button[data-command="clear-alarm"]');
          await look(`${n}-${alarm}-cleared`, ['Cleared.', 'No alarms'], [/Attention:/, names[alarm]]);
        }
        await signOut(page);
        // the next voter is not told to wait once the poll worker has dealt with the alarm
        if (alarm !== null) await look(`${n}-after-${alarm}`, [`Ballots counted here: ${want.counted}`], ['Please wait for a poll worker', 'Do not insert a ballot']);

      }

      // ---- the captain closes the polls (with a yes) and prints the results tape
      await signIn(page, CAPTAIN, 'Precinct captain');
      await look('c1-captain', [...staffCounts(), 'Close polls']);
      await press(page, 'button[data-command="close-polls"]');
      await look('c2-confirm-close', ['Close the polls?', 'This cannot be undone', 'Yes, close the polls', 'Polls open']);
      times.closed = await timed(async () => {
        await answerYes(page);
        await look('c3-closed', ['Polls closed', 'Polls are closed', 'Print results tape'], ['Close polls', 'Print zero tape']);
      });
      await press(page, 'button[data-command="print-results-tape"]');
      await look('c4-results-tape', [/The results tape is printed \(ledger head \d+\)\. File: \S+\.pdf/]);
      resultsFile = fileIn(await staffResult());
      await signOut(page);
      await look('c5-voter-closed', ['This scanner is not open for voting.', 'Polls closed', `Ballots counted here: ${want.counted}`]);
    } catch (e) {
      await page.screenshot({ path: path.join(shots, 'failed.png'), fullPage: true }).catch(() => undefined);
      const text = await visible().catch(() => '(page text unavailable)');
      throw new Error(`${(e as Error).message}\n--- screen:\n${text}\n--- station stderr:\n${st.stderr().slice(-4000)}`);
    }
    phase('walk');
    expect(errors).toEqual([]);
    expect(await st.stop()).toBe(0);

    // ---- the deck's plan itself: every kind of sheet was in the walk
    expect(new Set(fed.flatMap((f) => [f.expect?.reason, f.fault, f.voter].filter((x) => x !== undefined)))).toEqual(
      new Set(['overvote', 'return', 'cast-as-is', 'blank-ballot', 'wrong-election', 'wrong-precinct', 'counterfeit', 'duplicate', 'scanner-streaks', 'double-sheet', 'jam@accepting', 'scanner-stopped']),
    );

    // ---- the ledger, read by the auditor's command in its own process, against the deck's truth
    const run = await runCliProcess(['ledger', 'tally', '--data', data], work);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const tally = JSON.parse(run.stdout) as Tally;
    expect(tally.ballots).toMatchObject({ cast: want.counted, castAsIs: want.castAsIs, pending: 0 });
    for (const c of tally.contests) {
      const votes = Object.fromEntries(Object.keys(c.votes).map((o) => [o, 0]));
      let ballots = 0;
      let overvoted = 0;
      for (const s of want.countedSheets) {
        const tc = truth.sheets[s]?.expected.contests[c.id];
        if (tc === undefined) continue;
        ballots += 1;
        if (tc.overvote) overvoted += 1;
        else for (const o of tc.selections) votes[o] = (votes[o] ?? 0) + 1;
      }
      expect({ contest: c.id, ballots: c.ballots, overvoted: c.overvotedBallots, votes: c.votes }).toEqual({ contest: c.id, ballots, overvoted, votes });
    }

    // ---- the zero tape: all zero
    const zero = pdfText(zeroFile);
    fs.writeFileSync(path.join(shots, 'zero-tape.txt'), zero);
    expect(row(zero, 'Ballots cast')).toBe(0);

    // ---- the pause and resume reports: when, and the counts at that moment
    const paused = pdfText(pauseReport);
    const resumed = pdfText(resumeReport);
    fs.writeFileSync(path.join(shots, 'pause-report.txt'), paused);
    fs.writeFileSync(path.join(shots, 'resume-report.txt'), resumed);
    const within = (text: string, [from, to]: [number, number]): boolean => {
      // a tape prints the minute; any minute the action spanned will do
      for (let t = from - 60_000; t <= to + 60_000; t += 30_000) if (text === tapeTime(new Date(t).toISOString())) return true;
      return false;
    };
    const at = pausedAfter;
    if (at === undefined || times.paused === undefined || times.resumed === undefined || times.opened === undefined || times.closed === undefined) throw new Error('the walk did not pause, resume, open and close');
    for (const [report, title, label, when] of [
      [paused, 'POLLS PAUSED', 'Polls paused', times.paused],
      [resumed, 'POLLS RESUMED', 'Polls resumed', times.resumed],
    ] as const) {
      expect(report).toContain(title);
      expect({ title, at: within(rowText(report, label), when), opened: within(rowText(report, 'Polls opened'), times.opened) }).toEqual({ title, at: true, opened: true });
      expect({ title, cast: row(report, 'Ballots cast'), castAsIs: row(report, 'Cast as is'), returned: row(report, 'Returned to the voter'), rejected: row(report, 'Rejected'), recordedNotCounted: row(report, 'Recorded, not counted') }).toEqual({
        title,
        cast: at.counted,
        castAsIs: at.castAsIs,
        returned: sumOf(at.returned) - (at.returned.get('scanner-stopped') ?? 0),
        rejected: sumOf(at.rejected),
        recordedNotCounted: at.returned.get('scanner-stopped') ?? 0,
      });
      expect(occurrences(report, def.election.id)).toBe(1);
      expect(report).toMatch(/Poll worker: signature/);
    }

    // ---- the results tape: every number a captain signs, equal to the ledger's tally and to the deck
    const results = pdfText(resultsFile);
    fs.writeFileSync(path.join(shots, 'results-tape.txt'), results);
    expect(results).toMatch(/RESULTS TAPE\s+Polls closed: totals from the verified ledger\./);
    expect({ opened: within(rowText(results, 'Polls opened'), times.opened), closed: within(rowText(results, 'Polls closed'), times.closed) }).toEqual({ opened: true, closed: true });
    expect([rowText(results, 'Polls paused'), rowText(results, 'Polls resumed')]).toEqual([rowText(paused, 'Polls paused'), rowText(resumed, 'Polls resumed')]);
    // the zero tape it follows: that PDF's own SHA-256
    const zeroSha = createHash('sha256').update(fs.readFileSync(zeroFile)).digest('hex');
    const zeroAt = results.indexOf('Zero tape of this session');
    expect(zeroAt).toBeGreaterThan(0);
    expect(results.slice(zeroAt).replace(/\s+/g, '')).toContain(zeroSha);
    expect(row(results, 'Ledger entry', zeroAt)).toBeGreaterThan(0);
    expect({ cast: row(results, 'Ballots cast'), castAsIs: row(results, 'Cast as is'), recordedNotCounted: row(results, 'Recorded, not counted') }).toEqual({ cast: tally.ballots.cast, castAsIs: tally.ballots.castAsIs, recordedNotCounted: tally.ballots.returned });
    const labelled = (m: ReadonlyMap<string, number>): Map<string, number> => new Map([...m].map(([code, v]) => [reasonLabel(code), v]));
    const voterReturns = new Map([...want.returned].filter(([code]) => code !== 'scanner-stopped'));
    expect({ returned: row(results, 'Returned to the voter'), byReason: reasonRows(results, 'Returned to the voter') }).toEqual({ returned: sumOf(voterReturns), byReason: labelled(voterReturns) });
    expect({ rejected: row(results, 'Rejected'), byReason: reasonRows(results, 'Rejected') }).toEqual({ rejected: sumOf(want.rejected), byReason: labelled(want.rejected) });
    // the jammed ballot was recorded, then not counted; the tally says how many such
    const recorded = new Map([...want.returned].filter(([code]) => code === 'scanner-stopped'));
    expect(tally.ballots.returned).toBe(sumOf(recorded));
    expect(reasonRows(results, 'Recorded, not counted')).toEqual(labelled(recorded));
    // the tape holds the contests on this precinct's ballots; the ledger has no vote in any other
    const here = new Set(def.ballotStyles.filter((b) => b.precincts.includes(PRECINCT)).flatMap((b) => b.contests));
    const elsewhere = tally.contests.filter((c) => !here.has(c.id));
    expect(elsewhere.map((c) => ({ contest: c.id, ballots: c.ballots, onTape: results.includes(`\n${contestTitle.get(c.id) ?? '?'}\n`) }))).toEqual(elsewhere.map((c) => ({ contest: c.id, ballots: 0, onTape: false })));
    for (const c of tally.contests.filter((x) => here.has(x.id))) {
      const title = contestTitle.get(c.id) ?? '?';
      const start = results.indexOf(`\n${title}\n`);
      expect({ contest: c.id, onTape: start > 0 }).toEqual({ contest: c.id, onTape: true });
      const end = results.indexOf('Ballots with a marginal mark', start);
      const block = results.slice(start, end + 80);
      const optionCounts = block
        .slice(0, block.indexOf('Ballots with this contest'))
        .split('\n')
        .flatMap((l) => {
          const m = /\s{2,}(\d+)\s*$/.exec(l);
          return m?.[1] === undefined ? [] : [Number(m[1])];
        });
      const writeInRows = /Ballots with a write-in/.test(block) ? { writeIns: row(block, 'Ballots with a write-in') } : {};
      expect({ contest: c.id, votes: optionCounts, ballots: row(block, 'Ballots with this contest'), overvoted: row(block, 'Overvoted ballots'), undervoted: row(block, 'Undervoted ballots'), undervotes: row(block, 'Undervotes (unused votes)'), ...writeInRows }).toEqual({
        contest: c.id,
        votes: Object.values(c.votes),
        ballots: c.ballots,
        overvoted: c.overvotedBallots,
        undervoted: c.undervotedBallots,
        undervotes: c.undervotes,
        ...(Object.keys(writeInRows).length > 0 ? { writeIns: c.writeInBallots } : {}),
      });
    }
    // the station and the election named once each (a tape that repeats them is one a captain misreads)
    expect({ station: occurrences(results, tally.station), election: occurrences(results, def.election.id), precinct: occurrences(results, precinctName) }).toEqual({ station: 1, election: 1, precinct: 1 });
    for (const who of ['Precinct captain', 'Poll worker']) expect(results).toMatch(new RegExp(`${who}: printed name[\\s\\S]*?${who}: signature`));
    expect(occurrences(results, 'Poll worker: signature')).toBe(2);

    process.stdout.write(`captain's day screens in ${shots}: ${taken.length} screens; ${phases.join(', ')}, checks ${Math.round((Date.now() - began) / 1000)} s\n`);
  }, 480_000);
});
