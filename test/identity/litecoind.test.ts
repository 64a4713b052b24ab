import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { address as btcAddress } from 'bitcoinjs-lib';
import type { NetworkName } from '../../ballots/identity';
import { ballotAddressPath, deriveBallotAddress, deterministicRng, randomSerials } from '../../ballots/identity';
import { fixedKeys } from './fixtures';

/*
 * An independent implementation checks our BIP32 path and P2PKH encoding: a real `litecoind -regtest`
 * derives the address of `pkh(<xpub>/0/<hi>/<lo>)` with its own descriptor code, and must get the address
 * we print. Florincoin regtest and Bitcoin test/regtest use the same tpub version, so their key hashes are
 * checked against it too.
 */
const RPC_USER = 'tallyproof';
const RPC_PASSWORD = 'identity-test';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

let daemon: ChildProcess | undefined;
let datadir: string;
let rpcPort: number;
let daemonLog = '';

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${rpcPort}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${RPC_USER}:${RPC_PASSWORD}`).toString('base64')}` },
    body: JSON.stringify({ jsonrpc: '1.0', id: method, method, params }),
  });
  const body = (await res.json()) as { result: T; error: { message: string } | null };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

beforeAll(async () => {
  datadir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-litecoind-'));
  rpcPort = await freePort();
  const p2pPort = await freePort();
  daemon = spawn(
    'litecoind',
    [
      '-regtest',
      `-datadir=${datadir}`,
      '-server',
      '-listen=0',
      `-port=${p2pPort}`,
      `-rpcport=${rpcPort}`,
      '-rpcbind=127.0.0.1',
      '-rpcallowip=127.0.0.1',
      `-rpcuser=${RPC_USER}`,
      `-rpcpassword=${RPC_PASSWORD}`,
      '-disablewallet',
      '-printtoconsole',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  daemon.stdout?.on('data', (d: Buffer) => void (daemonLog = (daemonLog + d.toString()).slice(-4000)));
  daemon.stderr?.on('data', (d: Buffer) => void (daemonLog = (daemonLog + d.toString()).slice(-4000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (daemon.exitCode !== null) throw new Error(`litecoind exited (${daemon.exitCode}):\n${daemonLog}`);
    try {
      await rpc('getblockchaininfo');
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`litecoind did not answer within 60 s:\n${daemonLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
});

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon?.once('exit', r));
    try {
      await rpc('stop');
    } catch {
      daemon.kill('SIGTERM');
    }
    await exited;
  }
  fs.rmSync(datadir, { recursive: true, force: true });
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
