import { crc32 } from 'node:zlib';
import { ManualClock } from '../../firmware-bridge/clock';
import type { ChunkRequest, ImageDescriptor } from '../../firmware-bridge/protocol/messages';
import { ImageTransfer } from '../../firmware-bridge/serial/image-transfer';

const image = new Uint8Array(20_000).map((_, i) => (i * 7) & 0xff);
const desc: ImageDescriptor = { handle: 5, side: 'front', format: 'png', length: image.length, crc32: crc32(image) };

function setup(maxRetries = 50) {
  const clock = new ManualClock();
  const t = new ImageTransfer([desc], { clock, chunkSize: 4096, window: 2, chunkTimeoutMs: 100, maxRetries, maxImageBytes: 1 << 20 });
  const asked: ChunkRequest[] = [];
  return { clock, t, asked };
}

function answer(t: ImageTransfer, q: ChunkRequest, bytes = image): void {
  t.onChunk({ handle: q.handle, offset: q.offset, total: bytes.length, data: bytes.subarray(q.offset, q.offset + q.length) });
}

describe('image transfer', () => {
  it('asks again for a dropped chunk and keeps the ones it has', async () => {
    const { clock, t, asked } = setup();
    let dropped = false;
    t.start((q) => {
      asked.push(q);
      if (q.offset === 8192 && !dropped) {
        dropped = true;
        return;
      }
      queueMicrotask(() => answer(t, q));
    });
    for (let i = 0; i < 10; i += 1) {
      await Promise.resolve();
      clock.advance(100);
    }
    const r = await t.result;
    expect(r.ok && Buffer.from(r.value[0]?.bytes ?? []).equals(Buffer.from(image))).toBe(true);
    expect(asked.filter((q) => q.offset === 8192)).toHaveLength(2);
    expect(asked.filter((q) => q.offset === 0)).toHaveLength(1);
  });

  it('resumes after a pause with only the missing chunks', async () => {
    const { t, asked } = setup();
    t.start((q) => {
      asked.push(q);
      if (q.offset === 0) answer(t, q);
    });
    t.pause();
    const before = asked.length;
    t.start((q) => {
      asked.push(q);
      answer(t, q);
    });
    const r = await t.result;
    expect(r.ok).toBe(true);
    expect(asked.slice(before).some((q) => q.offset === 0)).toBe(false);
    expect(t.matches([desc])).toBe(true);
    expect(t.matches([{ ...desc, crc32: 1 }])).toBe(false);
  });

  it('fetches again when the whole-file CRC does not match, then gives up', async () => {
    const { t } = setup();
    const wrong = image.slice();
    wrong[100] = (wrong[100] as number) ^ 1;
    t.start((q) => queueMicrotask(() => answer(t, q, wrong)));
    await expect(t.result).resolves.toEqual({ ok: false, error: 'crc-mismatch' });
  });

  it('gives up after its retry budget and refuses oversized images', async () => {
    const { clock, t } = setup(3);
    t.start(() => undefined);
    clock.advance(1000);
    await expect(t.result).resolves.toEqual({ ok: false, error: 'gave-up' });
    const big = new ImageTransfer([{ ...desc, length: 2 << 20 }], { clock, chunkSize: 4096, window: 2, chunkTimeoutMs: 100, maxRetries: 3, maxImageBytes: 1 << 20 });
    await expect(big.result).resolves.toEqual({ ok: false, error: 'too-large' });
  });

  it('ignores chunks that do not fit the image', async () => {
    const { t } = setup();
    const asked: ChunkRequest[] = [];
    t.start((q) => asked.push(q));
    t.onChunk({ handle: 5, offset: 3, total: image.length, data: Uint8Array.of(1) });
    t.onChunk({ handle: 5, offset: 0, total: 1, data: image.subarray(0, 4096) });
    t.onChunk({ handle: 9, offset: 0, total: image.length, data: image.subarray(0, 4096) });
    expect(t.bytesReceived).toBe(0);
    t.onChunkError({ handle: 5, offset: 0, code: 'unknown-image' });
    await expect(t.result).resolves.toEqual({ ok: false, error: 'unknown-image' });
  });
});
