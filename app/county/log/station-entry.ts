import { z } from 'zod';
import { fromHex, toHex } from '../../../lib/bytes';
import { checkpointDigest, parseCheckpoint, type Checkpoint } from '../../ledger/checkpoint';
import { err, ok, type Result } from '../../../lib/result';
import { defaultStationSignatureVerifier, type StationSignatureVerifier } from './station-signature';

/**
 * What a county log holds: one entry per station checkpoint, the checkpoint's own text (the ledger's
 * `tallyproof checkpoint v1`, app/ledger/README.md) followed by the line `signature <hex>` with the station
 * key's BIP-340 signature over it. An entry is accepted only from a station the election registered, for
 * the election and mode the log serves (invariant 5).
 */

export const StationRegistrySchema = z.object({
  format: z.literal('tallyproof-county-stations/1'),
  election: z.string().regex(/^[0-9a-f]{64}$/, 'the election hash: 64 hex digits'),
  mode: z.enum(['official', 'test']),
  stations: z
    .array(z.object({ station: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), publicKey: z.string().regex(/^[0-9a-f]{64}$/) }))
    .min(1)
    .refine((s) => new Set(s.map((x) => x.station)).size === s.length, 'a station is registered once'),
});
export type StationRegistry = z.infer<typeof StationRegistrySchema>;

export type EntryRefusal =
  | { readonly kind: 'malformed'; readonly message: string }
  | { readonly kind: 'unknown-station'; readonly message: string }
  | { readonly kind: 'bad-signature'; readonly message: string }
  | { readonly kind: 'wrong-election'; readonly message: string };

export interface StationEntry {
  readonly checkpoint: Checkpoint;
  readonly body: string;
  readonly signature: Uint8Array;
}

export function formatStationEntry(body: string, signature: Uint8Array): Uint8Array {
  return Buffer.from(`${body}signature ${toHex(signature)}\n`, 'utf8');
}

const MAX_ENTRY_BYTES = 4096;
/** `signature <128 lowercase hex digits>\n` */
const SIGNATURE_LINE = 10 + 128 + 1;
const SIGNATURE_HEX = /^[0-9a-f]{128}\n$/;

/** Each registry's stations by name, keys decoded once: a monitor checks a million entries against a thousand stations. */
const keysByRegistry = new WeakMap<StationRegistry, Map<string, Uint8Array>>();
function stationKey(registry: StationRegistry, station: string): Uint8Array | undefined {
  let keys = keysByRegistry.get(registry);
  if (keys === undefined) {
    keys = new Map(registry.stations.map((s) => [s.station, fromHex(s.publicKey, 'station key', 32)]));
    keysByRegistry.set(registry, keys);
  }
  return keys.get(station);
}

/** An entry read and matched to its registered station, its signature not yet checked (a monitor checks a bundle's at once). */
export interface UncheckedStationEntry extends StationEntry {
  /** what the station signed: SHA-256 of the checkpoint text */
  readonly digest: Uint8Array;
  /** the registered station's x-only key */
  readonly publicKey: Uint8Array;
}

export function badSignature(station: string): EntryRefusal {
  return { kind: 'bad-signature', message: `the signature is not station ${station}'s` };
}

/** An entry checked whole: format, election and mode, registered station, and its signature. */
export function parseStationEntry(bytes: Uint8Array, registry: StationRegistry, verifier: StationSignatureVerifier = defaultStationSignatureVerifier()): Result<StationEntry, EntryRefusal> {
  const read = readStationEntry(bytes, registry);
  if (!read.ok) return read;
  const { checkpoint, body, signature, digest, publicKey } = read.value;
  if (!verifier.verify(digest, publicKey, signature)) return err(badSignature(checkpoint.station));
  return ok({ checkpoint, body, signature });
}

/** Everything but the signature: the caller checks it (`parseStationEntry` does, one at a time). */
export function readStationEntry(bytes: Uint8Array, registry: StationRegistry): Result<UncheckedStationEntry, EntryRefusal> {
  if (bytes.length > MAX_ENTRY_BYTES) return err({ kind: 'malformed', message: `an entry of ${bytes.length} bytes is longer than a checkpoint (${MAX_ENTRY_BYTES})` });
  // a view, not a copy: a monitor reads a million entries
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  // the last line is fixed-length, so it is found by position (what /^([\s\S]*\n)signature ([0-9a-f]{128})\n$/ would match)
  const at = text.length - SIGNATURE_LINE;
  if (at < 1 || text[at - 1] !== '\n' || !text.startsWith('signature ', at) || !SIGNATURE_HEX.test(text.slice(at + 10))) {
    return err({ kind: 'malformed', message: 'an entry is a station checkpoint followed by "signature <128 hex digits>"' });
  }
  const body = text.slice(0, at);
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(body);
  } catch (e) {
    return err({ kind: 'malformed', message: (e as Error).message });
  }
  if (checkpoint.election !== registry.election || checkpoint.mode !== registry.mode) {
    return err({ kind: 'wrong-election', message: `this log takes ${registry.mode} checkpoints of election ${registry.election.slice(0, 16)}…, not ${checkpoint.mode} of ${checkpoint.election.slice(0, 16)}…` });
  }
  const publicKey = stationKey(registry, checkpoint.station);
  if (publicKey === undefined) return err({ kind: 'unknown-station', message: `station ${JSON.stringify(checkpoint.station)} is not registered for this election` });
  const signature = new Uint8Array(Buffer.from(text.slice(at + 10, at + 138), 'hex'));
  // libsecp256k1 (station-signature.ts) rather than the ledger's pure-JS check: a monitor verifies every station's signature
  return ok({ checkpoint, body, signature, digest: checkpointDigest(body), publicKey });
}
