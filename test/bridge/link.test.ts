import { ManualClock } from '../../firmware-bridge/clock';
import type { Frame } from '../../firmware-bridge/protocol/frame';
import { LinkEndpoint } from '../../firmware-bridge/protocol/link';
import { MsgType } from '../../firmware-bridge/protocol/messages';
import { seededRandom } from '../../firmware-bridge/simulator/faults';

/** Two link ends joined by a wire that can lose or damage what crosses it, on a manual clock. */
function pair(opts: { lose?: (bytes: Uint8Array, from: 'a' | 'b') => boolean; damage?: (bytes: Uint8Array) => Uint8Array } = {}) {
  const clock = new ManualClock();
  const got = { a: [] as Frame[], b: [] as Frame[] };
  const dead: string[] = [];
  const wireQueue: { to: 'a' | 'b'; bytes: Uint8Array }[] = [];
  const make = (me: 'a' | 'b'): LinkEndpoint =>
    new LinkEndpoint({
      clock,
      retransmitMs: 100,
      maxRetries: 5,
      maxQueue: 4,
      send: (bytes) => {
        if (opts.lose?.(bytes, me)) return;
        wireQueue.push({ to: me === 'a' ? 'b' : 'a', bytes: opts.damage ? opts.damage(bytes) : bytes });
      },
      onFrame: (f) => got[me].push(f),
      onDead: (r) => dead.push(`${me}: ${r}`),
    });
  const a = make('a');
  const b = make('b');
  const flush = (): void => {
    while (wireQueue.length > 0) {
      const m = wireQueue.shift() as { to: 'a' | 'b'; bytes: Uint8Array };
      (m.to === 'a' ? a : b).receive(m.bytes);
    }
  };
  return { clock, a, b, got, dead, flush };
}

describe('link: reliable delivery', () => {
  it('delivers in order and resolves once acknowledged', async () => {
    const p = pair();
    const sends = [1, 2, 3].map((n) => p.a.sendReliable(MsgType.event, Uint8Array.of(n)));
    for (let i = 0; i < 3; i += 1) p.flush();
    await expect(Promise.all(sends)).resolves.toEqual([{ ok: true, value: undefined }, { ok: true, value: undefined }, { ok: true, value: undefined }]);
    expect(p.got.b.map((f) => f.payload[0])).toEqual([1, 2, 3]);
    expect(p.a.stats.retransmits).toBe(0);
  });

  it('retransmits a lost frame and does not deliver a duplicate when the ACK was lost', async () => {
    let acksDropped = 0;
    const p = pair({
      lose: (bytes, from) => {
        // Lose the first ACK coming back from b: a must retransmit, b must recognise the repeat.
        if (from === 'b' && acksDropped === 0) {
          acksDropped += 1;
          return true;
        }
        return false;
      },
    });
    const sent = p.a.sendReliable(MsgType.command, Uint8Array.of(7));
    p.flush();
    p.clock.advance(100);
    p.flush();
    await expect(sent).resolves.toEqual({ ok: true, value: undefined });
    expect(p.got.b).toHaveLength(1);
    expect(p.b.stats.duplicates).toBe(1);
    expect(p.a.stats.retransmits).toBe(1);
  });

  it('survives random corruption and loss of 30% of frames', async () => {
    const rnd = seededRandom(42);
    const p = pair({
      lose: () => rnd() < 0.15,
      damage: (bytes) => {
        if (rnd() >= 0.15) return bytes;
        const bad = bytes.slice();
        const i = Math.floor(rnd() * (bad.length - 1));
        bad[i] = ((bad[i] as number) ^ 0x10) || 1;
        return bad;
      },
    });
    const results: Promise<unknown>[] = [];
    for (let n = 0; n < 40; n += 1) {
      results.push(p.a.sendReliable(MsgType.event, Uint8Array.of(n)).then((r) => expect(r.ok).toBe(true)));
      for (let k = 0; k < 30 && p.a.pendingReliable > 0; k += 1) {
        p.flush();
        p.clock.advance(100);
      }
    }
    await Promise.all(results);
    expect(p.got.b.map((f) => f.payload[0])).toEqual([...Array(40).keys()]);
    expect(p.b.stats.malformed + p.a.stats.malformed).toBeGreaterThan(0);
    expect(p.dead).toEqual([]);
  });

  it('declares the link dead after the last retry and fails what was queued', async () => {
    const p = pair({ lose: () => true });
    const first = p.a.sendReliable(MsgType.event, Uint8Array.of(1));
    const second = p.a.sendReliable(MsgType.event, Uint8Array.of(2));
    p.clock.advance(100 * 6);
    await expect(first).resolves.toEqual({ ok: false, error: 'dead' });
    await expect(second).resolves.toEqual({ ok: false, error: 'dead' });
    expect(p.dead).toHaveLength(1);
  });

  it('bounds its queue and refuses sends after close', async () => {
    const p = pair({ lose: () => true });
    const sends = [0, 1, 2, 3, 4, 5].map((n) => p.a.sendReliable(MsgType.event, Uint8Array.of(n)));
    // one in flight + 4 queued; the sixth is refused at once
    await expect(sends[5]).resolves.toEqual({ ok: false, error: 'queue-full' });
    p.a.close();
    await expect(sends[0]).resolves.toEqual({ ok: false, error: 'closed' });
    await expect(p.a.sendReliable(MsgType.event, Uint8Array.of(9))).resolves.toEqual({ ok: false, error: 'closed' });
  });

  it('counts unknown frame types without delivering them', () => {
    const p = pair();
    p.a.sendUnreliable(0x7e, Uint8Array.of(1));
    p.flush();
    expect(p.got.b).toHaveLength(0);
    expect(p.b.stats.unknownTypes).toBe(1);
  });
});
