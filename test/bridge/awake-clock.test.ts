import { afterAwake, AwakeTicks, ManualClock, systemClock } from '../../firmware-bridge/clock';

describe('time this process was awake for', () => {
  it('fires on time when the loop keeps up', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    afterAwake(clock, 1000, () => fired.push(clock.now()));
    clock.advance(999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([1000]);
  });

  it('after a stall, waits one tick awake before giving its verdict (the answer may still be unread)', () => {
    const clock = new ManualClock();
    const ticks = new AwakeTicks(clock, 500, 4);
    for (let i = 0; i < 3; i++) {
      clock.advance(500);
      expect(ticks.tick()).toBe(false);
    }
    // the loop is blocked for 4 s: the first tick after it comes late and is no verdict
    clock.advance(4000);
    expect(ticks.tick()).toBe(false);
    expect(ticks.sawStall).toBe(true);
    clock.advance(500);
    expect(ticks.tick()).toBe(true);
  });

  it('a loop late on every tick still gets a verdict, after twice the ticks', () => {
    const clock = new ManualClock();
    const ticks = new AwakeTicks(clock, 500, 4);
    const verdicts: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      clock.advance(2000);
      verdicts.push(ticks.tick());
    }
    expect(verdicts).toEqual([false, false, false, false, false, false, false, true]);
  });

  it('cancels', () => {
    const clock = new ManualClock();
    let fired = false;
    const cancel = afterAwake(clock, 300, () => (fired = true));
    clock.advance(100);
    cancel();
    clock.advance(1000);
    expect(fired).toBe(false);
  });
});

describe('the real clock', () => {
  it('measures durations on the monotonic timer: a wall clock pinned or stepped does not stop or jump it', async () => {
    const realNow = Date.now;
    Date.now = () => 1_000_000; // a pinned wall clock (as a stepped one: it no longer moves with time)
    try {
      const t0 = systemClock.now();
      await new Promise((r) => setTimeout(r, 60));
      const elapsed = systemClock.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(50);
      expect(Number.isInteger(elapsed)).toBe(true);
    } finally {
      Date.now = realNow;
    }
  });
});
