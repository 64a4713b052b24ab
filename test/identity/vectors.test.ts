import fs from 'node:fs';
import path from 'node:path';
import { hexToBytes } from '@noble/hashes/utils';
import type { ElectionPrivateKeys } from '../../ballots/identity';
import { issueBallotCodes, keysMatch, verifyBallotCodes } from '../../ballots/identity';
import type { Vectors } from './vectors';
import { computeVectors } from './vectors';

const stored = JSON.parse(fs.readFileSync(path.join(__dirname, 'vectors.json'), 'utf8')) as Vectors;

describe('identity test vectors (vectors.json)', () => {
  it('cover every network', () => {
    expect(stored.networks.map((n) => n.network)).toEqual([
      'florincoin-main',
      'florincoin-test',
      'florincoin-regtest',
      'bitcoin-main',
      'bitcoin-test',
      'bitcoin-regtest',
      'litecoin-regtest',
    ]);
  });

  it('are reproduced exactly by the current code (a changed encoding shows up here)', () => {
    const now = computeVectors();
    for (let i = 0; i < stored.networks.length; i += 1) {
      // Per network, so a failure names the network rather than dumping the whole file.
      expect(now.networks[i]).toEqual(stored.networks[i]);
    }
    expect(now).toEqual(stored);
  });

  it('verify, and re-issue from the stored private keys alone', () => {
    for (const n of stored.networks) {
      const priv: ElectionPrivateKeys = { issuingPrivateKey: hexToBytes(n.issuingPrivateKey), xprv: n.xprv, network: n.network };
      expect(keysMatch(priv, n.public)).toBe(true);
      for (const b of n.ballots) {
        expect(issueBallotCodes(priv, n.public, b.votingId, b.serial)).toEqual(b.codes);
        const r = verifyBallotCodes(b.codes, n.public, { electionHash: b.votingId.electionHashPrefix, mode: b.votingId.mode });
        expect(r).toEqual({ ok: true, value: { serial: b.serial, votingId: b.votingId, address: b.codes.address } });
      }
    }
  });

  it('pin the documented formats', () => {
    const flo = stored.networks[0];
    expect(flo?.public.xpub.startsWith('Fpub')).toBe(true);
    expect(flo?.ballots[0]?.codes.address).toMatch(/^F/);
    expect(flo?.ballots[4]?.addressPath).toBe('0/0/0');
    expect(flo?.ballots[5]?.addressPath).toBe('0/1073741823/1073741823');
    expect(flo?.ballots[2]?.codes.votingId).toBe('TPV1:9F86D081884C7D65:PRECINCT-32-CHARACTERS-LONG-0001:STYLE-32-CHARACTERS-LONG-0000002:F:T');
    expect(flo?.ballots[2]?.codes.votingId.length).toBe(91);
    for (const n of stored.networks) for (const b of n.ballots) expect(b.codes.ballotId).toMatch(/^TPB1:[0-9A-HJKMNP-TV-Z]{12}:[0-9A-HJKMNP-TV-Z]{103}$/);
  });
});
