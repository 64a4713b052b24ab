import fs from 'node:fs';
import { LedgerError } from './errors';

export const PASSPHRASE_ENV = 'TALLYPROOF_STATION_PASSPHRASE';

/**
 * The station key passphrase for commands that sign (opening the station, closing a batch): from
 * `--passphrase-file` if given (first line, trailing newline dropped), else from the environment. Never
 * from a command-line argument, which other users can read in the process list.
 */
export function readStationPassphrase(passphraseFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (passphraseFile !== undefined) {
    let raw: string;
    try {
      raw = fs.readFileSync(passphraseFile, 'utf8');
    } catch (e) {
      throw new LedgerError('key-file', passphraseFile, `cannot read the passphrase file: ${(e as Error).message}`);
    }
    const line = raw.split(/\r?\n/)[0] ?? '';
    if (line.length === 0) throw new LedgerError('key-file', passphraseFile, 'the passphrase file is empty');
    return line;
  }
  const v = env[PASSPHRASE_ENV];
  if (v === undefined || v.length === 0) {
    throw new LedgerError('key-file', PASSPHRASE_ENV, `the station key passphrase is needed: set ${PASSPHRASE_ENV} or pass --passphrase-file`);
  }
  return v;
}
