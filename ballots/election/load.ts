import { readBoundedText } from '../bounded-file';
import type { Result } from '../../lib/result';
import { err } from '../../lib/result';
import type { Problem } from './problems';
import type { ValidElection } from './validate';
import { validateElection } from './validate';

/**
 * The largest election definition read: a county-wide general election with thousands of styles and
 * precincts is a few MB of JSON; anything past 32 MiB is not one.
 */
export const MAX_ELECTION_BYTES = 32 * 1024 * 1024;

/** Reads and validates an election file; unreadable files and bad JSON become problems, not exceptions. */
export function loadElection(file: string): Result<ValidElection, readonly Problem[]> {
  const text = readBoundedText(file, { maxBytes: MAX_ELECTION_BYTES, what: 'an election definition file' });
  if (!text.ok) return err([{ path: '$', message: `cannot read ${file}: ${text.error.message}` }]);
  return parseElectionText(text.value, file);
}

export function parseElectionText(text: string, name = 'election'): Result<ValidElection, readonly Problem[]> {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    return err([{ path: '$', message: `${name} is not valid JSON: ${(e as Error).message}` }]);
  }
  return validateElection(json);
}
