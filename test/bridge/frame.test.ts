import fc from 'fast-check';
import { decodeFrame, encodeFrame, FLAG_RELIABLE, MAX_ENCODED_FRAME_BYTES, MAX_PAYLOAD_BYTES, type Frame } from '../../firmware-bridge/protocol/frame';
import { FrameReader } from '../../firmware-bridge/protocol/frame-reader';

function collect(): { frames: Frame[]; reader: FrameReader } {
  const frames: Frame[] = [];
  return { frames, reader: new FrameReader((f) => frames.push(f)) };
}

describe('frames', () => {
  it('round-trips type, flags, sequence and payload', () => {
    const wire = encodeFrame({ type: 0x20, flags: FLAG_RELIABLE, seq: 513, payload: Uint8Array.of(0, 1, 2, 0) });
    expect(wire[wire.length - 1]).toBe(0);
    expect(wire.subarray(0, -1).includes(0)).toBe(false);
    const f = decodeFrame(wire.subarray(0, -1));
    expect(f.ok && f.value).toMatchObject({ type: 0x20, flags: 1, seq: 513 });
    expect(f.ok && [...f.value.payload]).toEqual([0, 1, 2, 0]);
  });

  it('detects a flipped bit with the CRC', () => {
    const wire = encodeFrame({ type: 0x10, flags: 1, seq: 7, payload: Buffer.from('accept') });
    const bad = wire.slice(0, -1);
    bad[4] = (bad[4] as number) ^ 0x04;
    const r = decodeFrame(bad);
    expect(r.ok).toBe(false);
    expect(!r.ok && ['crc', 'cobs'].includes(r.error.kind)).toBe(true);
  });

  it('refuses payloads larger than the protocol allows', () => {
    expect(() => encodeFrame({ type: 0x31, flags: 0, seq: 0, payload: new Uint8Array(MAX_PAYLOAD_BYTES + 1) })).toThrow(RangeError);
    expect(decodeFrame(new Uint8Array(MAX_ENCODED_FRAME_BYTES + 1).fill(1))).toMatchObject({ ok: false, error: { kind: 'oversize' } });
  });
});

describe('FrameReader', () => {
  it('resynchronises after garbage and counts what it threw away', () => {
    const { frames, reader } = collect();
    const good = encodeFrame({ type: 0x04, flags: 0, seq: 0, payload: Uint8Array.of(9, 9) });
    reader.push(Uint8Array.of(0x13, 0x37, 0xff, 0x00, 0x42, 0x42));
    reader.push(good.subarray(0, 3));
    // The garbage tail 0x42 0x42 is glued to the next frame's start, so that frame is lost too; the next one is not.
    reader.push(good.subarray(3));
    reader.push(good);
    expect(frames).toHaveLength(1);
    expect(reader.stats.malformed).toBe(2);
    expect(reader.stats.bytesDiscarded).toBeGreaterThan(0);
  });

  it('splits frames across arbitrary chunk boundaries', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (payloads, cuts) => {
        const { frames, reader } = collect();
        const wire = Buffer.concat(payloads.map((p, i) => encodeFrame({ type: 0x31, flags: 0, seq: i, payload: p })));
        let at = 0;
        let k = 0;
        while (at < wire.length) {
          const n = cuts[k++ % cuts.length] as number;
          reader.push(wire.subarray(at, at + n));
          at += n;
        }
        expect(frames.map((f) => Buffer.from(f.payload).toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
        expect(reader.stats.malformed).toBe(0);
      }),
    );
  });

  it('keeps its buffer bounded on an endless run without delimiters', () => {
    const { frames, reader } = collect();
    for (let i = 0; i < 20; i += 1) reader.push(new Uint8Array(4096).fill(0x55));
    reader.push(Uint8Array.of(0));
    reader.push(encodeFrame({ type: 0x04, flags: 0, seq: 0, payload: new Uint8Array(0) }));
    expect(frames).toHaveLength(1);
    expect(reader.stats.oversizeFrames).toBe(1);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (junk) => {
        const { reader } = collect();
        reader.push(junk);
        reader.push(Uint8Array.of(0));
      }),
    );
  });
});
