import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { schnorr } from '@noble/curves/secp256k1';
import { HDKey } from '@scure/bip32';
import {
  ElectionKeysExistError,
  NETWORKS,
  computeFingerprint,
  deterministicRng,
  generateElectionKeys,
  keysMatch,
  loadElectionPrivateKeys,
  loadElectionPublicKeys,
  publicKeysOf,
  writeElectionKeys,
} from '../../ballots/identity';
import { fixedKeys } from './fixtures';

const CHEAP = { N: 1 << 10, r: 8, p: 1 };
let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-keys-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeJson(name: string, value: unknown): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, JSON.stringify(value));
  return f;
}

describe('generateElectionKeys', () => {
  it('makes keys in each network\'s own extended-key format, reproducible for a seed', () => {
    const prefixes: Record<string, string> = {
      'florincoin-main': 'Fpub',
      'florincoin-test': 'Fput',
      'florincoin-regtest': 'tpub',
      'bitcoin-main': 'xpub',
      'bitcoin-test': 'tpub',
      'bitcoin-regtest': 'tpub',
      'litecoin-regtest': 'tpub',
    };
    for (const [network, prefix] of Object.entries(prefixes)) {
      const k = generateElectionKeys(network as keyof typeof NETWORKS, deterministicRng('gen'));
      expect({ network, xpub: k.public.xpub.slice(0, 4) }).toEqual({ network, xpub: prefix });
      expect(k.public.format).toBe('tallyproof-election-public/1');
      expect(k.public.issuingPublicKey).toMatch(/^[0-9a-f]{64}$/);
      expect(k.public.fingerprint).toMatch(/^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);
      expect(generateElectionKeys(network as keyof typeof NETWORKS, deterministicRng('gen'))).toEqual(k);
    }
    expect(generateElectionKeys('bitcoin-main').public.xpub).not.toBe(generateElectionKeys('bitcoin-main').public.xpub);
  });

  it('keeps the issuing key off the address branch: the xpub\'s private side does not reveal it', () => {
    const k = fixedKeys();
    const account = HDKey.fromExtendedKey(k.private.xprv, NETWORKS['florincoin-regtest'].bip32);
    expect(account.depth).toBe(1);
    expect(account.index).toBe(0x80000000);
    expect(Buffer.from(account.privateKey as Uint8Array)).not.toEqual(Buffer.from(k.private.issuingPrivateKey));
    expect(Buffer.from(schnorr.getPublicKey(k.private.issuingPrivateKey)).toString('hex')).toBe(k.public.issuingPublicKey);
    expect(keysMatch(k.private, k.public)).toBe(true);
    expect(keysMatch(fixedKeys('florincoin-regtest', 'other').private, k.public)).toBe(false);
  });

  it('refuses an unknown network', () => {
    expect(() => generateElectionKeys('dogecoin-main' as never)).toThrow('unknown network');
  });
});

describe('key files', () => {
  it('write and load back, the private file sealed and readable only by its owner', () => {
    const k = fixedKeys();
    const files = writeElectionKeys(path.join(tmp, 'new', 'dir'), k, 'correct horse battery', CHEAP);
    expect(path.basename(files.publicFile)).toBe('election-public.json');
    expect(path.basename(files.privateFile)).toBe('election-private.json');
    expect(loadElectionPublicKeys(files.publicFile)).toEqual({ ok: true, value: k.public });
    const priv = loadElectionPrivateKeys(files.privateFile, 'correct horse battery');
    expect(priv.ok && keysMatch(priv.value, k.public)).toBe(true);
    expect(priv.ok && priv.value.xprv).toBe(k.private.xprv);
    expect(fs.statSync(files.privateFile).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(files.privateFile, 'utf8');
    expect(text).not.toContain(k.private.xprv);
    expect(text).not.toContain(Buffer.from(k.private.issuingPrivateKey).toString('hex'));
    expect(JSON.parse(text)).toMatchObject({ format: 'tallyproof-election-private/1', network: 'florincoin-regtest', fingerprint: k.public.fingerprint });
  });

  it('never overwrites either file', () => {
    const k = fixedKeys();
    writeElectionKeys(tmp, k, 'pw-one-two', CHEAP);
    const before = fs.readFileSync(path.join(tmp, 'election-private.json'), 'utf8');
    expect(() => writeElectionKeys(tmp, fixedKeys('bitcoin-regtest'), 'pw-one-two', CHEAP)).toThrow(ElectionKeysExistError);
    expect(fs.readFileSync(path.join(tmp, 'election-private.json'), 'utf8')).toBe(before);
    const only = path.join(tmp, 'only-public');
    fs.mkdirSync(only);
    fs.writeFileSync(path.join(only, 'election-public.json'), '{}');
    expect(() => writeElectionKeys(only, k, 'pw-one-two', CHEAP)).toThrow(/refusing to overwrite existing key file: .*election-public\.json/);
    expect(fs.existsSync(path.join(only, 'election-private.json'))).toBe(false);
  });

  it('refuses an empty passphrase and mismatched halves', () => {
    expect(() => writeElectionKeys(tmp, fixedKeys(), '', CHEAP)).toThrow('empty passphrase');
    const mixed = { public: fixedKeys().public, private: fixedKeys('florincoin-regtest', 'other').private };
    expect(() => writeElectionKeys(tmp, mixed, 'pw', CHEAP)).toThrow('do not belong');
  });

  it('wrong-passphrase: a wrong passphrase or a changed ciphertext', () => {
    const { privateFile } = writeElectionKeys(tmp, fixedKeys(), 'right passphrase', CHEAP);
    const r = loadElectionPrivateKeys(privateFile, 'wrong passphrase');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('wrong-passphrase');
      expect(r.error.message).toContain(privateFile);
    }
    const doc = JSON.parse(fs.readFileSync(privateFile, 'utf8')) as { sealed: { ciphertext: string } };
    doc.sealed.ciphertext = (doc.sealed.ciphertext.startsWith('0') ? '1' : '0') + doc.sealed.ciphertext.slice(1);
    const tampered = writeJson('tampered.json', doc);
    const t = loadElectionPrivateKeys(tampered, 'right passphrase');
    expect(!t.ok && t.error.code).toBe('wrong-passphrase');
  });

  it('key-file-fingerprint-mismatch: a private file relabelled as another election', () => {
    const { privateFile } = writeElectionKeys(tmp, fixedKeys(), 'right passphrase', CHEAP);
    const doc = JSON.parse(fs.readFileSync(privateFile, 'utf8')) as { fingerprint: string };
    doc.fingerprint = fixedKeys('florincoin-regtest', 'other').public.fingerprint;
    const r = loadElectionPrivateKeys(writeJson('relabelled.json', doc), 'right passphrase');
    expect(!r.ok && r.error.code).toBe('key-file-fingerprint-mismatch');
  });

  it('key-file-malformed: a private file whose outside network differs from the sealed one', () => {
    const { privateFile } = writeElectionKeys(tmp, fixedKeys(), 'right passphrase', CHEAP);
    const doc = JSON.parse(fs.readFileSync(privateFile, 'utf8')) as { network: string };
    doc.network = 'bitcoin-main';
    const r = loadElectionPrivateKeys(writeJson('renetworked.json', doc), 'right passphrase');
    expect(!r.ok && r.error).toMatchObject({ code: 'key-file-malformed', message: expect.stringContaining('bitcoin-main outside and florincoin-regtest inside') });
  });

  it('key-file-unreadable: a missing file, named', () => {
    const missing = path.join(tmp, 'nope.json');
    const pub = loadElectionPublicKeys(missing);
    expect(!pub.ok && pub.error).toMatchObject({ code: 'key-file-unreadable', message: `Cannot read the election public key file ${missing}: it does not exist.` });
    const priv = loadElectionPrivateKeys(missing, 'pw');
    expect(!priv.ok && priv.error).toMatchObject({ code: 'key-file-unreadable', message: `Cannot read the election private key file ${missing}: it does not exist.` });
    const dir = loadElectionPublicKeys(tmp);
    expect(!dir.ok && dir.error.message).toMatch(/it is a directory/);
  });

  it('key-file-malformed: not JSON, and each schema problem with its path', () => {
    const notJson = path.join(tmp, 'bad.json');
    fs.writeFileSync(notJson, '{"format": ');
    const a = loadElectionPublicKeys(notJson);
    expect(!a.ok && a.error).toMatchObject({ code: 'key-file-malformed', message: expect.stringContaining('is not valid JSON') });

    const pub = fixedKeys().public;
    const b = loadElectionPublicKeys(writeJson('schema.json', { ...pub, network: 'dogecoin', issuingPublicKey: 'XYZ', extra: 1 }));
    expect(b.ok).toBe(false);
    if (!b.ok) {
      expect(b.error.code).toBe('key-file-malformed');
      expect(b.error.message).toMatch(/network: /);
      expect(b.error.message).toMatch(/issuingPublicKey: must be 64 lower-case hex characters/);
      expect(b.error.message).toMatch(/extra/);
    }
  });

  it('key-file-malformed: an xpub of another network, an xprv in the public file, a key off the curve', () => {
    const pub = fixedKeys().public;
    const mainXpub = fixedKeys('florincoin-main').public.xpub;
    const wrongNet = loadElectionPublicKeys(writeJson('net.json', { ...pub, xpub: mainXpub, fingerprint: computeFingerprint(pub.network, pub.issuingPublicKey, mainXpub) }));
    expect(!wrongNet.ok && wrongNet.error.message).toMatch(/xpub: is not an extended public key of florincoin-regtest/);

    const xprv = fixedKeys().private.xprv;
    const leaked = loadElectionPublicKeys(writeJson('xprv.json', { ...pub, xpub: xprv, fingerprint: computeFingerprint(pub.network, pub.issuingPublicKey, xprv) }));
    expect(!leaked.ok && leaked.error.message).toMatch(/holds a private key/);

    const offCurve = 'f'.repeat(64);
    const bad = loadElectionPublicKeys(writeJson('curve.json', { ...pub, issuingPublicKey: offCurve, fingerprint: computeFingerprint(pub.network, offCurve, pub.xpub) }));
    expect(!bad.ok && bad.error.message).toMatch(/issuingPublicKey: is not a point on secp256k1/);
  });

  it('key-file-fingerprint-mismatch: a public file whose key was swapped', () => {
    const pub = fixedKeys().public;
    const swapped = { ...pub, issuingPublicKey: fixedKeys('florincoin-regtest', 'forger').public.issuingPublicKey };
    const r = loadElectionPublicKeys(writeJson('swapped.json', swapped));
    expect(!r.ok && r.error).toMatchObject({ code: 'key-file-fingerprint-mismatch', expected: pub.fingerprint });
  });

  it('derives the same public keys from the private keys every time', () => {
    const k = fixedKeys('bitcoin-main');
    expect(publicKeysOf({ ...k.private })).toEqual(k.public);
  });
});
