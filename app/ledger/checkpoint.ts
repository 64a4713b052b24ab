import { schnorr } from '@noble/curves/secp256k1';
import { EncodingError, fromHex, toHex } from '../../lib/bytes';
import { sha256 } from './hash';
import type { LedgerMode } from './record';

/**
 * A signed checkpoint: the station's statement, at the close of a batch, of what the public tree holds.
 * Plain text (one field a line, fixed order) so an auditor can read and re-hash it with ordinary tools.
 * The tree is cumulative: batch after batch of records, each batch ordered by leaf hash; the batch's own
 * records are leaves [batch-start, tree-size). `head` is the last ledger entry before the checkpoint.
 */
export interface Checkpoint {
  readonly mode: LedgerMode;
  readonly election: string;
  readonly station: string;
  readonly batch: number;
  readonly batchStart: number;
  readonly treeSize: number;
  readonly root: Uint8Array;
  readonly headSeq: number;
  readonly headHash: Uint8Array;
}

const FIRST_LINE = 'tallyproof checkpoint v1';

export function formatCheckpoint(c: Checkpoint): string {
  return [
    FIRST_LINE,
    `mode ${c.mode}`,
    `election ${c.election}`,
    `station ${c.station}`,
    `batch ${c.batch}`,
    `batch-start ${c.batchStart}`,
    `tree-size ${c.treeSize}`,
    `root ${toHex(c.root)}`,
    `head ${c.headSeq} ${toHex(c.headHash)}`,
    '',
  ].join('\n');
}

export function parseCheckpoint(body: string): Checkpoint {
  const lines = body.split('\n');
  const want = ['mode', 'election', 'station', 'batch', 'batch-start', 'tree-size', 'root', 'head'];
  if (lines[0] !== FIRST_LINE || lines.length !== want.length + 2 || lines[lines.length - 1] !== '') {
    throw new EncodingError(`a checkpoint starts "${FIRST_LINE}" and has ${want.length} more lines, each ending in a newline`);
  }
  const field = (i: number): string => {
    const line = lines[i + 1] as string;
    const name = want[i] as string;
    if (!line.startsWith(`${name} `)) throw new EncodingError(`checkpoint line ${i + 2} should start "${name} ", got "${line}"`);
    return line.slice(name.length + 1);
  };
  const int = (i: number): number => {
    const s = field(i);
    if (!/^(0|[1-9]\d{0,15})$/.test(s)) throw new EncodingError(`checkpoint ${want[i]} must be a whole number, got "${s}"`);
    return Number(s);
  };
  const mode = field(0);
  if (mode !== 'official' && mode !== 'test') throw new EncodingError(`checkpoint mode must be official or test, got "${mode}"`);
  const election = field(1);
  if (!/^[0-9a-f]{64}$/.test(election)) throw new EncodingError('checkpoint election must be 64 hex digits');
  const head = field(7).split(' ');
  if (head.length !== 2 || !/^[1-9]\d{0,15}$/.test(head[0] as string)) throw new EncodingError('checkpoint head must be "<seq> <hash>"');
  const c: Checkpoint = {
    mode,
    election,
    station: field(2),
    batch: int(3),
    batchStart: int(4),
    treeSize: int(5),
    root: fromHex(field(6), 'checkpoint root', 32),
    headSeq: Number(head[0]),
    headHash: fromHex(head[1] as string, 'checkpoint head hash', 32),
  };
  if (formatCheckpoint(c) !== body) throw new EncodingError('checkpoint is not in canonical form');
  return c;
}

/** What signs checkpoints: the station key, unlocked. */
export interface CheckpointSigner {
  readonly publicKey: Uint8Array;
  sign(message32: Uint8Array): Uint8Array;
}

export function checkpointDigest(body: string): Uint8Array {
  return sha256(Buffer.from(body, 'utf8'));
}

export function signCheckpoint(body: string, signer: CheckpointSigner): Uint8Array {
  return signer.sign(checkpointDigest(body));
}

export function checkpointSignatureValid(body: string, signature: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return schnorr.verify(signature, checkpointDigest(body), publicKey);
  } catch {
    return false;
  }
}
