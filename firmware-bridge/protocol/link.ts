/**
 * One end of the link: frames out and in, stop-and-wait delivery for reliable frames (sequence number, ACK,
 * retransmission, duplicate suppression), and plain best-effort frames for heartbeats and image chunks, whose
 * losses the layer above repairs by asking again. Both the serial driver and the firmware simulator use it.
 */
import { err, ok, type Result } from '../../lib/result';
import { AwakeTicks, type Clock } from '../clock';
import { encodeFrame, FLAG_RELIABLE, type Frame, type FrameError } from './frame';
import { FrameReader, type FrameReaderStats } from './frame-reader';
import { isKnownType, MsgType } from './messages';

export type LinkError = 'reset' | 'dead' | 'queue-full' | 'closed';

export interface LinkStats extends FrameReaderStats {
  framesSent: number;
  retransmits: number;
  duplicates: number;
  unknownTypes: number;
}

export interface LinkOptions {
  readonly send: (bytes: Uint8Array) => void;
  readonly clock: Clock;
  readonly onFrame: (frame: Frame) => void;
  /** Called once when a reliable frame went unacknowledged through every retry. */
  readonly onDead?: (reason: string) => void;
  readonly log?: (message: string) => void;
  readonly retransmitMs?: number;
  readonly maxRetries?: number;
  /** Bound on queued reliable frames; beyond it sendReliable fails at once rather than growing without limit. */
  readonly maxQueue?: number;
}

interface Pending {
  readonly type: number;
  readonly payload: Uint8Array;
  readonly resolve: (r: Result<void, LinkError>) => void;
}

export class LinkEndpoint {
  private readonly reader: FrameReader;
  private readonly queue: Pending[] = [];
  private inflight: { entry: Pending; seq: number; tries: AwakeTicks; cancel: () => void } | undefined;
  private nextSeq = 1;
  /** Sequence number of the last reliable frame delivered upward; -1 right after a reset. */
  private lastRxSeq = -1;
  private closed = false;
  private readonly counters = { framesSent: 0, retransmits: 0, duplicates: 0, unknownTypes: 0 };

  constructor(private readonly opts: LinkOptions) {
    this.reader = new FrameReader(
      (f) => this.onFrame(f),
      (e) => this.onMalformed(e),
    );
  }

  get stats(): LinkStats {
    return { ...this.reader.stats, ...this.counters };
  }

  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    this.reader.push(bytes);
  }

  sendUnreliable(type: number, payload: Uint8Array, seq = 0): void {
    if (this.closed) return;
    this.write({ type, flags: 0, seq, payload });
  }

  sendReliable(type: number, payload: Uint8Array): Promise<Result<void, LinkError>> {
    if (this.closed) return Promise.resolve(err('closed'));
    if (this.queue.length >= (this.opts.maxQueue ?? 64)) return Promise.resolve(err('queue-full'));
    return new Promise((resolve) => {
      this.queue.push({ type, payload, resolve });
      this.pump();
    });
  }

  /** Forget sequence state on both directions (after a handshake); whatever was queued fails with 'reset'. */
  reset(): void {
    this.failAll('reset');
    this.nextSeq = 1;
    this.lastRxSeq = -1;
  }

  close(): void {
    if (this.closed) return;
    this.failAll('closed');
    this.closed = true;
  }

  get pendingReliable(): number {
    return this.queue.length + (this.inflight ? 1 : 0);
  }

  private failAll(reason: LinkError): void {
    if (this.inflight) {
      this.inflight.cancel();
      const e = this.inflight.entry;
      this.inflight = undefined;
      e.resolve(err(reason));
    }
    for (const p of this.queue.splice(0)) p.resolve(err(reason));
  }

  private write(frame: Frame): void {
    this.counters.framesSent += 1;
    this.opts.send(encodeFrame(frame));
  }

  private pump(): void {
    if (this.inflight || this.closed) return;
    const entry = this.queue.shift();
    if (!entry) return;
    const seq = this.nextSeq;
    this.nextSeq = seq === 0xffff ? 1 : seq + 1;
    // retries are counted as ticks this end was awake for: a stall of its own process is not a dead link
    this.inflight = { entry, seq, tries: new AwakeTicks(this.opts.clock, this.opts.retransmitMs ?? 200, (this.opts.maxRetries ?? 10) + 1), cancel: () => undefined };
    this.transmit();
  }

  private transmit(): void {
    const f = this.inflight;
    if (!f) return;
    this.write({ type: f.entry.type, flags: FLAG_RELIABLE, seq: f.seq, payload: f.entry.payload });
    f.cancel = this.opts.clock.after(this.opts.retransmitMs ?? 200, () => this.onTimeout(f.seq));
  }

  private onTimeout(seq: number): void {
    const f = this.inflight;
    if (!f || f.seq !== seq) return;
    if (f.tries.tick()) {
      this.opts.log?.(`link: frame seq ${seq} unacknowledged after ${(this.opts.maxRetries ?? 10) + 1} tries`);
      this.failAll('dead');
      this.opts.onDead?.(`no acknowledgement for frame ${seq}`);
      return;
    }
    this.counters.retransmits += 1;
    this.transmit();
  }

  private onMalformed(e: FrameError): void {
    this.opts.log?.(`link: malformed frame (${e.kind}${e.kind === 'crc' ? `, crc ${e.actual.toString(16)} != ${e.expected.toString(16)}` : ''})`);
  }

  private onFrame(frame: Frame): void {
    if (!isKnownType(frame.type)) {
      this.counters.unknownTypes += 1;
      this.opts.log?.(`link: unknown frame type 0x${frame.type.toString(16)}`);
      return;
    }
    if (frame.type === MsgType.ack) {
      const f = this.inflight;
      if (f && f.seq === frame.seq) {
        f.cancel();
        this.inflight = undefined;
        f.entry.resolve(ok(undefined));
        this.pump();
      }
      return;
    }
    if ((frame.flags & FLAG_RELIABLE) !== 0) {
      // Always acknowledge: the sender may have missed our first ACK and be retransmitting.
      this.write({ type: MsgType.ack, flags: 0, seq: frame.seq, payload: new Uint8Array(0) });
      if (frame.seq === this.lastRxSeq) {
        this.counters.duplicates += 1;
        return;
      }
      this.lastRxSeq = frame.seq;
    }
    this.opts.onFrame(frame);
  }
}
