/**
 * Staff sign-ins in Debian's chromium against the real station behind the headless server: a sign-in
 * belongs to the browser that made it (another browser on the same station sees nobody signed in and no
 * staff controls), and one nobody uses ends by itself after the station's idle time (set short here).
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { serveStation, type StationServer } from '../../app/station/http-server';
import type { Rig } from '../station/support/rig';
import { PINS, startRig, writeSheets } from '../station/support/rig';

let browser: Browser;
let rig: Rig;
let server: StationServer;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser.close();
});
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
  await server.close();
  await rig.stop();
});

async function start(idleSeconds: number): Promise<void> {
  rig = await startRig({ deck: (await writeSheets([{ kind: 'normal' }])).dir, staffIdleSignOutSeconds: idleSeconds });
  server = await serveStation(rig.station, { port: 0 });
}

/** A browser of its own (its own cookies), on the kiosk page. */
async function openBrowser(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  // Limits, not timings: a shared 2-core machine under load can take many seconds per step.
  page.setDefaultTimeout(60_000);
  await page.goto(server.url);
  await page.getByRole('heading', { level: 2, name: 'This scanner is not open for voting.' }).waitFor();
  return page;
}

async function signIn(page: Page, pin: string): Promise<void> {
  await page.locator('#staff-button').click();
  await page.getByRole('heading', { name: 'Staff sign-in' }).waitFor();
  await page.locator('#pin').fill(pin);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 2, name: 'Poll worker' }).waitFor();
}

/** Tries a PIN for the captain and returns what the sign-in form says. */
async function tryCaptain(page: Page, pin: string): Promise<string> {
  await page.locator('input[name=role][value=captain]').check();
  await page.locator('#pin').fill(pin);
  await page.keyboard.press('Enter');
  await page.locator('#login-error').filter({ hasText: /\S/ }).waitFor();
  const text = (await page.locator('#login-error').textContent()) ?? '';
  await page.evaluate(`document.getElementById('login-error').textContent = ''`);
  return text;
}

/** What the top bar and the command area show: who is signed in, and which staff buttons are there. */
async function staffControls(page: Page): Promise<{ roleLine: string | null; logout: boolean; commands: string[] }> {
  const commands: string[] = [];
  for (const b of await page.locator('#commands button').all()) if (await b.isVisible()) commands.push((await b.getAttribute('data-command')) ?? '');
  return {
    roleLine: (await page.locator('#role-line').isVisible()) ? await page.locator('#role-line').textContent() : null,
    logout: await page.locator('#logout-button').isVisible(),
    commands,
  };
}

describe('staff sign-ins in the browser', () => {
  test('a sign-in belongs to one browser: another sees nobody signed in and no staff controls, and must sign in itself', async () => {
    await start(600);
    const staff = await openBrowser();
    const other = await openBrowser();
    await signIn(staff, PINS['poll-worker']);
    expect(await staffControls(staff)).toMatchObject({ roleLine: 'Signed in: Poll worker', logout: true });

    // the other browser, loaded afresh after the sign-in, and one that was open before it
    const late = await openBrowser();
    for (const page of [other, late]) {
      await page.getByRole('heading', { level: 2, name: 'This scanner is not open for voting.' }).waitFor();
      expect(await staffControls(page)).toEqual({ roleLine: null, logout: false, commands: [] });
      // the Staff button asks for a PIN: it never opens the signed-in browser's staff screen
      await page.locator('#staff-button').click();
      await page.getByRole('heading', { name: 'Staff sign-in' }).waitFor();
      expect(await page.locator('#screen-staff').isVisible()).toBe(false);
      await page.locator('#login-cancel').click();
    }
    // and the signed-in browser is still signed in
    expect(rig.station.status().role).toBe('poll-worker');
    expect(await staffControls(staff)).toMatchObject({ roleLine: 'Signed in: Poll worker', logout: true });
  });

  test("wrong PINs lock only that role's sign-in: the form says for how long, and the staff screen shows until when", async () => {
    await start(600);
    const page = await openBrowser();
    await page.locator('#staff-button').click();
    await page.getByRole('heading', { name: 'Staff sign-in' }).waitFor();
    for (let i = 1; i < 5; i++) expect(await tryCaptain(page, '9999')).toContain(`${i} of 5`);
    expect(await tryCaptain(page, '9999')).toMatch(/the captain sign-in is locked for 1 min \(until .*\); each further wrong PIN doubles the wait/);
    expect(await tryCaptain(page, PINS.captain)).toMatch(/locked after 5 wrong PINs: try again in (1 min|\d+ s) \(at /);
    // the poll worker still signs in, and sees the captain's lock-out
    await page.locator('#login-cancel').click();
    await signIn(page, PINS['poll-worker']);
    const until = rig.station.status().lockedOut.captain;
    if (until === undefined) throw new Error('the captain is not locked out');
    const shown = new Date(until).toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit' });
    await page.locator('#staff-lockouts').filter({ hasText: `Precinct captain: sign-in locked after wrong PINs until ${shown}.` }).waitFor();
  });

  test('a sign-in nobody uses ends by itself after the idle time: the screen goes back to the voter', async () => {
    await start(10);
    const page = await openBrowser();
    await signIn(page, PINS['poll-worker']);
    // no timing is asserted: the station ends the sign-in, and the page follows its status
    await page.getByRole('heading', { level: 2, name: 'This scanner is not open for voting.' }).waitFor({ timeout: 60_000 });
    expect(await staffControls(page)).toEqual({ roleLine: null, logout: false, commands: [] });
    expect(rig.station.status().role).toBeNull();
    // signing in again works
    await signIn(page, PINS['poll-worker']);
  });
});
