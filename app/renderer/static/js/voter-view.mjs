// @ts-check
/**
 * What the voter's screen derives from the station's status beyond the sheet itself: whether the feeder is
 * stopped for a poll worker, and the names a person reads for contests and the precinct.
 */

/** @typedef {import('../../../station/api').StationStatus} StationStatus */
/** @typedef {import('../../../station/api').ScannerAlarm} ScannerAlarm */

/**
 * Every alarm the station stops the feeder for (station.ts updateFeeding): hardware ones until the scanner
 * reports them gone, the poll worker's ones until cleared.
 * @type {readonly ScannerAlarm[]}
 */
export const FEEDER_ALARMS = ['cover-open', 'box-full', 'jam', 'double-sheet', 'disconnected', 'streaks', 'export-missing', 'export-full'];

/**
 * Whether a voter must wait for a poll worker: the polls take ballots but the feeder is stopped by an alarm
 * or by an instruction to the poll worker (a jammed ballot, a restart's reconciliation).
 * @param {StationStatus} s
 */
export function waitsForPollWorker(s) {
  if (s.polls !== 'open' && s.polls !== 'testing') return false;
  return s.attention !== null || !s.scanner.connected || s.scanner.alarms.some((a) => FEEDER_ALARMS.includes(a));
}

/**
 * The election's names in the voter's language where the election gives them, else in its default language.
 * @param {StationStatus | null} s
 * @param {string} lang
 */
function translationsFor(s, lang) {
  const all = s?.election?.translations ?? {};
  return Object.prototype.hasOwnProperty.call(all, lang) ? all[lang] : undefined;
}

/**
 * Contest names as the election gives them, in the voter's language when it has them (an ID the election does
 * not name is shown as is). Titles hold commas ("City Council, Ward 1"): a list of them is joined with semicolons.
 * @param {StationStatus | null} s
 * @param {readonly string[]} ids
 * @param {string} lang
 */
export function contestNames(s, ids, lang) {
  const titles = s?.election?.contestTitles ?? {};
  const translated = translationsFor(s, lang)?.contestTitles ?? {};
  const has = (/** @type {Readonly<Record<string, string>>} */ o, /** @type {string} */ id) => Object.prototype.hasOwnProperty.call(o, id);
  return ids.map((id) => (has(translated, id) ? (translated[id] ?? id) : has(titles, id) ? (titles[id] ?? id) : id));
}

/**
 * The election's title and the precinct's name, in the voter's language when the election gives them.
 * @param {StationStatus} s
 * @param {string} lang
 * @returns {{ title: string, precinct: string } | null}
 */
export function electionNames(s, lang) {
  if (s.election === null) return null;
  const t = translationsFor(s, lang);
  return { title: t?.title ?? s.election.title, precinct: t?.precinctName ?? s.election.precinctName };
}

/** The text sizes a voter may choose, smallest first; the first is the one every voter starts with. */
export const TEXT_SIZES = /** @type {const} */ (['normal', 'large', 'largest']);
/** @typedef {(typeof TEXT_SIZES)[number]} TextSize */
