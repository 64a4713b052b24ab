/** Time as the bridge sees it, so tests and the simulator can run mechanical delays and timeouts on a fake clock. */
export interface Clock {
  now(): number;
  /** Calls fn after ms; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/**
 * The real clock reads the monotonic timer, not the wall clock: every use of `now()` here measures a duration
 * (silence on the link, a command's wait, a tick's lateness), and a wall clock that is stepped (NTP, a
 * captain setting the time, a test pinning the date) must not make a live scanner look dead or a stall look
 * like silence. Whole milliseconds: heartbeats carry the uptime as an integer.
 */
export const systemClock: Clock = {
  now: () => Math.floor(performance.now()),
  after(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

/** A clock that only moves when told to; timers fire in due order during advance(). */
export class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }

  get pending(): number {
    return this.timers.length;
  }
}

export function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.after(ms, resolve);
  });
}

/**
 * Tells a real silence from a stall of this process. A timer that fires long after it was due means the event
 * loop was blocked (a synchronous PDF render, a swapping machine): the other side's bytes may be sitting unread
 * in the kernel, because Node runs due timers before it reads I/O. So a verdict of silence is only given on a
 * tick that came on time, after the loop has had a full interval awake to read what arrived; a loop that is
 * late on every tick still gets a verdict, after twice the ticks.
 */
export class AwakeTicks {
  private last: number;
  private count = 0;
  private stalled = false;

  /** `needed` ticks of `everyMs` each make the awaited time. */
  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly needed: number,
  ) {
    this.last = clock.now();
  }

  /** Starts counting again (something was heard). */
  reset(): void {
    this.count = 0;
    this.stalled = false;
    this.last = this.clock.now();
  }

  /** Call on each tick; true when the awaited time has passed with the process awake to see it. */
  tick(): boolean {
    const now = this.clock.now();
    const late = now - this.last > this.everyMs + Math.max(this.everyMs, 100);
    this.last = now;
    this.count += 1;
    if (late) this.stalled = true;
    return (this.count >= this.needed && !late) || this.count >= this.needed * 2;
  }

  /** True if a tick since the last reset came late: the process stalled while waiting. */
  get sawStall(): boolean {
    return this.stalled;
  }
}

/**
 * clock.after, but counting only time this process was awake to notice (see AwakeTicks): `ms` is split into
 * ticks of at most `tickMs`, and a stall of the event loop counts as one tick. The returned function cancels.
 */
export function afterAwake(clock: Clock, ms: number, fn: () => void, tickMs = 250): () => void {
  const needed = Math.max(1, Math.ceil(ms / tickMs));
  const every = Math.max(0, ms) / needed;
  const ticks = new AwakeTicks(clock, every, needed);
  let cancel = (): void => undefined;
  let cancelled = false;
  const step = (): void => {
    cancel = clock.after(every, () => {
      if (cancelled) return;
      if (ticks.tick()) fn();
      else step();
    });
  };
  step();
  return () => {
    cancelled = true;
    cancel();
  };
}
