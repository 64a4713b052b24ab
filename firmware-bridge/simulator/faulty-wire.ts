/**
 * The device's side of the cable, with the line faults a real USB-serial link shows: garbage bytes, corrupted
 * and lost frames, a slow line. Every write from the firmware passes through here.
 */
import type { Clock } from '../clock';

export interface WireFaults {
  /** Probability of random garbage bytes (with stray delimiters) before a frame. */
  garbage: number;
  /** Probability that one byte of a frame is flipped. */
  corrupt: number;
  /** Probability that a whole frame is lost. */
  drop: number;
  /** 0 for an unthrottled line, else bytes per second. */
  bytesPerSecond: number;
}

export const cleanWire: WireFaults = { garbage: 0, corrupt: 0, drop: 0, bytesPerSecond: 0 };

export interface WireCounters {
  garbageInjected: number;
  framesCorrupted: number;
  framesDropped: number;
}

export class FaultyWire {
  faults: WireFaults = { ...cleanWire };
  readonly counters: WireCounters = { garbageInjected: 0, framesCorrupted: 0, framesDropped: 0 };
  private busyUntil = 0;

  constructor(
    private readonly out: (bytes: Uint8Array) => void,
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {}

  write(frame: Uint8Array): void {
    const f = this.faults;
    const parts: Uint8Array[] = [];
    if (f.garbage > 0 && this.random() < f.garbage) {
      const junk = new Uint8Array(1 + Math.floor(this.random() * 40));
      for (let i = 0; i < junk.length; i += 1) junk[i] = Math.floor(this.random() * 256);
      this.counters.garbageInjected += 1;
      parts.push(junk);
    }
    if (f.drop > 0 && this.random() < f.drop) {
      this.counters.framesDropped += 1;
    } else if (f.corrupt > 0 && this.random() < f.corrupt && frame.length > 2) {
      const bad = frame.slice();
      const i = Math.floor(this.random() * (bad.length - 1));
      bad[i] = (bad[i] as number) ^ (1 << Math.floor(this.random() * 8)) || 0x5a;
      this.counters.framesCorrupted += 1;
      parts.push(bad);
    } else {
      parts.push(frame);
    }
    for (const p of parts) this.send(p);
  }

  private send(bytes: Uint8Array): void {
    if (this.faults.bytesPerSecond <= 0) {
      this.out(bytes);
      return;
    }
    const now = this.clock.now();
    const start = Math.max(now, this.busyUntil);
    this.busyUntil = start + (bytes.length * 1000) / this.faults.bytesPerSecond;
    this.clock.after(this.busyUntil - now, () => this.out(bytes));
  }
}
