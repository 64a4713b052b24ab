/**
 * The staff screen's county line ("Reported to county: N of M checkpoints (P proven)" and what holds the
 * rest up) as the page showed it over time: a MutationObserver in the page records every text the line
 * took, so a state the screen showed for a moment (a claim of "proven" while the log was down) is caught
 * even if no test step looked at that moment. Waits are on the page's own events, with a limit.
 */
import type { Page } from 'playwright-core';

const SEEN = '__tallyproofCountyLines';
const LIMIT: unique symbol = Symbol('limit');

export interface CountyLine {
  /** every text the line showed since it was watched, in order (the same text set again is not a change) */
  seen(): Promise<string[]>;
  /** the line's text now */
  now(): Promise<string>;
  /** waits until the line's text is `match` (a string: exactly); fails at the limit with every text it showed */
  until(match: string | RegExp, limitMs: number): Promise<string>;
}

// Expressions, not functions: the test's functions are transformed (swc) and are not sent to the page as written.
export async function watchCountyLine(page: Page): Promise<CountyLine> {
  await page.evaluate(`(() => {
    const el = document.getElementById('staff-county');
    if (el === null) throw new Error('the page has no #staff-county');
    const seen = [el.textContent ?? ''];
    window.${SEEN} = seen;
    new MutationObserver(() => {
      const t = el.textContent ?? '';
      if (t !== seen[seen.length - 1]) seen.push(t);
    }).observe(el, { childList: true, characterData: true, subtree: true });
  })()`);
  const seen = (): Promise<string[]> => page.evaluate<string[]>(`[...window.${SEEN}]`);
  const now = (): Promise<string> => page.evaluate<string>(`document.getElementById('staff-county').textContent ?? ''`);
  return {
    seen,
    now,
    async until(match, limitMs) {
      // the page's own observer answers when the line changes to it (the page's CSP forbids eval, so no waitForFunction)
      const test = typeof match === 'string' ? `(t) => t === ${JSON.stringify(match)}` : `(t) => new RegExp(${JSON.stringify(match.source)}, ${JSON.stringify(match.flags)}).test(t)`;
      const became = page.evaluate<string>(`new Promise((resolve) => {
        const el = document.getElementById('staff-county');
        const matches = ${test};
        const check = () => {
          const t = el.textContent ?? '';
          if (!matches(t)) return false;
          observer.disconnect();
          resolve(t);
          return true;
        };
        const observer = new MutationObserver(check);
        if (!check()) observer.observe(el, { childList: true, characterData: true, subtree: true });
      })`);
      // past the limit the page's promise is left pending; its page closing later is no failure of this wait
      became.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<typeof LIMIT>((resolve) => (timer = setTimeout(() => resolve(LIMIT), limitMs)));
      try {
        const got = await Promise.race([became, limit]);
        if (got !== LIMIT) return got;
      } finally {
        clearTimeout(timer);
      }
      const shown = await seen().catch(() => ['(page gone)']);
      throw new Error(`the county line did not become ${String(match)} within ${limitMs} ms; it showed, in order:\n${shown.map((l) => `  ${JSON.stringify(l)}`).join('\n')}`);
    },
  };
}
