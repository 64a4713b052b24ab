import { z } from 'zod';
import { toHex } from '../../lib/bytes';
import type { Checkpoint } from '../ledger/checkpoint';

/**
 * What the results tape's QR code carries: enough for an auditor with a phone to find and check the
 * station's signed checkpoint on the chain, not just a bare root. Plain text, one field a line, in the
 * checkpoint's own style, so any QR reader shows it legibly and a script splits it on spaces.
 *
 *   tallyproof-checkpoint-qr v1
 *   network florincoin-main anchor bitcoin-main      (or "network none" when the station has no chains.json)
 *   mode official
 *   election <64 hex>
 *   station <id>
 *   batch <n>
 *   records <tree size: ballot records under the root>
 *   entries <ledger entries the checkpoint covers: its head entry's number>
 *   root <64 hex>
 *   digest <64 hex: SHA-256 of the checkpoint text the station signed and publishes>
 */
export const CHECKPOINT_QR_FIRST_LINE = 'tallyproof-checkpoint-qr v1';

export interface CheckpointQr {
  /** records and anchor networks from chains.json; null: the station publishes from elsewhere */
  readonly network: { readonly records: string; readonly anchor: string } | null;
  readonly mode: 'official' | 'test';
  readonly election: string;
  readonly station: string;
  readonly batch: number;
  readonly records: number;
  readonly entries: number;
  readonly root: string;
  readonly digest: string;
}

export function checkpointQrOf(c: Checkpoint, digest: Uint8Array, network: CheckpointQr['network']): CheckpointQr {
  return { network, mode: c.mode, election: c.election, station: c.station, batch: c.batch, records: c.treeSize, entries: c.headSeq, root: toHex(c.root), digest: toHex(digest) };
}

export function formatCheckpointQr(q: CheckpointQr): string {
  return [
    CHECKPOINT_QR_FIRST_LINE,
    q.network === null ? 'network none' : `network ${q.network.records} anchor ${q.network.anchor}`,
    `mode ${q.mode}`,
    `election ${q.election}`,
    `station ${q.station}`,
    `batch ${q.batch}`,
    `records ${q.records}`,
    `entries ${q.entries}`,
    `root ${q.root}`,
    `digest ${q.digest}`,
  ].join('\n');
}

const HEX64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const COUNT = z.coerce.number().int().min(0);
const NAME = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a network name');

/** Reads a scanned payload back; a payload that is not one (or not whole) is refused with the line at fault. */
export function parseCheckpointQr(text: string): CheckpointQr {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  if (lines[0] !== CHECKPOINT_QR_FIRST_LINE) throw new Error(`not a Tallyproof checkpoint code: the first line is "${lines[0] ?? ''}", not "${CHECKPOINT_QR_FIRST_LINE}"`);
  const want = ['network', 'mode', 'election', 'station', 'batch', 'records', 'entries', 'root', 'digest'];
  if (lines.length !== want.length + 1) throw new Error(`a checkpoint code has ${want.length + 1} lines, this one ${lines.length}`);
  const field = (i: number): string => {
    const line = lines[i + 1] as string;
    const name = want[i] as string;
    if (!line.startsWith(`${name} `)) throw new Error(`line ${i + 2} should start "${name} ", got "${line}"`);
    return line.slice(name.length + 1);
  };
  const net = field(0).split(' ');
  let network: CheckpointQr['network'];
  if (net.length === 1 && net[0] === 'none') network = null;
  else if (net.length === 3 && net[1] === 'anchor') network = { records: NAME.parse(net[0]), anchor: NAME.parse(net[2]) };
  else throw new Error(`line 2 should be "network <records> anchor <anchor>" or "network none", got "network ${field(0)}"`);
  const mode = z.enum(['official', 'test']).parse(field(1));
  return {
    network,
    mode,
    election: HEX64.parse(field(2)),
    station: z.string().min(1).max(64).parse(field(3)),
    batch: COUNT.parse(field(4)),
    records: COUNT.parse(field(5)),
    entries: COUNT.parse(field(6)),
    root: HEX64.parse(field(7)),
    digest: HEX64.parse(field(8)),
  };
}
