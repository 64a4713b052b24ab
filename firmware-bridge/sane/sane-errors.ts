/** What scanimage's messages and exit codes mean for the paper, in the driver interface's terms. */

export type SaneCondition = 'jammed' | 'no-docs' | 'cover-open' | 'busy' | 'eof' | 'io-error' | 'no-device' | 'access-denied' | 'cancelled' | 'invalid' | 'no-mem';

const MESSAGES: readonly [RegExp, SaneCondition][] = [
  [/Document feeder jammed/i, 'jammed'],
  [/Document feeder out of documents/i, 'no-docs'],
  [/Scanner cover is open/i, 'cover-open'],
  [/Device busy/i, 'busy'],
  [/End of file reached/i, 'eof'],
  [/Error during device I\/O/i, 'io-error'],
  [/Access to resource has been denied/i, 'access-denied'],
  [/Operation was cancel+ed/i, 'cancelled'],
  [/Out of memory/i, 'no-mem'],
  [/open of device .* failed/i, 'no-device'],
  [/no SANE devices found/i, 'no-device'],
  [/Invalid argument/i, 'invalid'],
];

/** SANE_Status values, which scanimage also uses as its exit code. */
const EXIT_CODES: Readonly<Record<number, SaneCondition>> = {
  2: 'cancelled',
  3: 'busy',
  4: 'invalid',
  5: 'eof',
  6: 'jammed',
  7: 'no-docs',
  8: 'cover-open',
  9: 'io-error',
  10: 'no-mem',
  11: 'access-denied',
};

export function conditionFromLine(line: string): SaneCondition | undefined {
  if (!/^scanimage:/.test(line.trim())) return undefined;
  for (const [re, c] of MESSAGES) if (re.test(line)) return c;
  return undefined;
}

export function conditionFromExit(code: number | null): SaneCondition | undefined {
  if (code === null || code === 0) return undefined;
  return EXIT_CODES[code] ?? 'io-error';
}

/** The conditions that merely mean "the feeder has no more paper": the batch ended normally. */
export function isEndOfBatch(c: SaneCondition): boolean {
  return c === 'no-docs' || c === 'eof';
}
