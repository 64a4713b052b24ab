import { displayFromInternal, sha256d } from './block-proof';

/**
 * Just enough of the Bitcoin-family transaction format to audit a publication without trusting a parser
 * that throws away what it does not know: outputs, the non-witness bytes the txid hashes, and Florincoin's
 * floData (a varbytes string after nLockTime in transactions of version 2 and up, part of the txid).
 */

export class TxParseError extends Error {
  override readonly name = 'TxParseError';
}

export interface ParsedTx {
  readonly version: number;
  readonly inputs: number;
  readonly outputs: readonly { readonly value: bigint; readonly script: Uint8Array }[];
  readonly lockTime: number;
  readonly floData?: Uint8Array;
  /** the serialisation without witnesses: what the txid is the double SHA-256 of */
  readonly stripped: Uint8Array;
  /** display hex */
  readonly txid: string;
}

class Cursor {
  offset = 0;

  constructor(readonly buf: Uint8Array) {}

  take(n: number, what: string): Uint8Array {
    if (n < 0 || this.offset + n > this.buf.length) throw new TxParseError(`the transaction ends while reading ${what}`);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u8(what: string): number {
    return this.take(1, what)[0] as number;
  }

  u32(what: string): number {
    const b = this.take(4, what);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  compact(what: string): number {
    const first = this.u8(what);
    if (first < 0xfd) return first;
    const n = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
    const b = this.take(n, what);
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + (b[i] as number);
    if (!Number.isSafeInteger(v)) throw new TxParseError(`${what} is too large`);
    return v;
  }
}

function compactSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >>> 8);
  return Uint8Array.of(0xfe, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

export function parseTx(hex: string, opts: { floData: boolean }): ParsedTx {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) throw new TxParseError('a raw transaction is hex');
  const buf = new Uint8Array(Buffer.from(hex, 'hex'));
  const c = new Cursor(buf);
  const versionBytes = c.take(4, 'version');
  const version = new DataView(versionBytes.buffer, versionBytes.byteOffset, 4).getInt32(0, true);
  let segwit = false;
  if (buf[4] === 0x00 && buf[5] !== 0x00) {
    c.take(1, 'segwit marker');
    if (c.u8('segwit flag') !== 0x01) throw new TxParseError('unknown segwit flag');
    segwit = true;
  }
  const bodyStart = c.offset;
  const nIn = c.compact('input count');
  if (nIn === 0) throw new TxParseError('a transaction has at least one input');
  for (let i = 0; i < nIn; i++) {
    c.take(36, `input ${i} outpoint`);
    c.take(c.compact(`input ${i} script length`), `input ${i} script`);
    c.take(4, `input ${i} sequence`);
  }
  const nOut = c.compact('output count');
  const outputs: { value: bigint; script: Uint8Array }[] = [];
  for (let i = 0; i < nOut; i++) {
    const v = c.take(8, `output ${i} value`);
    const value = new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true);
    outputs.push({ value, script: c.take(c.compact(`output ${i} script length`), `output ${i} script`).slice() });
  }
  const bodyEnd = c.offset;
  if (segwit) {
    for (let i = 0; i < nIn; i++) {
      const items = c.compact(`input ${i} witness count`);
      for (let k = 0; k < items; k++) c.take(c.compact(`input ${i} witness item length`), `input ${i} witness item`);
    }
  }
  const lockStart = c.offset;
  const lockTime = c.u32('nLockTime');
  let floData: Uint8Array | undefined;
  let tailEnd = c.offset;
  if (opts.floData && version >= 2) {
    floData = c.take(c.compact('floData length'), 'floData').slice();
    tailEnd = c.offset;
  }
  if (c.offset !== buf.length) throw new TxParseError(`${buf.length - c.offset} bytes after the end of the transaction`);
  const stripped = new Uint8Array(4 + (bodyEnd - bodyStart) + (tailEnd - lockStart));
  stripped.set(versionBytes, 0);
  stripped.set(buf.subarray(bodyStart, bodyEnd), 4);
  stripped.set(buf.subarray(lockStart, tailEnd), 4 + bodyEnd - bodyStart);
  return { version, inputs: nIn, outputs, lockTime, ...(floData !== undefined ? { floData } : {}), stripped, txid: displayFromInternal(sha256d(stripped)) };
}

/** The data of an output script `OP_RETURN <one push>`, or undefined for any other script. */
export function opReturnData(script: Uint8Array): Uint8Array | undefined {
  if (script[0] !== 0x6a || script.length < 2) return undefined;
  const op = script[1] as number;
  let start: number;
  let len: number;
  if (op >= 0x01 && op <= 0x4b) {
    start = 2;
    len = op;
  } else if (op === 0x4c) {
    start = 3;
    len = script[2] ?? -1;
  } else if (op === 0x4d) {
    start = 4;
    len = (script[2] ?? 0) | ((script[3] ?? 0) << 8);
    if (script.length < 4) return undefined;
  } else return undefined;
  if (len < 0 || start + len !== script.length) return undefined;
  return script.slice(start, start + len);
}

/** Every OP_RETURN payload of a transaction, in output order. */
export function opReturnPayloads(tx: ParsedTx): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const o of tx.outputs) {
    const d = opReturnData(o.script);
    if (d !== undefined) out.push(d);
  }
  return out;
}

export { compactSize };
