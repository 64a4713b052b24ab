/** Little-endian writer and bounds-checked reader for message payloads. */
import { err, ok, type Result } from '../../lib/result';

export class BinaryWriter {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.view.setUint8(this.len, v);
    this.len += 1;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.view.setUint16(this.len, v, true);
    this.len += 2;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.len, v >>> 0, true);
    this.len += 4;
    return this;
  }

  /** A short UTF-8 string: one length byte, then the bytes (at most 255). */
  str(v: string): this {
    const bytes = Buffer.from(v, 'utf8');
    if (bytes.length > 255) throw new RangeError(`string too long for the wire: ${bytes.length} bytes`);
    this.u8(bytes.length);
    return this.raw(bytes);
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export class TruncatedPayload extends Error {
  constructor(readonly at: number, readonly wanted: number) {
    super(`payload truncated: wanted ${wanted} bytes at offset ${at}`);
  }
}

export class BinaryReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new TruncatedPayload(this.pos, n);
  }

  u8(): number {
    this.need(1);
    const v = this.view.getUint8(this.pos);
    this.pos += 1;
    return v;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  str(): string {
    const n = this.u8();
    this.need(n);
    const s = Buffer.from(this.buf.subarray(this.pos, this.pos + n)).toString('utf8');
    this.pos += n;
    return s;
  }

  rest(): Uint8Array {
    const r = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return r;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }
}

/** Runs a payload parser; a short or overlong payload becomes a value, not an exception. */
export function parsePayload<T>(payload: Uint8Array, parse: (r: BinaryReader) => T): Result<T, string> {
  const r = new BinaryReader(payload);
  try {
    const value = parse(r);
    if (r.remaining !== 0) return err(`${r.remaining} unexpected trailing bytes`);
    return ok(value);
  } catch (e) {
    if (e instanceof TruncatedPayload || e instanceof RangeError) return err(e.message);
    throw e;
  }
}
