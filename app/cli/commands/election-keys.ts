import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { NetworkName } from '../../../ballots/identity';
import {
  ElectionKeysExistError,
  NETWORK_NAMES,
  NETWORKS,
  PRIVATE_FILE_NAME,
  PUBLIC_FILE_NAME,
  generateElectionKeys,
  keysMatch,
  loadElectionPrivateKeys,
  loadElectionPublicKeys,
  writeElectionKeys,
} from '../../../ballots/identity';
import type { CliContext } from '../context';
import { CommandFailure, EXIT_OK, action } from '../context';
import { KEY_PASSPHRASE_ENV, readPassphrase } from '../inputs';

export const PASSPHRASE_ENV = KEY_PASSPHRASE_ENV;
export const MIN_PASSPHRASE_LENGTH = 8;

interface KeysOptions {
  out: string;
  network: NetworkName;
  passphraseFile?: string;
}

/** `tallyproof election keys`: the election's issuing key pair and extended public key. */
export function registerElectionKeys(election: Command, ctx: CliContext): void {
  election
    .command('keys')
    .description("make an election's issuing key and extended public key (private part encrypted with a passphrase)")
    .requiredOption('--out <dir>', 'directory to write the key files to')
    .addOption(
      new Option('--network <name>', 'address format of the high-capacity chain the ballots are recorded on')
        .choices(NETWORK_NAMES)
        .default('florincoin-main'),
    )
    .option('--passphrase-file <file>', `read the passphrase from this file (a trailing newline is ignored); otherwise $${PASSPHRASE_ENV} is used`)
    .addHelpText(
      'after',
      `\nWrites ${PUBLIC_FILE_NAME} (load it on every station; give it to auditors) and ${PRIVATE_FILE_NAME}\n` +
        '(the issuing key and xprv, sealed with scrypt + AES-256-GCM: keep it offline). Existing key files are never overwritten.\n' +
        `The passphrase comes from --passphrase-file or the environment variable ${PASSPHRASE_ENV}, never from the command line.`,
    )
    .action(action(ctx, (opts: KeysOptions) => makeKeys(ctx, opts)));
}

/** A new key file gets a passphrase worth the name; opening an existing one takes whatever sealed it. */
function newKeyPassphrase(ctx: CliContext, opts: KeysOptions): string {
  const passphrase = readPassphrase(ctx, opts.passphraseFile, 'the private key file must be sealed with a passphrase');
  if ([...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    const source = opts.passphraseFile !== undefined ? `passphrase file ${path.resolve(ctx.cwd, opts.passphraseFile)}` : `$${PASSPHRASE_ENV}`;
    throw new CommandFailure(`the passphrase from ${source} is too short: use at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  return passphrase;
}

function makeKeys(ctx: CliContext, opts: KeysOptions): number {
  const passphrase = newKeyPassphrase(ctx, opts);
  const dir = path.resolve(ctx.cwd, opts.out);
  const existing = [PUBLIC_FILE_NAME, PRIVATE_FILE_NAME].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
  if (existing.length > 0) {
    throw new CommandFailure(
      `refusing to overwrite existing key files (${existing.join(', ')}): ballots printed with those keys would no longer verify. Choose another --out directory.`,
    );
  }
  const keys = generateElectionKeys(opts.network);
  let files: { publicFile: string; privateFile: string };
  try {
    files = writeElectionKeys(dir, keys, passphrase);
  } catch (e) {
    if (e instanceof ElectionKeysExistError) throw new CommandFailure(`${e.message}; choose another --out directory`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'ENOTDIR' || code === 'EROFS' || code === 'ENOSPC') {
      throw new CommandFailure(`cannot write the key files into ${dir}: ${(e as Error).message}`);
    }
    throw e;
  }
  // Read both back the way a station and the printer will, so a bad write is found now, not on election day.
  const pub = loadElectionPublicKeys(files.publicFile);
  const priv = loadElectionPrivateKeys(files.privateFile, passphrase);
  if (!pub.ok) throw new CommandFailure(`the written public key file does not load: ${pub.error.message}`);
  if (!priv.ok) throw new CommandFailure(`the written private key file does not open: ${priv.error.message}`);
  if (!keysMatch(priv.value, pub.value)) throw new CommandFailure('the written key files do not belong together');

  ctx.io.stdout(
    `wrote ${files.publicFile}\n` +
      `      public: load it on every station, give it to auditors\n` +
      `wrote ${files.privateFile}\n` +
      `      issuing key and xprv, sealed with your passphrase: keep it offline, with a backup\n` +
      `network      ${opts.network} (${NETWORKS[opts.network].title})\n` +
      `fingerprint  ${pub.value.fingerprint}\n` +
      `xpub         ${pub.value.xpub}\n`,
  );
  return EXIT_OK;
}
