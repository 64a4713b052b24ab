import { meetsTarget } from '../../app/formats/headers';

/** Grinds a block header at regtest difficulty (nBits 0x207fffff: about one try in two). */
export function mineHeader(prev: Uint8Array, merkleRoot: Uint8Array, time: number): Buffer {
  const h = Buffer.alloc(80);
  h.writeInt32LE(0x20000000, 0);
  Buffer.from(prev).copy(h, 4);
  Buffer.from(merkleRoot).copy(h, 36);
  h.writeUInt32LE(time, 68);
  h.writeUInt32LE(0x207fffff, 72);
  for (let nonce = 0; ; nonce++) {
    h.writeUInt32LE(nonce, 76);
    if (meetsTarget(h, 'sha256d')) return h;
  }
}
