import fs from 'node:fs';
import path from 'node:path';
import type { ValidElection } from '../../ballots/election';
import { formatProblems, loadElection } from '../../ballots/election';
import type { ElectionPrivateKeys, ElectionPublicKeys } from '../../ballots/identity';
import { PRIVATE_FILE_NAME, PUBLIC_FILE_NAME, keysMatch, loadElectionPrivateKeys, loadElectionPublicKeys } from '../../ballots/identity';
import type { CliContext } from './context';
import { CommandFailure } from './context';

export const KEY_PASSPHRASE_ENV = 'TALLYPROOF_KEY_PASSPHRASE';

/** Loads and validates an election file, or fails listing every problem. */
export function requireElection(ctx: CliContext, file: string): ValidElection {
  const r = loadElection(path.resolve(ctx.cwd, file));
  if (!r.ok) throw new CommandFailure(`${file} is not a valid election definition:\n${formatProblems(r.error)}`);
  return r.value;
}

/** The passphrase sealing a private key file: from a file (trailing newline dropped) or an environment variable, never argv. */
export function readPassphrase(
  ctx: CliContext,
  passphraseFile: string | undefined,
  purpose = "it opens the election's private key file",
  envName = KEY_PASSPHRASE_ENV,
): string {
  if (passphraseFile !== undefined) {
    const file = path.resolve(ctx.cwd, passphraseFile);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CommandFailure(`cannot read the passphrase file ${file}: ${code === 'ENOENT' ? 'it does not exist' : String(e)}`);
    }
    const p = text.replace(/\r?\n$/, '');
    if (p.length === 0) throw new CommandFailure(`the passphrase file ${file} is empty`);
    return p;
  }
  const p = process.env[envName];
  if (p === undefined || p.length === 0) throw new CommandFailure(`no passphrase given: set ${envName} or pass --passphrase-file <file>; ${purpose}`);
  return p;
}

export interface ElectionKeyPair {
  readonly public: ElectionPublicKeys;
  readonly private: ElectionPrivateKeys;
}

/** Loads an election key directory (public and sealed private file) and checks the two belong together. */
export function requireElectionKeys(ctx: CliContext, dir: string, passphraseFile: string | undefined): ElectionKeyPair {
  const base = path.resolve(ctx.cwd, dir);
  const pub = loadElectionPublicKeys(path.join(base, PUBLIC_FILE_NAME));
  if (!pub.ok) throw new CommandFailure(pub.error.message);
  const priv = loadElectionPrivateKeys(path.join(base, PRIVATE_FILE_NAME), readPassphrase(ctx, passphraseFile));
  if (!priv.ok) throw new CommandFailure(priv.error.message);
  if (!keysMatch(priv.value, pub.value)) throw new CommandFailure(`${PRIVATE_FILE_NAME} and ${PUBLIC_FILE_NAME} in ${base} are not one key pair`);
  return { public: pub.value, private: priv.value };
}
