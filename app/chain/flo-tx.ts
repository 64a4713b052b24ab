import { secp256k1 } from '@noble/curves/secp256k1';
import { sha256 } from '@noble/hashes/sha256';
import { script as bscript } from 'bitcoinjs-lib';
import type { Signer } from 'bitcoinjs-lib';
import { PublishError } from './errors';

/**
 * Florincoin transactions with floData. FLO (floblockchain/flo, primitives/transaction.h) serialises a
 * version ≥ 2 transaction as Bitcoin does and then, after nLockTime, the floData as a compact-size length
 * and its bytes; the txid is the double SHA-256 of that whole serialisation (no witness), so it covers the
 * floData. The legacy signature hash also appends the floData after nLockTime, before the hash type: both
 * are checked against a real mainnet transaction (test/chain/vectors/flo-mainnet-b704842d.json), txid and
 * signature. Only P2PKH spending is built here: FLO's segwit signature hash has no real vector to check.
 */
export const FLO_DATA_MAX_BYTES = 1040;
export const SIGHASH_ALL = 0x01;

export interface FloInput {
  /** txid in RPC display order (hex) */
  readonly txid: string;
  readonly vout: number;
  script: Uint8Array;
  readonly sequence: number;
}

export interface FloOutput {
  readonly value: bigint;
  readonly script: Uint8Array;
}

export interface FloTx {
  readonly version: number;
  readonly inputs: FloInput[];
  readonly outputs: FloOutput[];
  readonly locktime: number;
  readonly floData: Uint8Array;
}

class Writer {
  private buf = new Uint8Array(256);
  private len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    new DataView(this.buf.buffer).setUint32(this.len, v >>> 0, true);
    this.len += 4;
    return this;
  }
  u64(v: bigint): this {
    this.ensure(8);
    new DataView(this.buf.buffer).setBigUint64(this.len, v, true);
    this.len += 8;
    return this;
  }
  varint(n: number): this {
    if (n < 0xfd) return this.bytes(Uint8Array.of(n));
    if (n <= 0xffff) return this.bytes(Uint8Array.of(0xfd, n & 0xff, n >>> 8));
    this.bytes(Uint8Array.of(0xfe));
    return this.u32(n);
  }
  varbytes(b: Uint8Array): this {
    return this.varint(b.length).bytes(b);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const reversedHex = (b: Uint8Array): string => Buffer.from(b).reverse().toString('hex');
const hashFromTxid = (txid: string): Uint8Array => {
  if (!/^[0-9a-f]{64}$/.test(txid)) throw new PublishError('input', `not a txid: ${txid}`);
  return Uint8Array.from(Buffer.from(txid, 'hex').reverse());
};
const dsha = (b: Uint8Array): Uint8Array => sha256(sha256(b));

function writeBody(w: Writer, tx: FloTx, scriptFor: (i: number) => Uint8Array): void {
  w.u32(tx.version).varint(tx.inputs.length);
  tx.inputs.forEach((inp, i) => w.bytes(hashFromTxid(inp.txid)).u32(inp.vout).varbytes(scriptFor(i)).u32(inp.sequence));
  w.varint(tx.outputs.length);
  for (const o of tx.outputs) w.u64(o.value).varbytes(o.script);
  w.u32(tx.locktime);
  if (tx.version >= 2) w.varbytes(tx.floData);
}

export function serializeFloTx(tx: FloTx): Uint8Array {
  if (tx.floData.length > FLO_DATA_MAX_BYTES) throw new PublishError('input', `floData holds at most ${FLO_DATA_MAX_BYTES} bytes, got ${tx.floData.length}`);
  if (tx.floData.length > 0 && tx.version < 2) throw new PublishError('input', 'floData needs a version 2 transaction');
  const w = new Writer();
  writeBody(w, tx, (i) => (tx.inputs[i] as FloInput).script);
  return w.finish();
}

export function floTxid(tx: FloTx): string {
  return reversedHex(dsha(serializeFloTx(tx)));
}

/** Legacy (pre-segwit) signature hash, SIGHASH_ALL, as FLO computes it: floData after nLockTime. */
export function floSighashAll(tx: FloTx, index: number, scriptCode: Uint8Array): Uint8Array {
  if (index < 0 || index >= tx.inputs.length) throw new PublishError('input', `no input ${index}`);
  const w = new Writer();
  writeBody(w, tx, (i) => (i === index ? scriptCode : new Uint8Array(0)));
  w.u32(SIGHASH_ALL);
  return dsha(w.finish());
}

/** Signs every input as a P2PKH spend of `prevScript` (the station's own output script). */
export function signFloP2pkh(tx: FloTx, prevScript: Uint8Array, signer: Signer): FloTx {
  const sigs = tx.inputs.map((_, i) => bscript.signature.encode(signer.sign(floSighashAll(tx, i, prevScript)), SIGHASH_ALL));
  tx.inputs.forEach((inp, i) => {
    inp.script = bscript.compile([sigs[i] as Uint8Array, signer.publicKey]);
  });
  return tx;
}

/** Checks a P2PKH input's signature against its public key (for tests and for a received signed file). */
export function verifyFloP2pkhInput(tx: FloTx, index: number, prevScript: Uint8Array): boolean {
  const parts = bscript.decompile((tx.inputs[index] as FloInput).script);
  if (parts === null || parts.length !== 2) return false;
  const [sig, pub] = parts;
  if (!(sig instanceof Uint8Array) || !(pub instanceof Uint8Array)) return false;
  const decoded = bscript.signature.decode(sig);
  if (decoded.hashType !== SIGHASH_ALL) return false;
  return secp256k1.verify(decoded.signature, floSighashAll(tx, index, prevScript), pub, { lowS: false });
}

/** Parses a non-witness FLO transaction (what this module makes, and FLO's legacy transactions). */
export function parseFloTx(raw: Uint8Array): FloTx {
  let o = 0;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const need = (n: number): void => {
    if (o + n > raw.length) throw new PublishError('input', `FLO transaction truncated at byte ${o}`);
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(o, true);
    o += 4;
    return v;
  };
  const varint = (): number => {
    need(1);
    const b = raw[o++] as number;
    if (b < 0xfd) return b;
    if (b === 0xfd) {
      need(2);
      const v = dv.getUint16(o, true);
      o += 2;
      return v;
    }
    if (b === 0xfe) return u32();
    throw new PublishError('input', 'FLO transaction has a 64-bit length');
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const v = raw.slice(o, o + n);
    o += n;
    return v;
  };
  const version = u32();
  const nIn = varint();
  if (nIn === 0) throw new PublishError('input', 'segwit FLO transactions are not parsed here');
  const inputs: FloInput[] = [];
  for (let i = 0; i < nIn; i++) {
    const txid = reversedHex(bytes(32));
    const vout = u32();
    const script = bytes(varint());
    inputs.push({ txid, vout, script, sequence: u32() });
  }
  const nOut = varint();
  const outputs: FloOutput[] = [];
  for (let i = 0; i < nOut; i++) {
    need(8);
    const value = dv.getBigUint64(o, true);
    o += 8;
    outputs.push({ value, script: bytes(varint()) });
  }
  const locktime = u32();
  const floData = version >= 2 ? bytes(varint()) : new Uint8Array(0);
  if (o !== raw.length) throw new PublishError('input', `FLO transaction has ${raw.length - o} trailing bytes`);
  return { version, inputs, outputs, locktime, floData };
}
