import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '@noble/hashes/sha256';
import { script as bscript } from 'bitcoinjs-lib';
import { floSighashAll, floTxid, parseFloTx, serializeFloTx, signFloP2pkh, verifyFloP2pkhInput } from '../../app/chain/flo-tx';
import type { FloTx } from '../../app/chain/flo-tx';
import { walletFromSecret } from '../../app/chain/station-wallet';
import { NETWORKS } from '../../ballots/identity/networks';

const vectors = path.join(__dirname, 'vectors');
const mainnet = JSON.parse(fs.readFileSync(path.join(vectors, 'flo-mainnet-b704842d.json'), 'utf8')) as {
  txid: string;
  hex: string;
  floData: string;
  input: { txid: string; prevScript: string; valueSat: number };
  output: { valueSat: number; script: string };
};
const genesis = JSON.parse(fs.readFileSync(path.join(vectors, 'flo-genesis.json'), 'utf8')) as {
  timestamp: string;
  floData: string;
  outputKey: string;
  valueSat: number;
  merkleRoot: string;
  mainHeader: { version: number; time: number; bits: number; nonce: number; hash: string };
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

describe('Florincoin transactions with floData', () => {
  test('a real mainnet transaction parses, re-serialises byte for byte and hashes to its txid', () => {
    const tx = parseFloTx(bytes(mainnet.hex));
    expect(tx.version).toBe(2);
    expect(Buffer.from(tx.floData).toString('utf8')).toBe(mainnet.floData);
    expect(tx.inputs[0]?.txid).toBe(mainnet.input.txid);
    expect(tx.outputs[0]?.value).toBe(BigInt(mainnet.output.valueSat));
    expect(hex(serializeFloTx(tx))).toBe(mainnet.hex);
    expect(floTxid(tx)).toBe(mainnet.txid);
  });

  test('its signature verifies under the floData-covering signature hash, and not without the floData', () => {
    const tx = parseFloTx(bytes(mainnet.hex));
    const prev = bytes(mainnet.input.prevScript);
    expect(verifyFloP2pkhInput(tx, 0, prev)).toBe(true);
    // the same transaction with its floData changed: the signature no longer matches
    const altered: FloTx = { ...tx, floData: new TextEncoder().encode(`${mainnet.floData}!`) };
    expect(verifyFloP2pkhInput(altered, 0, prev)).toBe(false);
    // and the txid moves with the floData
    expect(floTxid(altered)).not.toBe(mainnet.txid);
  });

  test("FLO's genesis coinbase (floData) hashes to the Merkle root its chainparams assert, and the header to the genesis hash", () => {
    // spelled out: bitcoinjs would shorten the one-byte push of 4 to OP_4, CScript << CScriptNum(4) does not
    const ts = new TextEncoder().encode(genesis.timestamp);
    const scriptSig = Uint8Array.from([0x04, 0xff, 0xff, 0x00, 0x1d, 0x01, 0x04, ts.length, ...ts]);
    const outScript = bscript.compile([bytes(genesis.outputKey), bscript.OPS.OP_CHECKSIG as number]);
    const tx: FloTx = {
      version: 2,
      inputs: [{ txid: '00'.repeat(32), vout: 0xffffffff, script: scriptSig, sequence: 0xffffffff }],
      outputs: [{ value: BigInt(genesis.valueSat), script: outScript }],
      locktime: 0,
      floData: new TextEncoder().encode(genesis.floData),
    };
    expect(floTxid(tx)).toBe(genesis.merkleRoot);
    const h = genesis.mainHeader;
    const header = Buffer.alloc(80);
    header.writeUInt32LE(h.version, 0);
    Buffer.from(genesis.merkleRoot, 'hex').reverse().copy(header, 36);
    header.writeUInt32LE(h.time, 68);
    header.writeUInt32LE(h.bits, 72);
    header.writeUInt32LE(h.nonce, 76);
    expect(Buffer.from(sha256(sha256(header))).reverse().toString('hex')).toBe(h.hash);
  });

  test('a transaction signed here verifies, round-trips, and its signature hash differs from Bitcoin legacy', () => {
    const secret = new Uint8Array(32);
    secret[31] = 9;
    const wallet = walletFromSecret(secret);
    const net = NETWORKS['florincoin-main'];
    const prev = wallet.outputScript(net, 'p2pkh');
    const data = new Uint8Array(1040).fill(0x5a);
    const tx = signFloP2pkh(
      { version: 2, inputs: [{ txid: mainnet.txid, vout: 0, script: new Uint8Array(0), sequence: 0xffffffff }], outputs: [{ value: 499_000_000n, script: prev }], locktime: 0, floData: data },
      prev,
      wallet.signer,
    );
    expect(verifyFloP2pkhInput(tx, 0, prev)).toBe(true);
    const back = parseFloTx(serializeFloTx(tx));
    expect(hex(back.floData)).toBe(hex(data));
    expect(floTxid(back)).toBe(floTxid(tx));
    const noFlo = floSighashAll({ ...tx, version: 1, floData: new Uint8Array(0) }, 0, prev);
    expect(hex(noFlo)).not.toBe(hex(floSighashAll(tx, 0, prev)));
  });

  test('refuses floData over 1,040 bytes and truncated input', () => {
    const tx = parseFloTx(bytes(mainnet.hex));
    expect(() => serializeFloTx({ ...tx, floData: new Uint8Array(1041) })).toThrow(/at most 1040 bytes/);
    expect(() => parseFloTx(bytes(mainnet.hex.slice(0, -10)))).toThrow(/truncated/);
    expect(() => parseFloTx(bytes(`${mainnet.hex}00`))).toThrow(/trailing/);
  });
});
