/**
 * Byte helpers for the canonical encodings: unsigned LEB128 varints that refuse non-minimal forms (so one
 * value has exactly one encoding) and a bounds-checked reader that names what it was reading.
 */
export class EncodingError extends Error {
  override readonly name = 'EncodingError';
}

export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initial = 64) {
    this.buf = new Uint8Array(initial);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Starts over in the same buffer: for a writer kept and reused on a hot path (finish() copies out). */
  reset(): this {
    this.len = 0;
    return this;
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new EncodingError(`byte out of range: ${v}`);
    this.room(1);
    this.buf[this.len++] = v;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new EncodingError(`varint must be a non-negative safe integer, got ${v}`);
    this.room(8);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.len++] = x;
    return this;
  }

  /** A length-prefixed UTF-8 string. */
  text(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.varint(b.length).bytes(b);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class ByteReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(what: string): number {
    const v = this.buf[this.pos];
    if (v === undefined) throw new EncodingError(`truncated: ${what} missing at byte ${this.pos}`);
    this.pos += 1;
    return v;
  }

  bytes(n: number, what: string): Uint8Array {
    if (this.pos + n > this.buf.length) throw new EncodingError(`truncated: ${what} needs ${n} bytes at byte ${this.pos}, ${this.remaining} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Steps over `n` bytes with the same bounds check as bytes(), without making a view of them. */
  skip(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new EncodingError(`truncated: ${what} needs ${n} bytes at byte ${this.pos}, ${this.remaining} left`);
    this.pos += n;
  }

  /** A view of `n` bytes at `at`, already stepped over. */
  view(at: number, n: number): Uint8Array {
    return this.buf.subarray(at, at + n);
  }

  byteAt(at: number): number {
    return this.buf[at] as number;
  }

  varint(what: string): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8(what);
      value += (b & 0x7f) * scale;
      if (!Number.isSafeInteger(value)) throw new EncodingError(`${what} at byte ${start} is too large`);
      if ((b & 0x80) === 0) {
        // a trailing zero group means a longer-than-needed form: refuse it so encodings stay unique
        if (b === 0 && this.pos - start > 1) throw new EncodingError(`${what} at byte ${start} is not minimally encoded`);
        return value;
      }
      scale *= 0x80;
    }
  }

  text(what: string): string {
    const n = this.varint(what);
    const raw = this.bytes(n, what);
    try {
      return strictUtf8.decode(raw);
    } catch {
      throw new EncodingError(`${what} is not valid UTF-8`);
    }
  }

  /** Checks a text() field as text() does and steps over it without decoding it (ASCII needs no decoder). */
  skipText(what: string): void {
    const n = this.varint(what);
    const at = this.pos;
    this.skip(n, what);
    for (let i = at; i < at + n; i++) {
      if ((this.buf[i] as number) >= 0x80) {
        try {
          strictUtf8.decode(this.buf.subarray(at, at + n));
        } catch {
          throw new EncodingError(`${what} is not valid UTF-8`);
        }
        return;
      }
    }
  }

  end(what: string): void {
    if (this.pos !== this.buf.length) throw new EncodingError(`${this.buf.length - this.pos} unexpected trailing bytes after ${what}`);
  }
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string, what: string, length?: number): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(s)) throw new EncodingError(`${what} must be lowercase hex, got "${s.slice(0, 80)}"`);
  const b = new Uint8Array(Buffer.from(s, 'hex'));
  if (length !== undefined && b.length !== length) throw new EncodingError(`${what} must be ${length} bytes, got ${b.length}`);
  return b;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
