/**
 * Splits a byte stream into frames at 0x00 delimiters with a bounded buffer. Whatever cannot be decoded is
 * counted and reported, and reading goes on from the next delimiter: garbage on the line never stops the link.
 */
import { assertNever } from '../../lib/result';
import { decodeFrame, MAX_ENCODED_FRAME_BYTES, type Frame, type FrameError } from './frame';

export interface FrameReaderStats {
  frames: number;
  malformed: number;
  cobsErrors: number;
  crcErrors: number;
  shortFrames: number;
  oversizeFrames: number;
  bytesDiscarded: number;
}

export function emptyFrameReaderStats(): FrameReaderStats {
  return { frames: 0, malformed: 0, cobsErrors: 0, crcErrors: 0, shortFrames: 0, oversizeFrames: 0, bytesDiscarded: 0 };
}

export class FrameReader {
  private readonly buf = new Uint8Array(MAX_ENCODED_FRAME_BYTES);
  private len = 0;
  /** True while skipping the rest of an overlong run of bytes up to the next delimiter. */
  private skipping = false;
  readonly stats = emptyFrameReaderStats();

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly onMalformed: (error: FrameError) => void = () => undefined,
  ) {}

  push(chunk: Uint8Array): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i += 1) {
      if (chunk[i] !== 0) continue;
      this.append(chunk.subarray(start, i));
      this.finishFrame();
      start = i + 1;
    }
    this.append(chunk.subarray(start));
  }

  private append(part: Uint8Array): void {
    if (part.length === 0) return;
    if (this.skipping) {
      this.stats.bytesDiscarded += part.length;
      return;
    }
    if (this.len + part.length > this.buf.length) {
      this.stats.bytesDiscarded += this.len + part.length;
      this.len = 0;
      this.skipping = true;
      return;
    }
    this.buf.set(part, this.len);
    this.len += part.length;
  }

  private finishFrame(): void {
    if (this.skipping) {
      this.skipping = false;
      this.report({ kind: 'oversize', length: MAX_ENCODED_FRAME_BYTES + 1 });
      return;
    }
    if (this.len === 0) return; // back-to-back delimiters are legal padding
    const encoded = this.buf.slice(0, this.len);
    this.len = 0;
    const decoded = decodeFrame(encoded);
    if (decoded.ok) {
      this.stats.frames += 1;
      this.onFrame(decoded.value);
    } else {
      this.stats.bytesDiscarded += encoded.length;
      this.report(decoded.error);
    }
  }

  private report(error: FrameError): void {
    this.stats.malformed += 1;
    switch (error.kind) {
      case 'cobs':
        this.stats.cobsErrors += 1;
        break;
      case 'crc':
        this.stats.crcErrors += 1;
        break;
      case 'short':
        this.stats.shortFrames += 1;
        break;
      case 'oversize':
        this.stats.oversizeFrames += 1;
        break;
      default:
        assertNever(error, 'frame error');
    }
    this.onMalformed(error);
  }
}
