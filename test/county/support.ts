import { schnorr } from '@noble/curves/secp256k1';
import * as secp from 'tiny-secp256k1';
import { toHex } from '../../lib/bytes';
import { formatCheckpoint, signCheckpoint } from '../../app/ledger/checkpoint';
import { formatStationEntry, type StationRegistry } from '../../app/county/log/station-entry';

export const ELECTION = 'ab'.repeat(32);

export interface TestStation {
  readonly id: string;
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function makeStations(count: number): TestStation[] {
  return Array.from({ length: count }, (_, i) => {
    const secret = new Uint8Array(32).fill(0);
    secret[31] = i + 1;
    secret[0] = 0x42;
    return { id: `station-${String(i + 1).padStart(3, '0')}`, secret, publicKey: schnorr.getPublicKey(secret) };
  });
}

export function registryOf(stations: readonly TestStation[]): StationRegistry {
  return { format: 'tallyproof-county-stations/1', election: ELECTION, mode: 'official', stations: stations.map((s) => ({ station: s.id, publicKey: toHex(s.publicKey) })) };
}

/** A station's signed checkpoint of batch `batch`, as the ledger writes it, made into a log entry. */
export function stationEntry(
  s: TestStation,
  batch: number,
  opts: { election?: string; mode?: 'official' | 'test'; rootByte?: number; batchStart?: number; treeSize?: number; headSeq?: number } = {},
): Uint8Array {
  const body = formatCheckpoint({
    mode: opts.mode ?? 'official',
    election: opts.election ?? ELECTION,
    station: s.id,
    batch,
    batchStart: opts.batchStart ?? batch * 10,
    treeSize: opts.treeSize ?? batch * 10 + 10,
    root: new Uint8Array(32).fill(opts.rootByte ?? batch),
    headSeq: opts.headSeq ?? batch * 40 + 1,
    headHash: new Uint8Array(32).fill(7),
  });
  return formatStationEntry(body, signCheckpoint(body, { publicKey: s.publicKey, sign: (m) => secp.signSchnorr(m, s.secret, new Uint8Array(32)) }));
}
