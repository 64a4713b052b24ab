// @ts-check
/* global setTimeout, clearTimeout, URLSearchParams -- browser globals: the page is type-checked with the DOM library by app/renderer/tsconfig.json */
/**
 * The walk-away voter: someone changes the language or the text size, then leaves without feeding a ballot.
 * The next voter must not find the screen in a stranger's language, so after a while with no touch, no key and
 * no sheet in progress the voter's choices go back to the start (the election's first language, normal size).
 */

/** Without a touch for this long (and no sheet in progress) the voter's choices are reset. */
export const DEFAULT_VOTER_IDLE_SECONDS = 60;
/** Bounds for the setting: long enough to read a screen, short enough to matter. */
export const VOTER_IDLE_BOUNDS = /** @type {const} */ ({ min: 1, max: 3600 });
/** The page's query parameter that sets it (the Electron app passes station.json `voterIdleResetSeconds`). */
export const VOTER_IDLE_PARAM = 'voter-idle';

/**
 * The idle time from the page's query string: a whole number of seconds within bounds, else the default.
 * @param {string} search the page's location.search
 * @returns {number} milliseconds
 */
export function voterIdleMs(search) {
  const raw = new URLSearchParams(search).get(VOTER_IDLE_PARAM);
  const n = raw === null || !/^\d+$/.test(raw) ? NaN : Number(raw);
  const seconds = Number.isInteger(n) && n >= VOTER_IDLE_BOUNDS.min && n <= VOTER_IDLE_BOUNDS.max ? n : DEFAULT_VOTER_IDLE_SECONDS;
  return seconds * 1000;
}

/**
 * Watches the page for a voter's activity and resets the voter's choices once nobody has touched it for
 * `idleMs`. While `busy()` (a sheet is on its way, a message about one is on screen, staff use the screen) the
 * reset waits: it never changes the language under a voter who is reading about their own ballot.
 * @param {{ doc: Document, idleMs: number, busy: () => boolean, changed: () => boolean, reset: () => void }} o
 */
export function watchVoterIdle(o) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const check = () => {
    timer = undefined;
    if (!o.changed()) return;
    if (o.busy()) arm();
    else o.reset();
  };
  const arm = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(check, o.idleMs);
  };
  for (const type of ['pointerdown', 'keydown', 'touchstart', 'wheel']) o.doc.addEventListener(type, arm, { capture: true, passive: true });
}
