import { address as btcAddress } from 'bitcoinjs-lib';
import type { NetworkName } from '../../ballots/identity';
import { ballotAddressPath, deriveBallotAddress, deterministicRng, randomSerials } from '../../ballots/identity';
import { fixedKeys } from './fixtures';
import type { RegtestNode } from '../support/litecoind';
import { startRegtestNode } from '../support/litecoind';

/*
 * An independent implementation checks our BIP32 path and P2PKH encoding: a real `litecoind -regtest`
 * derives the address of `pkh(<xpub>/0/<hi>/<lo>)` with its own descriptor code, and must get the address
 * we print. Florincoin regtest and Bitcoin test/regtest use the same tpub version, so their key hashes are
 * checked against it too.
 */
let node: RegtestNode | undefined;

function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  if (node === undefined) throw new Error('litecoind did not start');
  return node.rpc<T>(method, params);
}

beforeAll(async () => {
  node = await startRegtestNode({ wallet: false });
});

afterAll(async () => {
  await node?.destroy();
});

async function litecoindAddress(xpub: string, serial: string): Promise<string> {
  const desc = `pkh(${xpub}/${ballotAddressPath(serial)})`;
  const info = await rpc<{ checksum: string }>('getdescriptorinfo', [desc]);
  const [addr] = await rpc<string[]>('deriveaddresses', [`${desc}#${info.checksum}`]);
  return addr as string;
}

describe('ballot addresses against litecoind -regtest', () => {
  const serials = [...randomSerials(6, deterministicRng('litecoind')), '000000000000', 'ZZZZZZZZZZZZ'];

  it('match litecoind\'s own derivation for Litecoin regtest, byte for byte', async () => {
    const pub = fixedKeys('litecoin-regtest').public;
    for (const serial of serials) {
      const ours = deriveBallotAddress(pub, serial);
      expect({ serial, address: await litecoindAddress(pub.xpub, serial) }).toEqual({ serial, address: ours });
      const v = await rpc<{ isvalid: boolean; address: string }>('validateaddress', [ours]);
      expect(v).toMatchObject({ isvalid: true, address: ours });
    }
  });

  it('carry the same key hash as litecoind derives for the other tpub networks', async () => {
    for (const network of ['florincoin-regtest', 'bitcoin-test', 'bitcoin-regtest'] as NetworkName[]) {
      const pub = fixedKeys(network).public;
      for (const serial of serials.slice(0, 3)) {
        const theirs = btcAddress.fromBase58Check(await litecoindAddress(pub.xpub, serial)).hash;
        const ours = btcAddress.fromBase58Check(deriveBallotAddress(pub, serial)).hash;
        expect({ network, serial, hash: Buffer.from(ours).toString('hex') }).toEqual({ network, serial, hash: Buffer.from(theirs).toString('hex') });
      }
    }
  });

  it('are refused by litecoind when in another network\'s format (the check is real)', async () => {
    const flo = deriveBallotAddress(fixedKeys('florincoin-regtest').public, serials[0] as string);
    expect((await rpc<{ isvalid: boolean }>('validateaddress', [flo])).isvalid).toBe(false);
  });
});
