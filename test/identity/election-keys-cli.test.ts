import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadElectionPrivateKeys, loadElectionPublicKeys, keysMatch } from '../../ballots/identity';
import { runCli } from '../support/cli';

const ENV = 'TALLYPROOF_KEY_PASSPHRASE';
let tmp: string;
let savedEnv: string | undefined;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-keys-cli-'));
  savedEnv = process.env[ENV];
  delete process.env[ENV];
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env[ENV];
  else process.env[ENV] = savedEnv;
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('tallyproof election keys', () => {
  it('writes both files for the chosen network with the passphrase from the environment', async () => {
    process.env[ENV] = 'a long enough passphrase';
    const r = await runCli(['election', 'keys', '--out', 'keys', '--network', 'litecoin-regtest'], tmp);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const pub = loadElectionPublicKeys(path.join(tmp, 'keys', 'election-public.json'));
    expect(pub.ok && pub.value.network).toBe('litecoin-regtest');
    if (!pub.ok) return;
    expect(r.stdout).toContain(`fingerprint  ${pub.value.fingerprint}`);
    expect(r.stdout).toContain(path.join(tmp, 'keys', 'election-private.json'));
    const priv = loadElectionPrivateKeys(path.join(tmp, 'keys', 'election-private.json'), 'a long enough passphrase');
    expect(priv.ok && keysMatch(priv.value, pub.value)).toBe(true);
  });

  it('reads the passphrase from a file (without its trailing newline), defaulting to Florincoin main', async () => {
    fs.writeFileSync(path.join(tmp, 'pass.txt'), 'file passphrase\n');
    process.env[ENV] = 'the environment is not used when a file is given';
    const r = await runCli(['election', 'keys', '--out', tmp, '--passphrase-file', 'pass.txt'], tmp);
    expect(r.code).toBe(0);
    const pub = loadElectionPublicKeys(path.join(tmp, 'election-public.json'));
    expect(pub.ok && pub.value.network).toBe('florincoin-main');
    expect(pub.ok && pub.value.xpub.startsWith('Fpub')).toBe(true);
    expect(loadElectionPrivateKeys(path.join(tmp, 'election-private.json'), 'file passphrase').ok).toBe(true);
  });

  it('refuses (exit 1) without a passphrase, and writes nothing', async () => {
    const r = await runCli(['election', 'keys', '--out', 'keys'], tmp);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'tallyproof: no passphrase given: set TALLYPROOF_KEY_PASSPHRASE or pass --passphrase-file <file>; the private key file must be sealed with a passphrase\n',
    );
    expect(fs.existsSync(path.join(tmp, 'keys'))).toBe(false);
  });

  it('refuses an empty or short passphrase and a missing passphrase file', async () => {
    fs.writeFileSync(path.join(tmp, 'empty.txt'), '\n');
    const empty = await runCli(['election', 'keys', '--out', 'k', '--passphrase-file', 'empty.txt'], tmp);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/passphrase file .*empty\.txt is empty/);
    process.env[ENV] = 'short';
    const short = await runCli(['election', 'keys', '--out', 'k'], tmp);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/too short: use at least 8 characters/);
    const missing = await runCli(['election', 'keys', '--out', 'k', '--passphrase-file', 'nope.txt'], tmp);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read the passphrase file .*nope\.txt: it does not exist/);
    expect(fs.existsSync(path.join(tmp, 'k'))).toBe(false);
  });

  it('refuses (exit 1) to overwrite existing key files and leaves them as they were', async () => {
    process.env[ENV] = 'a long enough passphrase';
    expect((await runCli(['election', 'keys', '--out', 'k', '--network', 'bitcoin-regtest'], tmp)).code).toBe(0);
    const before = fs.readFileSync(path.join(tmp, 'k', 'election-public.json'), 'utf8');
    const again = await runCli(['election', 'keys', '--out', 'k', '--network', 'bitcoin-regtest'], tmp);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/refusing to overwrite existing key files .*election-public\.json.*election-private\.json/);
    expect(fs.readFileSync(path.join(tmp, 'k', 'election-public.json'), 'utf8')).toBe(before);
  });

  it('gives usage errors (exit 2) for an unknown network and a missing --out, and has --help', async () => {
    process.env[ENV] = 'a long enough passphrase';
    const bad = await runCli(['election', 'keys', '--out', 'k', '--network', 'dogecoin-main'], tmp);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/florincoin-main/);
    expect((await runCli(['election', 'keys'], tmp)).code).toBe(2);
    const help = await runCli(['election', 'keys', '--help'], tmp);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--passphrase-file <file>');
    expect(help.stdout).toContain('--network <name>');
    expect(fs.existsSync(path.join(tmp, 'k'))).toBe(false);
  });
});
