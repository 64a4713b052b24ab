/**
 * A person at the kiosk page in chromium: keyboard only (Tab to a control, Enter), staff sign-in and out, and
 * what the person reads (the visible text: hidden screens, dialogs and the screen reader's live region excluded), checked when it has settled.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';

export interface Staff {
  /** how many ArrowDown presses from the first role radio (poll worker 0, captain 1, auditor 2) */
  readonly radioSteps: number;
  readonly pin: string;
}
export const POLL_WORKER: Staff = { radioSteps: 0, pin: '1111' };
export const CAPTAIN: Staff = { radioSteps: 1, pin: '2222' };
export const AUDITOR: Staff = { radioSteps: 2, pin: '3333' };
export const PINS_ENV = 'poll-worker=1111,captain=2222,auditor=3333';

export async function tabTo(page: Page, selector: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${selector} is not reachable with Tab`);
}

export async function press(page: Page, selector: string): Promise<void> {
  await tabTo(page, selector);
  await page.keyboard.press('Enter');
}

export async function signIn(page: Page, who: Staff, heading: string): Promise<void> {
  await press(page, '#staff-button');
  for (let i = 0; i < who.radioSteps; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Tab');
  await page.keyboard.type(who.pin);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 2, name: heading }).waitFor();
}

export async function signOut(page: Page): Promise<void> {
  await press(page, '#logout-button');
  await page.locator('body[data-screen="voter"]').waitFor();
}

/** Answers yes to the open yes/no question: focus starts on "No", Tab moves to "Yes". */
export async function answerYes(page: Page): Promise<void> {
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
}

export type Expect = string | RegExp;

/**
 * `look(name, expected, absent)`: waits until every expected text is on screen and every absent one gone
 * (status events arrive on their own), photographs the screen into `shots`, and checks it still holds.
 */
export function screenChecker(page: Page, shots: string, limitMs = 60_000): { look: (name: string, expected: readonly Expect[], absent?: readonly Expect[]) => Promise<string>; visible: () => Promise<string>; taken: string[] } {
  // a sighted person does not read the screen reader's live region (it repeats the last title said)
  const visible = (): Promise<string> =>
    page.evaluate<string>("[...document.body.children].filter((e) => e.checkVisibility() && !e.classList.contains('visually-hidden')).map((e) => e.innerText).join('\\n')");
  const taken: string[] = [];
  const look = async (name: string, expected: readonly Expect[], absent: readonly Expect[] = []): Promise<string> => {
    const check = (text: string, when: string): void => {
      for (const e of expected) if (!(typeof e === 'string' ? text.includes(e) : e.test(text))) throw new Error(`${name} (${when}): "${String(e)}" is not on screen:\n${text}`);
      for (const a of absent) if (typeof a === 'string' ? text.includes(a) : a.test(text)) throw new Error(`${name} (${when}): "${String(a)}" should not be on screen:\n${text}`);
    };
    const limit = Date.now() + limitMs;
    for (;;) {
      const text = await visible();
      try {
        check(text, 'before');
        break;
      } catch (e) {
        if (Date.now() > limit) throw e;
        await page.waitForTimeout(50);
      }
    }
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    const after = await visible();
    check(after, 'after');
    taken.push(name);
    return after;
  };
  return { look, visible, taken };
}

/**
 * A new page for the kiosk, with limits rather than timings (a shared 2-core machine under load can take
 * many seconds per step), and the list the page's console errors and uncaught exceptions collect in: every
 * kiosk test ends by expecting it empty.
 */
export async function newKioskPage(browser: Browser): Promise<{ page: Page; consoleErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(60_000);
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  return { page, consoleErrors };
}
