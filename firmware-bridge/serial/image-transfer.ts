/**
 * Pulls one sheet's images from the device in chunks, a few requests in flight at once. A chunk that does not
 * arrive is asked for again; after a reconnect the transfer resumes from the chunks it already holds.
 */
import { crc32 } from 'node:zlib';
import { err, ok, type Result } from '../../lib/result';
import type { Clock } from '../clock';
import type { ScannedImage } from '../driver';
import type { Chunk, ChunkError, ChunkRequest, ImageDescriptor } from '../protocol/messages';

export interface TransferOptions {
  readonly clock: Clock;
  readonly chunkSize: number;
  readonly window: number;
  readonly chunkTimeoutMs: number;
  /** Re-requests allowed per transfer before it gives up (a dead link is noticed by heartbeats first). */
  readonly maxRetries: number;
  readonly maxImageBytes: number;
}

export type TransferError = 'too-large' | 'unknown-image' | 'crc-mismatch' | 'gave-up';

interface ImageState {
  desc: ImageDescriptor;
  buf: Uint8Array;
  have: Uint8Array; // one flag per chunk
  missing: number;
  crcFailures: number;
}

export class ImageTransfer {
  private readonly images: ImageState[] = [];
  private readonly inflight = new Map<string, () => void>();
  private retries = 0;
  private send: ((q: ChunkRequest) => void) | undefined;
  private settled = false;
  private readonly done: Promise<Result<ScannedImage[], TransferError>>;
  private resolveDone!: (r: Result<ScannedImage[], TransferError>) => void;
  bytesReceived = 0;

  constructor(
    descs: readonly ImageDescriptor[],
    private readonly opts: TransferOptions,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    for (const desc of descs) {
      if (desc.length > opts.maxImageBytes) {
        this.finish(err('too-large'));
        return;
      }
      const chunks = Math.max(1, Math.ceil(desc.length / opts.chunkSize));
      this.images.push({ desc, buf: new Uint8Array(desc.length), have: new Uint8Array(chunks), missing: desc.length === 0 ? 0 : chunks, crcFailures: 0 });
    }
  }

  get result(): Promise<Result<ScannedImage[], TransferError>> {
    return this.done;
  }

  get handles(): number[] {
    return this.images.map((i) => i.desc.handle);
  }

  /** The device's descriptors after a reconnect: same handles and sizes means the bytes we hold are still good. */
  matches(descs: readonly ImageDescriptor[]): boolean {
    return descs.length === this.images.length && descs.every((d, i) => d.handle === this.images[i]?.desc.handle && d.length === this.images[i]?.desc.length && d.crc32 === this.images[i]?.desc.crc32);
  }

  start(send: (q: ChunkRequest) => void): void {
    if (this.settled) return;
    this.send = send;
    this.fill();
    this.checkComplete();
  }

  /** Link lost: stop asking, keep what arrived. */
  pause(): void {
    this.send = undefined;
    for (const cancel of this.inflight.values()) cancel();
    this.inflight.clear();
  }

  abort(reason: TransferError): void {
    this.pause();
    this.finish(err(reason));
  }

  onChunk(c: Chunk): void {
    const img = this.images.find((i) => i.desc.handle === c.handle);
    if (!img || this.settled) return;
    const key = `${c.handle}:${c.offset}`;
    const cancel = this.inflight.get(key);
    const index = Math.floor(c.offset / this.opts.chunkSize);
    const expectedLength = Math.min(this.opts.chunkSize, img.desc.length - c.offset);
    if (c.offset % this.opts.chunkSize !== 0 || c.total !== img.desc.length || c.data.length !== expectedLength || img.have[index] === undefined) return;
    if (cancel) {
      cancel();
      this.inflight.delete(key);
    }
    if (img.have[index] === 0) {
      img.buf.set(c.data, c.offset);
      img.have[index] = 1;
      img.missing -= 1;
      this.bytesReceived += c.data.length;
    }
    this.checkComplete();
    this.fill();
  }

  onChunkError(e: ChunkError): void {
    if (this.images.some((i) => i.desc.handle === e.handle)) this.abort('unknown-image');
  }

  private checkComplete(): void {
    if (this.settled) return;
    for (const img of this.images) {
      if (img.missing > 0) return;
    }
    for (const img of this.images) {
      if (crc32(img.buf) !== img.desc.crc32) {
        img.crcFailures += 1;
        if (img.crcFailures > 2) return this.abort('crc-mismatch');
        img.have.fill(0);
        img.missing = img.have.length;
        this.fill();
        return;
      }
    }
    this.pause();
    this.finish(ok(this.images.map((i) => ({ side: i.desc.side, format: i.desc.format, bytes: i.buf }))));
  }

  private finish(r: Result<ScannedImage[], TransferError>): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveDone(r);
  }

  private fill(): void {
    if (!this.send || this.settled) return;
    for (const img of this.images) {
      for (let i = 0; i < img.have.length && this.inflight.size < this.opts.window; i += 1) {
        if (img.have[i] === 1) continue;
        const offset = i * this.opts.chunkSize;
        const key = `${img.desc.handle}:${offset}`;
        if (this.inflight.has(key)) continue;
        this.request(img, offset, key);
      }
    }
  }

  private request(img: ImageState, offset: number, key: string): void {
    const send = this.send;
    if (!send) return;
    const length = Math.min(this.opts.chunkSize, img.desc.length - offset);
    this.inflight.set(
      key,
      this.opts.clock.after(this.opts.chunkTimeoutMs, () => {
        this.inflight.delete(key);
        this.retries += 1;
        if (this.retries > this.opts.maxRetries) return this.abort('gave-up');
        this.request(img, offset, key);
      }),
    );
    send({ handle: img.desc.handle, offset, length });
  }
}
