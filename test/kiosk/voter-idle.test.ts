/**
 * The walk-away voter, in Debian's chromium against the headless server and the station double: a voter who
 * changes the language and text size and leaves without feeding a ballot must not leave them to the next
 * voter. The idle time is shortened through the page's `voter-idle` parameter (the Electron app passes
 * station.json `voterIdleResetSeconds` the same way) instead of waiting the default minute.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { serveStation, type StationServer } from '../../app/station/http-server';
import { StationDouble } from './station-double';
import { newKioskPage } from './support/kiosk-page';

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
});
afterAll(async () => {
  await browser.close();
});

async function openPolls(station: StationDouble): Promise<void> {
  await station.login({ role: 'captain', pin: '2222' });
  const r = await station.command({ command: 'open-polls', confirm: true });
  if (!r.ok) throw new Error(r.error.message);
  await station.logout();
}

const textSize = (page: Page) => page.evaluate<string | null>('document.documentElement.dataset.textSize ?? null');
const lang = (page: Page) => page.evaluate<string>('document.documentElement.lang');

describe('the voter screen when a voter walks away', () => {
  let station: StationDouble;
  let server: StationServer;
  let page: Page;
  let consoleErrors: string[] = [];

  beforeEach(async () => {
    station = new StationDouble();
    server = await serveStation(station, { port: 0 });
    ({ page, consoleErrors } = await newKioskPage(browser));
  });
  afterEach(async () => {
    await page.close();
    await server.close();
  });

  /** A voter taps Español and the largest text, as with a finger. */
  async function voterChooses(): Promise<void> {
    await page.locator('button[data-lang="es"]').click();
    await page.locator('button[data-size="largest"]').click();
    expect(await textSize(page)).toBe('largest');
    expect(await lang(page)).toBe('es');
  }

  test('with no touch and no sheet for the idle time, the screen goes back to the first language and normal text', async () => {
    await page.goto(`${server.url}?voter-idle=2`);
    await openPolls(station);
    await page.getByRole('heading', { level: 2, name: 'Insert your ballot' }).waitFor();
    await voterChooses();
    await page.getByRole('heading', { level: 2, name: 'Introduzca su boleta' }).waitFor();
    // nobody comes: the next voter finds English at the normal size
    await page.getByRole('heading', { level: 2, name: 'Insert your ballot' }).waitFor({ timeout: 30_000 });
    expect(await lang(page)).toBe('en');
    expect(await textSize(page)).toBeNull();
    expect(await page.getByRole('button', { name: 'English' }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByRole('button', { name: 'Normal text' }).getAttribute('aria-pressed')).toBe('true');
    expect(consoleErrors).toEqual([]);
  });

  test('never under a voter whose ballot is on screen; touches keep it off; it comes once the sheet is gone', async () => {
    await page.goto(`${server.url}?voter-idle=1`);
    await openPolls(station);
    await page.getByRole('heading', { level: 2, name: 'Insert your ballot' }).waitFor();
    await voterChooses();
    // the voter's overvoted ballot is held for their choice: they read it for longer than the idle time
    const held = station.feedOvervote('mayor');
    await page.getByRole('heading', { level: 2, name: 'Su boleta todavía no fue contada' }).waitFor();
    await page.waitForTimeout(3000);
    expect(await lang(page)).toBe('es');
    expect(await textSize(page)).toBe('largest');
    // the voter takes the ballot back; once its message is gone and nobody touches the screen, the choices go
    const back = await station.voterDecision({ sheetId: held.sheetId, decision: 'return' });
    expect(back.ok).toBe(true);
    await page.getByRole('heading', { level: 2, name: 'Insert your ballot' }).waitFor({ timeout: 45_000 });
    expect(await textSize(page)).toBeNull();
    expect(consoleErrors).toEqual([]);
  });

  test('a bad or missing setting falls back to a minute', async () => {
    await page.goto(server.url);
    const ms = await page.evaluate<number[]>(`import('./js/voter-idle.mjs').then((m) => ['', '?voter-idle=abc', '?voter-idle=0', '?voter-idle=-5', '?voter-idle=99999', '?voter-idle=1.5', '?voter-idle=90'].map((q) => m.voterIdleMs(q)))`);
    expect(ms).toEqual([60_000, 60_000, 60_000, 60_000, 60_000, 60_000, 90_000]);
  });
});
