/**
 * The kiosk page in Debian's chromium, driven by keyboard only, against the headless server and the
 * in-memory station double (the end-to-end test drives the real station).
 */
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serveStation, type StationServer } from '../../app/station/http-server';
import { StationDouble } from './station-double';
import { newKioskPage } from './support/kiosk-page';
import { outputDir } from '../support/ballots';

// kept after the run (a run's temporary directories are removed at its end): a person looks at them
const SHOTS = outputDir('kiosk-ui');

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
});
afterAll(async () => {
  await browser.close();
});

/** Presses Tab until the element matching `selector` has focus: what a keyboard user does. */
async function tabTo(page: Page, selector: string, max = 30): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${selector} is not reachable with Tab`);
}

/**
 * A staff member signs in on this browser and out again, as at the start of the day: the station takes the
 * voter's choices only from the browser staff signed in on (the page is loaded again to open its stream with
 * the cookie).
 */
async function becomeVoterScreen(page: Page): Promise<void> {
  const ok = await page.evaluate(`(async () => {
    const post = (p, b) => fetch(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) }).then((r) => r.json());
    const a = await post('/api/login', { role: 'poll-worker', pin: '1111' });
    const b = await post('/api/logout', {});
    return a.ok && b.ok;
  })()`);
  expect(ok).toBe(true);
  await page.reload();
  await page.locator('#voter-title').filter({ hasText: /\S/ }).waitFor();
}

/** Signs in by keyboard: `radioSteps` ArrowDowns from the poll worker to the role. */
async function signIn(page: Page, pin: string, radioSteps: number): Promise<void> {
  await tabTo(page, '#staff-button');
  await page.keyboard.press('Enter');
  for (let i = 0; i < radioSteps; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Tab');
  await page.keyboard.type(pin);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 2, name: radioSteps === 1 ? 'Precinct captain' : 'Poll worker' }).waitFor();
}

/** The polls opened behind the page's back (the screen follows the station's status events). */
async function openPolls(station: StationDouble): Promise<void> {
  await station.login({ role: 'captain', pin: '2222' });
  const r = await station.command({ command: 'open-polls', confirm: true });
  if (!r.ok) throw new Error(r.error.message);
  await station.logout();
}

// Expressions as strings: the tests compile for Node, without the DOM library the page has.
const focused = (page: Page) => page.evaluate<string>(`document.activeElement?.id || document.activeElement?.tagName || ''`);

describe('kiosk page, keyboard only', () => {
  let station: StationDouble;
  let server: StationServer;
  let page: Page;
  let consoleErrors: string[] = [];

  beforeEach(async () => {
    station = new StationDouble();
    server = await serveStation(station, { port: 0 });
    ({ page, consoleErrors } = await newKioskPage(browser));
    await page.goto(server.url);
    await page.getByRole('heading', { level: 2, name: 'This scanner is not open for voting.' }).waitFor();
  });
  afterEach(async () => {
    await page.close();
    await server.close();
  });

  test('captain signs in, opens polls; a ballot is counted; an overvote is cast as is after confirming', async () => {
    // Staff sign-in, all by keyboard.
    await tabTo(page, '#staff-button');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Staff sign-in' }).waitFor();
    expect(await focused(page)).toBe('INPUT');
    await page.keyboard.press('ArrowDown'); // poll worker → captain
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('pin');
    await page.keyboard.type('9999');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'That PIN is not right.' }).waitFor();
    expect(await focused(page)).toBe('pin');
    await page.keyboard.type('2222');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: 'Precinct captain' }).waitFor();
    expect(station.calls.filter((c) => c.method === 'login').map((c) => c.args)).toEqual([
      { role: 'captain', pin: '9999' },
      { role: 'captain', pin: '2222' },
    ]);

    await tabTo(page, 'button[data-command="open-polls"]');
    await page.keyboard.press(' ');
    // the station asks for the yes: the page puts the question, the safe answer first
    const ask = page.getByRole('alertdialog', { name: 'Open the polls?' });
    await ask.waitFor();
    await page.getByText('Check first that every count on the zero tape is zero.', { exact: false }).waitFor();
    expect(await focused(page)).toBe('btn-staff-confirm-no');
    expect(await page.locator('button[data-command="open-polls"]').isVisible()).toBe(false);
    await page.screenshot({ path: path.join(SHOTS, 'confirm-open.png') });
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('btn-staff-confirm-yes');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Done: open-polls' }).waitFor();
    expect(station.calls.filter((c) => c.method === 'command').map((c) => c.args)).toEqual([{ command: 'open-polls' }, { command: 'open-polls', confirm: true }]);
    // The pressed button went away with the state; focus lands on the outcome, not on <body>.
    expect(await focused(page)).toBe('staff-result');
    // Hidden controls are really gone (a CSS display rule must not override `hidden`).
    expect(await page.locator('#lookup-form').isVisible()).toBe(false);
    expect(await page.locator('button[data-command="open-polls"]').isVisible()).toBe(false);
    await page.getByText('Polls open', { exact: true }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'captain.png') });

    await tabTo(page, '#logout-button');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: 'Insert your ballot' }).waitFor();

    // A counted ballot: words, colour and a cue.
    station.feedCounted();
    await page.getByRole('heading', { level: 2, name: 'Your ballot was counted' }).waitFor();
    expect(await page.locator('#voter-panel').getAttribute('data-outcome')).toBe('counted');
    expect(await page.locator('body').getAttribute('data-last-cue')).toBe('counted');
    await page.getByText('Ballots counted here: 1').waitFor();

    // An overvote: the contest is named, the voter may fix or cast as is, casting asks once more.
    const held = station.feedOvervote('council-ward-1');
    await page.getByRole('heading', { level: 2, name: 'Your ballot has not been counted yet' }).waitFor();
    expect(await page.locator('body').getAttribute('data-last-cue')).toBe('returned');
    // the contest by the election's title, never by its ID
    await page.locator('#voter-reasons li', { hasText: 'Contests: City Council, Ward 1' }).waitFor();
    expect(await page.locator('body').innerText()).not.toContain('council-ward-1');
    expect(await page.locator('#voter-choices').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'overvote.png') });
    await tabTo(page, '#btn-cast-as-is');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('alertdialog', { name: 'Cast this ballot as it is?' });
    await dialog.waitFor();
    expect(await dialog.getAttribute('aria-modal')).toBe('true');
    expect(await page.locator('#voter-choices').isVisible()).toBe(false);
    await page.getByText('Votes in these contests will not count: City Council, Ward 1.', { exact: false }).waitFor();
    expect(await page.locator('body').innerText()).not.toContain('council-ward-1');
    expect(await focused(page)).toBe('btn-confirm-no'); // the safe answer is the default
    await page.screenshot({ path: path.join(SHOTS, 'confirm.png') });
    // Tab stays inside the dialog; Escape means no.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('btn-confirm-yes');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('btn-confirm-no');
    await page.keyboard.press('Escape');
    expect(await dialog.isHidden()).toBe(true);
    expect(station.calls.some((c) => c.method === 'voterDecision')).toBe(false);
    await tabTo(page, '#btn-cast-as-is');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: 'Your ballot was counted' }).waitFor();
    expect(station.calls.filter((c) => c.method === 'voterDecision').map((c) => c.args)).toEqual([{ sheetId: held.sheetId, decision: 'cast-as-is' }]);
    await page.getByText('Ballots counted here: 2').waitFor();
    expect(consoleErrors).toEqual([]);
  });

  test('a ballot cast as is while the scanner cannot drop it: the screen says it waits, with no buttons, until it is counted', async () => {
    await becomeVoterScreen(page);
    station.dropsWait = true;
    const held = station.feedOvervote('mayor');
    await page.getByRole('heading', { level: 2, name: 'Your ballot has not been counted yet' }).waitFor();
    await tabTo(page, '#btn-cast-as-is');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog', { name: 'Cast this ballot as it is?' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: 'Your ballot is waiting to go into the box' }).waitFor();
    await page.getByText('Leave the ballot where it is', { exact: false }).waitFor();
    expect(await page.locator('#voter-panel').getAttribute('data-outcome')).toBe('dropping');
    expect(await page.locator('#btn-cast-as-is').isVisible()).toBe(false);
    expect(await page.locator('#voter-choices').isVisible()).toBe(false);
    await page.screenshot({ path: path.join(SHOTS, 'dropping.png') });
    // it stays on screen past the time a returned sheet would be dismissed
    await page.waitForTimeout(16_000);
    expect(await page.locator('#voter-panel').getAttribute('data-outcome')).toBe('dropping');
    await page.getByText('Ballots counted here: 0').waitFor();
    station.dropWaiting();
    await page.getByRole('heading', { level: 2, name: 'Your ballot was counted' }).waitFor();
    await page.getByText('Ballots counted here: 1').waitFor();
    expect(station.calls.filter((c) => c.method === 'voterDecision').map((c) => c.args)).toEqual([{ sheetId: held.sheetId, decision: 'cast-as-is' }]);
    expect(consoleErrors).toEqual([]);
  });

  test('Spanish from the language button, for the screens and the reasons', async () => {
    station.feedRejected();
    await page.getByRole('heading', { level: 2, name: 'This ballot cannot be counted' }).waitFor();
    await page.getByText('This ballot is for another election.').waitFor();
    await tabTo(page, 'button[data-lang="es"]');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: 'Esta boleta no se puede contar' }).waitFor();
    await page.getByText('Esta boleta es de otra elección.').waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('es');
    expect(await page.getByRole('button', { name: 'Español' }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.title()).toBe('Escáner de boletas Tallyproof');
    await page.getByRole('button', { name: 'Personal' }).waitFor();
    expect(consoleErrors).toEqual([]);
  });

  test("Spanish titles from the election where it gives them, the default language's where it does not", async () => {
    await tabTo(page, 'button[data-lang="es"]');
    await page.keyboard.press('Enter');
    // the election's Spanish title; the precinct has no Spanish name: its own name, never its ID
    await page.getByText('Elección Municipal General · Precinct 101 – Old Town', { exact: true }).waitFor();
    station.feedOvervote('mayor', 'council-ward-1');
    await page.locator('#voter-reasons li', { hasText: 'Contiendas: Alcaldía; City Council, Ward 1' }).waitFor();
    await tabTo(page, '#btn-cast-as-is');
    await page.keyboard.press('Enter');
    await page.getByText('Los votos en estas contiendas no contarán: Alcaldía; City Council, Ward 1.', { exact: false }).waitFor();
    // back in English, the English titles
    await page.keyboard.press('Escape');
    await tabTo(page, 'button[data-lang="en"]');
    await page.keyboard.press('Enter');
    await page.locator('#voter-reasons li', { hasText: 'Contests: Mayor; City Council, Ward 1' }).waitFor();
    await page.getByText('Municipal General Election · Precinct 101 – Old Town', { exact: true }).waitFor();
    expect(await page.locator('body').innerText()).not.toMatch(/\bmayor\b|council-ward-1|Alcaldía/);
    expect(consoleErrors).toEqual([]);
  });

  test('the precinct by its name; the captain can say no to closing the polls, and nothing is sent', async () => {
    await page.getByText('Municipal General Election · Precinct 101 – Old Town', { exact: true }).waitFor();
    expect(await page.locator('body').innerText()).not.toContain('p-101');
    // titles hold commas: a list of them is told apart with semicolons
    station.feedOvervote('mayor', 'council-ward-1');
    await page.locator('#voter-reasons li', { hasText: 'Contests: Mayor; City Council, Ward 1' }).waitFor();
    await station.voterDecision({ sheetId: station.status().sheet?.sheetId ?? '', decision: 'return' });
    await openPolls(station);
    await signIn(page, '2222', 1);
    await tabTo(page, 'button[data-command="close-polls"]');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog', { name: 'Close the polls?' }).waitFor();
    await page.getByText('This cannot be undone', { exact: false }).waitFor();
    await page.keyboard.press('Escape');
    expect(await page.getByRole('alertdialog').isHidden()).toBe(true);
    expect(await focused(page)).toBe('BUTTON');
    expect(await page.evaluate('document.activeElement.dataset.command')).toBe('close-polls');
    expect(station.status().polls).toBe('open');
    // yes, this time
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog', { name: 'Close the polls?' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Polls closed', { exact: true }).waitFor();
    expect(station.calls.filter((c) => c.method === 'command').map((c) => c.args).slice(-3)).toEqual([{ command: 'close-polls' }, { command: 'close-polls' }, { command: 'close-polls', confirm: true }]);
    expect(consoleErrors).toEqual([]);
  });

  test("a slow status answer: a command's outcome shows only with the state it made, and the keyboard is on it", async () => {
    await signIn(page, '2222', 1);
    // The station answers the command at once and its status slowly (a loaded station): the page must not
    // report "Done" while the screen still shows the button that was pressed, with focus left on <body>.
    await page.route('**/api/status', async (route) => {
      await new Promise((r) => setTimeout(r, 800));
      await route.continue();
    });
    await tabTo(page, 'button[data-command="open-polls"]');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog', { name: 'Open the polls?' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Done: open-polls' }).waitFor();
    expect(await focused(page)).toBe('staff-result');
    expect(await page.locator('button[data-command="open-polls"]').isVisible()).toBe(false);
    expect(await page.getByText('Polls open', { exact: true }).isVisible()).toBe(true);
    await page.unroute('**/api/status');
    expect(consoleErrors).toEqual([]);
  });

  test.each(['streaks', 'jam', 'double-sheet', 'cover-open', 'box-full', 'disconnected'] as const)(
    'the %s alarm: the voter is asked to wait for a poll worker, with the cue; the poll worker sees it and what to do',
    async (alarm) => {
      await openPolls(station);
      await page.getByRole('heading', { level: 2, name: 'Insert your ballot' }).waitFor();
      station.raiseAlarm(alarm);
      await page.getByRole('heading', { level: 2, name: 'Please wait for a poll worker' }).waitFor();
      expect(await page.locator('body').getAttribute('data-last-cue')).toBe('alarm');
      expect(await page.locator('#voter-panel').getAttribute('data-outcome')).toBe('wait');
      const voterText = await page.locator('body').innerText();
      expect(voterText).toContain('Do not insert a ballot');
      expect(voterText).not.toContain('Insert your ballot');
      if (alarm === 'streaks') await page.screenshot({ path: path.join(SHOTS, 'voter-wait-streaks.png') });
      await signIn(page, '1111', 0);
      const todo = { streaks: 'Clean the scanner glass', jam: 'take the stuck sheet out', 'double-sheet': 'has both sheets back', 'cover-open': 'Close the scanner cover', 'box-full': 'Empty the ballot box', disconnected: 'Check the scanner’s power and its cable' }[alarm];
      await page.locator(`#alarms li[data-alarm="${alarm}"]`, { hasText: todo }).waitFor();
      const staffText = await page.locator('body').innerText();
      expect(staffText).not.toContain('Connected: idle');
      expect(staffText).toContain(alarm === 'disconnected' ? 'Not connected' : 'Connected: the feeder is stopped until the alarm below is dealt with');
      if (alarm === 'streaks') await page.screenshot({ path: path.join(SHOTS, 'staff-alarm-streaks.png') });
      await tabTo(page, 'button[data-command="clear-alarm"]');
      await page.keyboard.press('Enter');
      await page.getByText('No alarms').waitFor();
      await tabTo(page, '#logout-button');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 2, name: 'Insert your ballot' }).waitFor();
      expect(consoleErrors).toEqual([]);
    },
  );

  test('a voter’s language and text size end with their counted ballot: the next voter starts in English at the normal size', async () => {
    await openPolls(station);
    await page.getByRole('heading', { level: 2, name: 'Insert your ballot' }).waitFor();
    await page.getByRole('group', { name: 'Text size' }).waitFor();
    await tabTo(page, 'button[data-lang="es"]');
    await page.keyboard.press('Enter');
    await tabTo(page, 'button[data-size="largest"]');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: 'Introduzca su boleta' }).waitFor();
    expect(await page.evaluate('document.documentElement.dataset.textSize')).toBe('largest');
    expect(await page.evaluate('getComputedStyle(document.documentElement).fontSize')).toBe('36px');
    expect(await page.getByRole('button', { name: 'Texto más grande' }).getAttribute('aria-pressed')).toBe('true');
    // the voter's ballot is counted, in the voter's language and size
    station.feedCounted();
    await page.getByRole('heading', { level: 2, name: 'Su boleta fue contada' }).waitFor();
    expect(await page.evaluate('document.documentElement.dataset.textSize')).toBe('largest');
    // the next voter's sheet: English, normal size
    station.feedRejected();
    await page.getByRole('heading', { level: 2, name: 'This ballot cannot be counted' }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('en');
    expect(await page.evaluate('document.documentElement.dataset.textSize ?? null')).toBeNull();
    expect(await page.evaluate('getComputedStyle(document.documentElement).fontSize')).toBe('24px');
    expect(await page.getByRole('button', { name: 'English' }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByRole('button', { name: 'Normal text' }).getAttribute('aria-pressed')).toBe('true');

    // and when nobody comes: the counted message goes by itself, and the choices with it
    await tabTo(page, 'button[data-lang="es"]');
    await page.keyboard.press('Enter');
    await tabTo(page, 'button[data-size="large"]');
    await page.keyboard.press('Enter');
    station.feedCounted();
    await page.getByRole('heading', { level: 2, name: 'Su boleta fue contada' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Insert your ballot' }).waitFor();
    expect(await page.evaluate('document.documentElement.dataset.textSize ?? null')).toBeNull();
    expect(consoleErrors).toEqual([]);
  });

  test('landmarks, names and roles a screen reader needs', async () => {
    await page.getByRole('banner').waitFor();
    await page.getByRole('main').waitFor();
    await page.getByRole('region', { name: 'This scanner is not open for voting.' }).waitFor();
    await page.getByRole('group', { name: 'Language' }).waitFor();
    expect(await page.getByRole('status').first().textContent()).toBe('Polls not open');
    expect(await page.locator('[aria-live="assertive"]').count()).toBe(1);
    await page.getByRole('button', { name: 'Staff' }).click();
    await page.getByRole('radiogroup').or(page.getByRole('group', { name: 'Who are you?' })).first().waitFor();
    await page.getByRole('radio', { name: 'Precinct captain' }).waitFor();
    await page.getByLabel('PIN').waitFor();
    // No element is reachable only by mouse: everything clickable is a native button, input or link.
    const mouseOnly = await page.evaluate(`document.querySelectorAll('[onclick], div[role=button], span[role=button]').length`);
    expect(mouseOnly).toBe(0);
  });

  test('alarms show for the poll worker, who clears them; captain commands stay hidden', async () => {
    await signIn(page, '1111', 0);
    expect(await page.locator('button[data-command="open-polls"]').isHidden()).toBe(true);
    station.raiseAlarm('jam');
    await page.getByText('Paper jam').waitFor();
    await tabTo(page, 'button[data-command="clear-alarm"]');
    await page.keyboard.press('Enter');
    await page.getByText('No alarms').waitFor();
    expect(station.calls.filter((c) => c.method === 'command').map((c) => c.args)).toEqual([{ command: 'clear-alarm' }]);
  });

  test('a poll worker prints another copy of the last tape from the staff screen', async () => {
    await signIn(page, '1111', 0);
    const before = station.calls.filter((c) => c.method === 'command').length;
    await tabTo(page, 'button[data-command="reprint-tape"]');
    expect(await page.locator('button[data-command="reprint-tape"]').textContent()).toBe('Print another copy of the last tape');
    await page.keyboard.press('Enter');
    await page.getByText('Done: reprint-tape').waitFor();
    expect(station.calls.filter((c) => c.method === 'command').slice(before).map((c) => c.args)).toEqual([{ command: 'reprint-tape' }]);
  });
});

describe('auditor screen', () => {
  test('verify, export and a ballot lookup by keyboard; no captain commands', async () => {
    const station = new StationDouble();
    const server = await serveStation(station, { port: 0 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(60_000);
    try {
      await page.goto(server.url);
      await tabTo(page, '#staff-button');
      await page.keyboard.press('Enter');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Tab');
      await page.keyboard.type('3333');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 2, name: 'Auditor' }).waitFor();
      expect(await page.locator('button[data-command="close-polls"]').isVisible()).toBe(false);
      await tabTo(page, 'button[data-command="verify-ledger"]');
      await page.keyboard.press('Enter');
      await page.getByRole('status').filter({ hasText: 'Done: verify-ledger' }).waitFor();
      await tabTo(page, '#lookup-id');
      await page.keyboard.type('KNOWN');
      await page.keyboard.press('Enter');
      await page.getByText('Ballot KNOWN: cast, batch 1').waitFor();
      await page.locator('#lookup-id').fill('');
      await tabTo(page, '#lookup-id');
      await page.keyboard.type('NOPE');
      await page.keyboard.press('Enter');
      await page.getByText('Ballot NOPE: not found').waitFor();
      expect(station.calls.filter((c) => c.method === 'lookupBallot').map((c) => c.args)).toEqual([{ ballotId: 'KNOWN' }, { ballotId: 'NOPE' }]);
    } finally {
      await page.close();
      await server.close();
    }
  });
});

afterAll(() => {
  // Kept for a person to look at; the path is printed once.
  process.stdout.write(`kiosk screenshots in ${SHOTS}\n`);
});
