import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, replaceFileAtomically } from '../../lib/durable-fs';

/**
 * An export written piece by piece (10,000 cast vote records are megabytes of JSON: they are never one
 * string) with the guarantee of lib/durable-fs.ts's replaceFileAtomically: the pieces go into a temporary
 * sibling, which is flushed and renamed over the target, then the directory is flushed. A failure leaves the
 * old file (or none) and removes the temporary one. Small files go through replaceFileAtomically itself.
 */
export class AtomicStreamFile {
  private readonly tmp: string;
  private fd: number | undefined;
  private buf: string[] = [];
  private size = 0;
  private readonly hash = crypto.createHash('sha256');
  private bytes = 0;

  constructor(readonly file: string) {
    this.tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`);
    this.fd = fs.openSync(this.tmp, 'wx', 0o644);
  }

  write(text: string): void {
    this.buf.push(text);
    this.size += text.length;
    if (this.size >= 1 << 16) this.flushBuffer();
  }

  private flushBuffer(): void {
    if (this.fd === undefined) throw new Error(`${this.file}: written after it was finished`);
    const data = Buffer.from(this.buf.join(''), 'utf8');
    this.buf = [];
    this.size = 0;
    this.hash.update(data);
    this.bytes += data.length;
    let off = 0;
    while (off < data.length) off += fs.writeSync(this.fd, data, off);
  }

  /** Flushes, renames into place, flushes the directory; returns the file's size and SHA-256. */
  finish(): { bytes: number; sha256: string } {
    try {
      this.flushBuffer();
      const fd = this.fd as number;
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      this.fd = undefined;
      fs.renameSync(this.tmp, this.file);
    } catch (e) {
      this.abort();
      throw e;
    }
    fsyncDir(path.dirname(this.file));
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  abort(): void {
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // the first error is the one reported
      }
      this.fd = undefined;
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

/** Writes a stream file with `body`, removing the temporary file if `body` throws. */
export function writeStreamed(file: string, body: (out: AtomicStreamFile) => void): { bytes: number; sha256: string } {
  const out = new AtomicStreamFile(file);
  try {
    body(out);
  } catch (e) {
    out.abort();
    throw e;
  }
  return out.finish();
}

export function writeSmall(file: string, text: string): { bytes: number; sha256: string } {
  const data = Buffer.from(text, 'utf8');
  replaceFileAtomically(file, data);
  return { bytes: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') };
}
