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
export const FEEDER_ALARMS = ['cover-open', 'box-full', 'jam', 'double-sheet', 'disconnected', 'streaks'];

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
 * Contest names as the election gives them (an ID the election does not name is shown as is). Titles hold
 * commas ("City Council, Ward 1"): a list of them is joined with semicolons.
 * @param {StationStatus | null} s
 * @param {readonly string[]} ids
 */
export function contestNames(s, ids) {
  const titles = s?.election?.contestTitles ?? {};
  return ids.map((id) => (Object.prototype.hasOwnProperty.call(titles, id) ? (titles[id] ?? id) : id));
}

/** The text sizes a voter may choose, smallest first; the first is the one every voter starts with. */
export const TEXT_SIZES = /** @type {const} */ (['normal', 'large', 'largest']);
/** @typedef {(typeof TEXT_SIZES)[number]} TextSize */
