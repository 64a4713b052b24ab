/**
 * The captain's county line in Debian's chromium, on real parts (issue 16, "Stations report"): a county log
 * with its witness serving on loopback in this process (test/county/station-support.ts), `tallyproof station
 * --headless --simulate … --county <file>` as a child process (real station service, SQLite ledger, reader,
 * the reporter), the kiosk page driven by keyboard. The captain prints the zero tape, opens the polls,
 * ballots are counted, the captain closes the polls (which signs the day's checkpoint), and the staff screen
 * must follow the report: to "Reported to county: M of M checkpoints (M proven)." with M the ledger's signed
 * checkpoints; with the log down at the close, what holds the report up and no claim of proven, then proven
 * once the log is back, without a restart; with a log that does not know the station, the refusal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { StationRegistry } from '../../app/county/log/station-entry';
import { formatVerifierKey } from '../../app/county/tlog/note';
import { dataLayout } from '../../app/ledger/layout';
import { openDb } from '../../app/ledger/storage';
import { outputDir, tempDir, writeTestKeys } from '../support/ballots';
import { ORIGIN, electionHashOf, logKey, startCounty, stationWithKey, witnessKey, type RunningCounty } from '../county/station-support';
import { ELECTION, PASSPHRASE, PRECINCT, writeSheets } from '../station/support/rig';
import { watchCountyLine, type CountyLine } from './support/county-line';
import { startLogGate } from './support/log-gate';
import { CAPTAIN, PINS_ENV, answerYes, newKioskPage, press, screenChecker, signIn, type Expect } from './support/kiosk-page';
import { startStationProcess, type StationProcess } from './support/station-process';

jest.setTimeout(120_000);

const STATION = `station-${PRECINCT}`;
const ELECTION_HASH = electionHashOf(ELECTION);
/** How long the line may take to follow the log: limits, not timings (a loaded 2-core machine is slow). */
const LIMIT_MS = 45_000;

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
});

let cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const registryOf = (...stations: { station: string; publicKey: string }[]): StationRegistry => ({ format: 'tallyproof-county-stations/1', election: ELECTION_HASH, mode: 'official', stations });

async function county(dir: string, registry: StationRegistry, port = 0): Promise<RunningCounty> {
  const c = await startCounty(dir, registry, port);
  cleanup.push(() => c.stop());
  return c;
}

/** The batches of the checkpoints the station signed, read from its official ledger (read-only, beside the running station). */
function signedBatches(dataDir: string): number[] {
  const db = openDb(dataLayout(dataDir).ledger('official'), { readonly: true });
  try {
    return (db.prepare('SELECT batch FROM checkpoints ORDER BY batch').all() as { batch: number }[]).map((r) => r.batch);
  } finally {
    db.close();
  }
}

const line = (reported: number, total: number, proven: number): string => `Reported to county: ${reported} of ${total} checkpoints (${proven} proven).`;
/** what the line adds while the station's report is in flight (app/county/report/station-reporter.ts), as a sentence */
const SENDING = 'The station is sending to the county log.';
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Day {
  readonly station: StationProcess;
  readonly page: Page;
  readonly county: CountyLine;
  readonly consoleErrors: string[];
  look(name: string, expected: readonly Expect[], absent?: readonly Expect[]): Promise<string>;
  /** runs a step; a failure carries the screen and the station's output */
  step<T>(what: Promise<T>): Promise<T>;
}

/**
 * The day up to the close: the station with the county setting pointing at `logUrl`, the captain signed in
 * on the page (the county line watched from then on), the zero tape, the polls open, `ballots` counted.
 */
async function dayUntilClose(name: string, dataDir: string, logUrl: string, ballots: number): Promise<Day> {
  const work = tempDir(`kiosk-county-${name}`);
  const keys = writeTestKeys(work);
  fs.mkdirSync(path.join(work, 'deck'));
  const deck = await writeSheets(
    Array.from({ length: ballots }, (_, n) => ({ kind: 'normal' as const, n })),
    path.join(work, 'deck'),
  );
  const countyFile = path.join(work, 'county.json');
  fs.writeFileSync(countyFile, JSON.stringify({ log: logUrl, logKey: formatVerifierKey(logKey), witnesses: [formatVerifierKey(witnessKey)], quorum: 1 }));
  const args = ['station', '--simulate', deck.dir, '--simulate-timings', 'zero', '--headless', '--port', '0', '--data', dataDir, '--election', ELECTION, '--keys', keys, '--precinct', PRECINCT, '--county', countyFile];
  const station = await startStationProcess(args, { TALLYPROOF_PINS: PINS_ENV, TALLYPROOF_STATION_PASSPHRASE: PASSPHRASE }, work);
  cleanup.push(async () => {
    if (station.child.exitCode === null) station.child.kill('SIGKILL');
    await station.exited;
  });
  const { page, consoleErrors } = await newKioskPage(browser);
  cleanup.push(() => page.close());
  const shots = outputDir(`kiosk-county-report/${name}`);
  for (const f of fs.readdirSync(shots)) if (f.endsWith('.png')) fs.rmSync(path.join(shots, f));
  const { look, visible } = screenChecker(page, shots, LIMIT_MS);
  const step = async <T,>(what: Promise<T>): Promise<T> => {
    try {
      return await what;
    } catch (e) {
      await page.screenshot({ path: path.join(shots, 'failed.png'), fullPage: true }).catch(() => undefined);
      const text = await visible().catch(() => '(page text unavailable)');
      throw new Error(`${(e as Error).message}\n--- screen:\n${text}\n--- station stdout:\n${station.stdout().slice(-3000)}\n--- station stderr:\n${station.stderr().slice(-3000)}`);
    }
  };
  const countyLine = await step(
    (async () => {
      await page.goto(station.url);
      await signIn(page, CAPTAIN, 'Precinct captain');
      const watched = await watchCountyLine(page);
      await press(page, 'button[data-command="print-zero-tape"]');
      await page.getByText(/The zero tape is printed/).waitFor();
      await press(page, 'button[data-command="open-polls"]');
      await page.getByRole('alertdialog', { name: 'Open the polls?' }).waitFor();
      await answerYes(page);
      await page.locator('#polls-badge', { hasText: 'Polls open' }).waitFor();
      // the simulated feeder takes the whole deck once the polls open
      await page.locator('dd[data-count="counts.public"]', { hasText: new RegExp(`^${ballots}$`) }).waitFor();
      return watched;
    })(),
  );
  return { station, page, county: countyLine, consoleErrors, look, step };
}

async function closePolls(d: Day): Promise<void> {
  await d.step(
    (async () => {
      await press(d.page, 'button[data-command="close-polls"]');
      await d.page.getByRole('alertdialog', { name: 'Close the polls?' }).waitFor();
      await answerYes(d.page);
      await d.page.locator('#polls-badge', { hasText: 'Polls closed' }).waitFor();
    })(),
  );
}

/** Every line the screen showed reads N of M (P proven) with P ≤ N ≤ M ≤ the ledger's, and never goes back. */
function expectOnlyForward(seen: readonly string[], signed: number): void {
  let last = { reported: 0, total: 0, proven: 0 };
  for (const l of seen) {
    const m = /^Reported to county: (\d+) of (\d+) checkpoints \((\d+) proven\)\./.exec(l);
    if (m === null) throw new Error(`the county line reads ${JSON.stringify(l)}`);
    const now = { reported: Number(m[1]), total: Number(m[2]), proven: Number(m[3]) };
    expect(now.proven).toBeLessThanOrEqual(now.reported);
    expect(now.reported).toBeLessThanOrEqual(now.total);
    expect(now.total).toBeLessThanOrEqual(signed);
    expect(now.reported).toBeGreaterThanOrEqual(last.reported);
    expect(now.proven).toBeGreaterThanOrEqual(last.proven);
    expect(now.total).toBeGreaterThanOrEqual(last.total);
    last = now;
  }
}

test('the log up: after the close the captain sees the day\'s checkpoints counted at once, sent, then reported and proven, as many as the ledger signed', async () => {
  const { dataDir, station } = stationWithKey(STATION, PASSPHRASE);
  const log = await county(tempDir('kiosk-county-log'), registryOf(station));
  // the log answers a submission once a round has integrated it: the gate holds it meanwhile
  const gate = await startLogGate(log.server.url);
  cleanup.push(() => gate.close());
  const d = await dayUntilClose('log-up', dataDir, gate.url, 3);
  // the day's checkpoint comes with the close: nothing is owed before
  expect(await d.county.now()).toBe(line(0, 0, 0));
  await closePolls(d);
  const batches = signedBatches(dataDir);
  const m = batches.length;
  expect(m).toBeGreaterThan(0);
  // while the log has not answered, the screen counts the signed checkpoint and says it is being sent
  await d.step(gate.posted);
  const sending = `${line(0, m, 0)} ${SENDING}`;
  await d.step(d.county.until(sending, LIMIT_MS));
  await d.step(d.look('sending', ['Polls closed', sending]));
  gate.open();
  await d.step(d.county.until(line(m, m, m), LIMIT_MS));
  await d.step(d.look('proven', ['Polls closed', line(m, m, m)]));
  const seen = await d.county.seen();
  expectOnlyForward(seen, m);
  // once the polls closed the screen never went back to saying that nothing was owed
  expect(seen.slice(seen.indexOf(sending))).not.toContain(line(0, 0, 0));
  // the log holds them, in a checkpoint its witness cosigned
  expect(log.county.log.size).toBe(m);
  expect(log.county.publishedTreeSize).toBe(m);
  expect(d.consoleErrors).toEqual([]);
  expect(await d.station.stop()).toBe(0);
});

test('the log down at the close: the screen says what holds the report up and claims no proof; the log back, the line reaches proven without a restart', async () => {
  const { dataDir, station } = stationWithKey(STATION, PASSPHRASE);
  const logDir = tempDir('kiosk-county-log');
  const registry = registryOf(station);
  const first = await county(logDir, registry);
  const port = Number(new URL(first.server.url).port);
  const d = await dayUntilClose('log-down', dataDir, first.server.url, 1);
  // the county's machine goes off before the polls close
  await first.stop();
  await closePolls(d);
  const batches = signedBatches(dataDir);
  const m = batches.length;
  expect(m).toBeGreaterThan(0);
  const held = new RegExp(`^${escape(line(0, m, 0))} Batch ${batches[m - 1]}: the county log cannot be reached \\(ECONNREFUSED\\); the station keeps trying\\.$`, 'm');
  await d.step(d.county.until(held, LIMIT_MS));
  await d.step(d.look('down-held', ['Polls closed', held], [`(${m} proven)`]));
  const whileDown = await d.county.seen();
  for (const l of whileDown) expect(l).not.toMatch(/\([1-9]\d* proven\)/);

  // the county's machine comes back on the same address, with the same log: the station's retries find it
  const back = await county(logDir, registry, port);
  await d.step(d.county.until(line(m, m, m), LIMIT_MS));
  await d.step(d.look('back-proven', ['Polls closed', line(m, m, m)]));
  const seen = await d.county.seen();
  expect(seen.slice(0, whileDown.length)).toEqual(whileDown);
  expectOnlyForward(seen, m);
  expect(back.county.log.size).toBe(m);
  expect(d.consoleErrors).toEqual([]);
  // the station had not stopped: the report went through in the process that signed it
  expect(d.station.child.exitCode).toBeNull();
  for (const b of batches) expect(d.station.stderr()).toMatch(new RegExp(`county: batch ${b} proven in ${escape(ORIGIN)} checkpoint`));
  expect(await d.station.stop()).toBe(0);
});

test('a log that does not know the station: the screen says the county refused it, and claims nothing reported', async () => {
  const { dataDir } = stationWithKey(STATION, PASSPHRASE);
  // the county registered another precinct's station, not this one
  const other = stationWithKey('station-p-102', PASSPHRASE);
  const log = await county(tempDir('kiosk-county-log'), registryOf(other.station));
  const d = await dayUntilClose('refused', dataDir, log.server.url, 1);
  await closePolls(d);
  const batches = signedBatches(dataDir);
  const m = batches.length;
  expect(m).toBeGreaterThan(0);
  const refused = `${line(0, m, 0)} Batch ${batches[m - 1]}: the county log refused the checkpoint (403 unknown-station: station "${STATION}" is not registered for this election); call the election office.`;
  await d.step(d.county.until(refused, LIMIT_MS));
  await d.step(d.look('refused', ['Polls closed', refused]));
  expectOnlyForward(await d.county.seen(), m);
  expect(log.county.log.size).toBe(0);
  expect(d.consoleErrors).toEqual([]);
  expect(await d.station.stop()).toBe(0);
});
