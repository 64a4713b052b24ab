import zlib from 'node:zlib';
import sharp from 'sharp';
import { DEFAULT_PROFILE } from '../../calibration/profile';
import { BallotReader } from '../../ballots/read/interpret';
import { example, testKeys } from '../support/ballots';

/** Bad input never crashes the reader and never hangs it: each gets its reason. */
const reader = new BallotReader({ election: example('municipal'), publicKeys: testKeys().public, profile: DEFAULT_PROFILE, station: { mode: 'official' } });

async function read(bytes: Uint8Array) {
  const r = await reader.readFile(bytes);
  return { status: r.status, reasons: r.reasons, detail: r.detail };
}

/** A PNG whose header claims width × height, with a token image body: decoders must refuse from the header. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

describe('the reader on bad input', () => {
  it('rejects an empty file, a text file and a truncated PNG as unreadable', async () => {
    expect(await read(new Uint8Array())).toMatchObject({ status: 'rejected', reasons: ['unreadable-image'], detail: 'the file is empty' });
    expect(await read(Buffer.from('this is not an image\n'))).toMatchObject({ status: 'rejected', reasons: ['unreadable-image'] });
    const png = await sharp({ create: { width: 1700, height: 2200, channels: 3, background: '#fff' } }).png().toBuffer();
    expect(await read(png.subarray(0, Math.floor(png.length / 2)))).toMatchObject({ status: 'rejected', reasons: ['unreadable-image'] });
  });

  it('rejects 0×0 and 30000×30000 images without decoding them', async () => {
    expect(await read(Buffer.from('P5\n0 0\n255\n'))).toMatchObject({ status: 'rejected', reasons: ['unreadable-image'], detail: expect.stringContaining('empty') });
    expect(await read(Buffer.from('P5\n30000 30000\n255\n'))).toMatchObject({ status: 'rejected', reasons: ['image-too-large'] });
    expect(await read(pngHeaderOnly(30000, 30000))).toMatchObject({ status: 'rejected', reasons: ['image-too-large'] });
    expect(await read(pngHeaderOnly(0, 0))).toMatchObject({ status: 'rejected', reasons: ['unreadable-image'] });
  });

  it('rejects an image too small to hold a readable ballot', async () => {
    const tiny = await sharp({ create: { width: 400, height: 520, channels: 3, background: '#fff' } }).jpeg().toBuffer();
    expect(await read(tiny)).toMatchObject({ status: 'rejected', reasons: ['image-too-small'] });
  });

  it('calls a blank page blank (the back of a one-sided ballot), and pure noise not a ballot or unalignable', async () => {
    const blank = await sharp({ create: { width: 1700, height: 2200, channels: 3, background: '#f6f6f6' } }).png().toBuffer();
    expect(await read(blank)).toMatchObject({ status: 'rejected', reasons: ['blank-page'] });
    const noise = Buffer.alloc(1700 * 2200);
    let s = 12345;
    for (let i = 0; i < noise.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      noise[i] = s >>> 24;
    }
    const png = await sharp(noise, { raw: { width: 1700, height: 2200, channels: 1 } }).png().toBuffer();
    const r = await read(png);
    expect(r.status).toBe('rejected');
    expect(['not-a-ballot', 'unalignable']).toContain(r.reasons[0]);
  });

  it('rejects a page of text with no registration marks as not alignable', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1700" height="2200"><rect width="1700" height="2200" fill="#fff"/>${Array.from({ length: 40 }, (_, i) => `<rect x="200" y="${200 + i * 45}" width="${600 + (i % 7) * 100}" height="14" fill="#222"/>`).join('')}</svg>`;
    const page = await sharp(Buffer.from(svg)).png().toBuffer();
    const r = await read(page);
    expect(r.status).toBe('rejected');
    expect(['not-a-ballot', 'unalignable']).toContain(r.reasons[0]);
  });
});
