import fc from 'fast-check';
import { cobsDecode, cobsEncode } from '../../firmware-bridge/protocol/cobs';

describe('COBS', () => {
  it('encodes the reference examples', () => {
    expect([...cobsEncode(Uint8Array.of(0x00))]).toEqual([0x01, 0x01]);
    expect([...cobsEncode(Uint8Array.of(0x00, 0x00))]).toEqual([0x01, 0x01, 0x01]);
    expect([...cobsEncode(Uint8Array.of(0x11, 0x22, 0x00, 0x33))]).toEqual([0x03, 0x11, 0x22, 0x02, 0x33]);
    expect([...cobsEncode(Uint8Array.of(0x11, 0x00, 0x00, 0x00))]).toEqual([0x02, 0x11, 0x01, 0x01, 0x01]);
    const run = new Uint8Array(254).map((_, i) => i + 1);
    expect([...cobsEncode(run)]).toEqual([0xff, ...run, 0x01]);
  });

  it('round-trips any bytes and never emits a zero', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        const enc = cobsEncode(data);
        expect(enc.includes(0)).toBe(false);
        const dec = cobsDecode(enc);
        expect(dec.ok && Buffer.from(dec.value).equals(Buffer.from(data))).toBe(true);
      }),
    );
  });

  it('rejects malformed input with a reason instead of throwing', () => {
    expect(cobsDecode(new Uint8Array(0))).toEqual({ ok: false, error: 'empty' });
    expect(cobsDecode(Uint8Array.of(0x05, 0x11))).toEqual({ ok: false, error: 'truncated' });
    expect(cobsDecode(Uint8Array.of(0x03, 0x00, 0x11))).toEqual({ ok: false, error: 'zero-in-frame' });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => void cobsDecode(junk)));
  });
});
