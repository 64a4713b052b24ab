import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '@noble/hashes/sha256';
import {
  OTS_MAGIC,
  OtsError,
  applyOp,
  describeTimestamp,
  fileDigest,
  linearTimestamp,
  parseDetached,
  reachedAttestations,
  serializeDetached,
} from '../../app/formats/ots';
import type { OtsOp } from '../../app/formats/ots';

const VECTORS = path.join(__dirname, 'vectors');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('OpenTimestamps .ots files', () => {
  const ots = fs.readFileSync(path.join(VECTORS, 'hello-world.txt.ots'));
  const file = fs.readFileSync(path.join(VECTORS, 'hello-world.txt'));

  it('parses the project example and serialises it back to the same bytes', () => {
    const d = parseDetached(ots);
    expect(d.fileHashOp).toBe('sha256');
    expect(hex(d.digest)).toBe('03ba204e50d126e4674c005e04d82e84c21366780af1f43bd54a37816b6ab340');
    expect(hex(fileDigest('sha256', file))).toBe(hex(d.digest));
    expect(Buffer.from(serializeDetached(d)).equals(ots)).toBe(true);
  });

  it("reaches Bitcoin block 358391's merkle root through the stated transaction", () => {
    const d = parseDetached(ots);
    const reached = reachedAttestations(d);
    expect(reached).toHaveLength(1);
    const r = reached[0] as (typeof reached)[number];
    expect(r.attestation).toEqual({ kind: 'bitcoin', height: 358391 });
    expect(hex(r.msg)).toBe('007ee445d23ad061af4a36b809501fab1ac4f2d7e7a739817dd0cbb7ec661b8a');
    expect(Buffer.from(r.msg).reverse().toString('hex')).toBe('8a1b66ecb7cbd07d8139a7e7d7f2c41aab1f5009b8364aaf61d03ad245e47e00');
    // ripemd160, prepend, append, sha256, sha256: the message is then the txid in internal order
    let m: Uint8Array = d.digest;
    for (const op of r.path.slice(0, 5)) m = applyOp(op, m);
    expect(Buffer.from(m).reverse().toString('hex')).toBe('7e9f0f7d9daa2d9e51b2e22f4abe814c3f90539afa778a9bef88dc64627cb2ec');
    expect(describeTimestamp(d)).toContain('verify BitcoinBlockHeaderAttestation(358391)');
  });

  it('writes varuints seven bits at a time and a linear proof byte for byte', () => {
    const ops: OtsOp[] = [{ op: 'append', arg: new Uint8Array(200).fill(7) }, { op: 'sha256' }];
    const bytes = serializeDetached({ fileHashOp: 'sha256', digest: sha256(Uint8Array.of(1)), timestamp: linearTimestamp(ops, { kind: 'bitcoin', height: 300 }) });
    const body = Buffer.from(bytes.subarray(OTS_MAGIC.length + 2 + 32));
    // append tag, length 200 = 0xc8 0x01, 200 bytes, sha256, attestation 0x00, tag, payload length 2, height 300 = 0xac 0x02
    expect(body.subarray(0, 3).toString('hex')).toBe('f0c801');
    expect(body.subarray(203).toString('hex')).toBe(`08${'00'}0588960d73d71901${'02'}ac02`);
    expect(Buffer.from(serializeDetached(parseDetached(bytes))).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses damaged files with a specific reason', () => {
    const bad = (mutate: (b: Buffer) => Buffer): string => {
      try {
        parseDetached(mutate(Buffer.from(ots)));
      } catch (e) {
        expect(e).toBeInstanceOf(OtsError);
        return (e as Error).message;
      }
      throw new Error('parsed');
    };
    expect(bad((b) => Buffer.concat([Buffer.from([1]), b.subarray(1)]))).toMatch(/magic/);
    expect(bad((b) => b.subarray(0, b.length - 3))).toMatch(/ends while reading/);
    expect(bad((b) => Buffer.concat([b, Buffer.from([0])]))).toMatch(/trailing garbage/);
    expect(
      bad((b) => {
        const c = Buffer.from(b);
        c[OTS_MAGIC.length] = 2;
        return c;
      }),
    ).toMatch(/major version 2/);
    expect(
      bad((b) => {
        const c = Buffer.from(b);
        c[OTS_MAGIC.length + 2 + 32] = 0x77; // the first op (ripemd160) becomes an unknown tag
        return c;
      }),
    ).toMatch(/unknown operation tag 0x77/);
  });
});
