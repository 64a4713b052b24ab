import fc from 'fast-check';
import { secp256k1 } from '@noble/curves/secp256k1';
import { address as btcAddress, payments } from 'bitcoinjs-lib';
import type { BallotCodes, BallotErrorCode, ExpectedBallot, IdentityErrorCode } from '../../ballots/identity';
import {
  BALLOT_ERROR_CODES,
  NETWORKS,
  deriveBallotAddress,
  deriveBallotPrivateKey,
  issueBallotCodes,
  parseAddress,
  verifyBallotCodes,
} from '../../ballots/identity';
import { ELECTION_HASH, OTHER_ELECTION_HASH, OTHER_SERIAL, SERIAL, expected, fixedKeys, votingId } from './fixtures';

const keys = fixedKeys();
const good = (): BallotCodes => issueBallotCodes(keys.private, keys.public, votingId(), SERIAL);

function failure(codes: BallotCodes, exp = expected()): { code: IdentityErrorCode; message: string } {
  const r = verifyBallotCodes(codes, keys.public, exp);
  if (r.ok) throw new Error(`expected a failure, the ballot verified: ${JSON.stringify(codes)}`);
  return r.error;
}

describe('verifyBallotCodes accepts', () => {
  it('a genuine ballot and returns its serial, voting event and address', () => {
    const codes = good();
    expect(verifyBallotCodes(codes, keys.public, expected())).toEqual({
      ok: true,
      value: { serial: SERIAL, votingId: votingId(), address: deriveBallotAddress(keys.public, SERIAL) },
    });
  });

  it('the back side of the same sheet with the same serial and address', () => {
    const back = issueBallotCodes(keys.private, keys.public, votingId({ side: 'back' }), SERIAL);
    const front = good();
    expect(back.address).toBe(front.address);
    expect(back.ballotId).not.toBe(front.ballotId);
    const r = verifyBallotCodes(back, keys.public, expected());
    expect(r.ok && r.value.serial).toBe(SERIAL);
    expect(r.ok && r.value.votingId.side).toBe('back');
  });

  it('any precinct of the election at a central count (no station precinct)', () => {
    const south = issueBallotCodes(keys.private, keys.public, votingId({ precinctId: 'south-2', styleId: 'style-b' }), SERIAL);
    expect(verifyBallotCodes(south, keys.public, expected({ precinctId: undefined })).ok).toBe(true);
  });

  it('test ballots in test mode, and skips the style check without a style map', () => {
    const test = issueBallotCodes(keys.private, keys.public, votingId({ mode: 'test', styleId: 'style-z' }), SERIAL);
    expect(verifyBallotCodes(test, keys.public, expected({ mode: 'test', validStyles: undefined })).ok).toBe(true);
  });

  it('an election hash given in upper case', () => {
    expect(verifyBallotCodes(good(), keys.public, expected({ electionHash: ELECTION_HASH.toUpperCase() })).ok).toBe(true);
  });
});

describe('verifyBallotCodes refuses, naming the check that failed', () => {
  it('malformed-ballot-id: not a ballot ID at all', () => {
    const e = failure({ ...good(), ballotId: 'HELLO' });
    expect(e.code).toBe('malformed-ballot-id');
    expect(e.message).toMatch(/ballot ID code/);
  });

  it('malformed-ballot-id: lower case, a short signature, a letter outside Crockford base32', () => {
    const id = good().ballotId;
    expect(failure({ ...good(), ballotId: id.toLowerCase() }).code).toBe('malformed-ballot-id');
    expect(failure({ ...good(), ballotId: id.slice(0, -1) }).code).toBe('malformed-ballot-id');
    expect(failure({ ...good(), ballotId: `${id.slice(0, 20)}U${id.slice(21)}` }).code).toBe('malformed-ballot-id');
  });

  it('malformed-ballot-id: a signature spelled with its 3 spare bits set', () => {
    const id = good().ballotId;
    // The last character holds 2 signature bits and 3 zero bits: '1' (00001) keeps the bits, sets the padding.
    const last = id[id.length - 1] as string;
    const padded = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[('0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(last) & 0b11000) | 0b001] as string;
    const e = failure({ ...good(), ballotId: id.slice(0, -1) + padded });
    expect(e.code).toBe('malformed-ballot-id');
    expect(e.message).toMatch(/damaged signature/);
  });

  it('malformed-voting-id: lower case, missing field, unknown side letter, over-long id', () => {
    const v = good().votingId;
    for (const bad of [v.toLowerCase(), v.replace(':F:O', ':O'), v.replace(':F:', ':X:'), v.replace('NORTH-1', 'N'.repeat(33)), '', `${v} `]) {
      const e = failure({ ...good(), votingId: bad });
      expect({ bad, code: e.code }).toEqual({ bad, code: 'malformed-voting-id' });
    }
  });

  it('malformed-address: a changed character breaks the checksum', () => {
    const a = good().address;
    const changed = a.slice(0, 10) + (a[10] === 'x' ? 'y' : 'x') + a.slice(11);
    const e = failure({ ...good(), address: changed });
    expect(e.code).toBe('malformed-address');
    expect(e.message).toMatch(/first QR code/);
    expect(failure({ ...good(), address: 'x'.repeat(5000) }).code).toBe('malformed-address');
  });

  it('wrong-election: a genuine ballot of this election office but another election hash', () => {
    const other = issueBallotCodes(keys.private, keys.public, votingId({ electionHashPrefix: OTHER_ELECTION_HASH.slice(0, 16) }), SERIAL);
    const e = failure(other);
    expect(e).toMatchObject({ code: 'wrong-election', expected: ELECTION_HASH.slice(0, 16), found: OTHER_ELECTION_HASH.slice(0, 16) });
  });

  it('wrong-election, not counterfeit: a genuine ballot of another election with its own keys', () => {
    const otherKeys = fixedKeys('florincoin-regtest', 'another-election');
    const other = issueBallotCodes(otherKeys.private, otherKeys.public, votingId({ electionHashPrefix: OTHER_ELECTION_HASH.slice(0, 16) }), SERIAL);
    expect(failure(other).code).toBe('wrong-election');
  });

  it('bad-signature: a ballot claiming this election, signed with another key (counterfeit)', () => {
    const forger = fixedKeys('florincoin-regtest', 'forger');
    const forged = issueBallotCodes(forger.private, forger.public, votingId(), SERIAL);
    const e = failure({ ...forged, address: good().address });
    expect(e.code).toBe('bad-signature');
    expect(e.message).toMatch(/counterfeit/);
  });

  it('bad-signature: a genuine ballot ID copied onto another precinct, style, side or mode', () => {
    for (const over of [{ precinctId: 'south-2' }, { styleId: 'style-b' }, { side: 'back' as const }, { mode: 'test' as const }]) {
      const relabelled = { ...good(), votingId: issueBallotCodes(keys.private, keys.public, votingId(over), SERIAL).votingId };
      expect({ over, code: failure(relabelled).code }).toEqual({ over, code: 'bad-signature' });
    }
  });

  it('bad-signature: a genuine signature with another serial (a made-up serial)', () => {
    const id = good().ballotId;
    const e = failure({ ...good(), ballotId: id.replace(SERIAL, OTHER_SERIAL), address: deriveBallotAddress(keys.public, OTHER_SERIAL) });
    expect(e.code).toBe('bad-signature');
  });

  it('wrong-network: the right key hash in another network\'s address format, named in the message', () => {
    const { hash } = btcAddress.fromBase58Check(good().address);
    const bitcoin = btcAddress.toBase58Check(hash, NETWORKS['bitcoin-main'].pubKeyHash);
    const e = failure({ ...good(), address: bitcoin });
    expect(e.code).toBe('wrong-network');
    expect(e.message).toBe("This ballot's blockchain address is for Bitcoin, not Florincoin regtest.");
    const litecoinish = btcAddress.toBase58Check(hash, NETWORKS['litecoin-regtest'].pubKeyHash);
    expect(failure({ ...good(), address: litecoinish }).message).toMatch(/Bitcoin testnet \/ Bitcoin regtest \/ Litecoin regtest/);
    expect(failure({ ...good(), address: btcAddress.toBase58Check(hash, 0x99) }).message).toMatch(/an unknown network/);
  });

  it('address-mismatch: the address of another serial of the same election', () => {
    const e = failure({ ...good(), address: deriveBallotAddress(keys.public, OTHER_SERIAL) });
    expect(e).toMatchObject({ code: 'address-mismatch', expected: good().address });
  });

  it('address-mismatch: an address of another xpub, and a script address of this network', () => {
    const otherXpub = fixedKeys('florincoin-regtest', 'another-election').public;
    expect(failure({ ...good(), address: deriveBallotAddress(otherXpub, SERIAL) }).code).toBe('address-mismatch');
    const { hash } = btcAddress.fromBase58Check(good().address);
    expect(failure({ ...good(), address: btcAddress.toBase58Check(hash, NETWORKS['florincoin-regtest'].scriptHash) }).code).toBe('address-mismatch');
  });

  it('test-ballot-in-official-mode', () => {
    const test = issueBallotCodes(keys.private, keys.public, votingId({ mode: 'test' }), SERIAL);
    const e = failure(test, expected({ mode: 'official' }));
    expect(e).toMatchObject({ code: 'test-ballot-in-official-mode', message: 'This is a test ballot; the station is counting official ballots.' });
  });

  it('official-ballot-in-test-mode', () => {
    const e = failure(good(), expected({ mode: 'test' }));
    expect(e).toMatchObject({ code: 'official-ballot-in-test-mode', message: 'This is an official ballot; the station is in test mode.' });
  });

  it('wrong-precinct', () => {
    const south = issueBallotCodes(keys.private, keys.public, votingId({ precinctId: 'south-2', styleId: 'style-b' }), SERIAL);
    const e = failure(south);
    expect(e).toMatchObject({ code: 'wrong-precinct', expected: 'north-1', found: 'south-2' });
    expect(e.message).toBe("This ballot is for precinct south-2, not this station's precinct north-1.");
  });

  it('unknown-style: a style the precinct does not use', () => {
    const south = issueBallotCodes(keys.private, keys.public, votingId({ precinctId: 'south-2', styleId: 'style-a' }), SERIAL);
    const e = failure(south, expected({ precinctId: undefined }));
    expect(e).toMatchObject({ code: 'unknown-style', found: 'style-a', expected: 'style-b' });
    expect(failure(issueBallotCodes(keys.private, keys.public, votingId({ styleId: 'style-q' }), SERIAL)).code).toBe('unknown-style');
  });

  it('unknown-precinct: a precinct the election does not have (central count)', () => {
    const ghost = issueBallotCodes(keys.private, keys.public, votingId({ precinctId: 'ghost-9' }), SERIAL);
    expect(failure(ghost, expected({ precinctId: undefined })).code).toBe('unknown-precinct');
  });

  it('has one case per error code, each giving a plain sentence (the compiler checks no code is missing)', () => {
    const { hash } = btcAddress.fromBase58Check(good().address);
    const issue = (over: Parameters<typeof votingId>[0]): BallotCodes => issueBallotCodes(keys.private, keys.public, votingId(over), SERIAL);
    const forger = fixedKeys('florincoin-regtest', 'forger');
    const cases: Record<BallotErrorCode, () => [BallotCodes, ExpectedBallot]> = {
      'malformed-ballot-id': () => [{ ...good(), ballotId: 'TPB1:' }, expected()],
      'malformed-voting-id': () => [{ ...good(), votingId: 'TPV1:' }, expected()],
      'malformed-address': () => [{ ...good(), address: '1111' }, expected()],
      'wrong-election': () => [issue({ electionHashPrefix: OTHER_ELECTION_HASH.slice(0, 16) }), expected()],
      'bad-signature': () => [{ ...issueBallotCodes(forger.private, forger.public, votingId(), SERIAL), address: good().address }, expected()],
      'wrong-network': () => [{ ...good(), address: btcAddress.toBase58Check(hash, 0) }, expected()],
      'address-mismatch': () => [{ ...good(), address: deriveBallotAddress(keys.public, OTHER_SERIAL) }, expected()],
      'test-ballot-in-official-mode': () => [issue({ mode: 'test' }), expected()],
      'official-ballot-in-test-mode': () => [good(), expected({ mode: 'test' })],
      'wrong-precinct': () => [issue({ precinctId: 'south-2', styleId: 'style-b' }), expected()],
      'unknown-precinct': () => [issue({ precinctId: 'ghost-9' }), expected({ precinctId: undefined })],
      'unknown-style': () => [issue({ styleId: 'style-q' }), expected()],
    };
    expect(Object.keys(cases).sort()).toEqual([...BALLOT_ERROR_CODES].sort());
    for (const code of BALLOT_ERROR_CODES) {
      const [codes, exp] = cases[code]();
      const e = failure(codes, exp);
      expect({ case: code, got: e.code }).toEqual({ case: code, got: code });
      expect(e.message).toMatch(/^(This|The) [^\n]*\.$/);
    }
  });

  it('never accepts a ballot with any one character of any code changed', () => {
    const codes = good();
    const fields = ['address', 'ballotId', 'votingId'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz:-'),
        (field, at, ch) => {
          const s = codes[field];
          const i = at % s.length;
          fc.pre(s[i] !== ch);
          const changed = { ...codes, [field]: s.slice(0, i) + ch + s.slice(i + 1) };
          expect(verifyBallotCodes(changed, keys.public, expected()).ok).toBe(false);
        },
      ),
      { numRuns: 400, seed: 20261122 },
    );
  });

  it('rejects a non-hex expected election hash as a caller bug', () => {
    expect(() => verifyBallotCodes(good(), keys.public, expected({ electionHash: 'north' }))).toThrow('election hash');
  });
});

describe('ballot address keys', () => {
  it('the office can derive the private key of each printed address from its xprv', () => {
    for (const serial of [SERIAL, OTHER_SERIAL, '000000000000', 'ZZZZZZZZZZZZ']) {
      const key = deriveBallotPrivateKey(keys.private, serial);
      const pubkey = secp256k1.getPublicKey(key, true);
      const addr = payments.p2pkh({ pubkey, network: NETWORKS['florincoin-regtest'] }).address;
      expect({ serial, addr }).toEqual({ serial, addr: deriveBallotAddress(keys.public, serial) });
    }
  });
});

describe('issueBallotCodes', () => {
  it('is deterministic and keeps every payload short and QR-alphanumeric where it can', () => {
    const a = good();
    expect(good()).toEqual(a);
    expect(a.ballotId).toMatch(/^[0-9A-Z:]{121}$/);
    expect(a.votingId).toMatch(/^[0-9A-Z:-]+$/);
    expect(a.address.length).toBeLessThanOrEqual(35);
    expect(parseAddress(a.address).ok).toBe(true);
  });

  it('refuses private keys of another election and a malformed serial', () => {
    const other = fixedKeys('florincoin-regtest', 'another-election');
    expect(() => issueBallotCodes(other.private, keys.public, votingId(), SERIAL)).toThrow('do not belong');
    expect(() => issueBallotCodes(keys.private, keys.public, votingId(), 'ABC')).toThrow('not a ballot serial');
    expect(() => issueBallotCodes(keys.private, keys.public, votingId({ precinctId: 'North' }), SERIAL)).toThrow('precinct id');
  });
});
