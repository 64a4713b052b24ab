import fs from 'node:fs';
import type { Result } from '../result';
import { err } from '../result';
import type { Problem } from './problems';
import type { ValidElection } from './validate';
import { validateElection } from './validate';

/** Reads and validates an election file; unreadable files and bad JSON become problems, not exceptions. */
export function loadElection(file: string): Result<ValidElection, readonly Problem[]> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(e);
    return err([{ path: '$', message: `cannot read ${file}: ${why}` }]);
  }
  return parseElectionText(text, file);
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
