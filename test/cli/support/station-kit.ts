import fs from 'node:fs';
import path from 'node:path';
import { tempDir, writeTestKeys } from '../../support/ballots';
import { ELECTION, PASSPHRASE, PRECINCT } from '../../station/support/constants';

/** The station's settings as files, the way a precinct's kit carries them, and the `tallyproof station` flags naming them. */
export function stationKit(name: string): { dir: string; args: string[] } {
  const dir = tempDir(name);
  fs.writeFileSync(path.join(dir, 'pins'), 'poll-worker=1111,captain=2222,auditor=3333\n');
  fs.writeFileSync(path.join(dir, 'passphrase'), `${PASSPHRASE}\n`);
  const keys = writeTestKeys(dir);
  return { dir, args: ['--election', ELECTION, '--keys', keys, '--precinct', PRECINCT, '--pins-file', path.join(dir, 'pins'), '--passphrase-file', path.join(dir, 'passphrase'), '--data', path.join(dir, 'data')] };
}
