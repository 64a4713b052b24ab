import { EncodingError, fromHex, toHex } from '../../lib/bytes';
import type { CheckpointSigner } from './checkpoint';
import { checkpointSignatureValid, signCheckpoint } from './checkpoint';
import type { LedgerMode } from './record';

/**
 * A signed head: the station's signed statement that its ledger reached entry `headSeq` with hash
 * `headHash`. The station writes one into the ledger itself (entry kind `signed-head`) every N entries, at
 * every batch, pause and close, and the same statement to a second location, so a ledger cut short, or a
 * write-ahead log that lost its tail, is caught even when the files beside the database go with it.
 *
 * The `seal` reason is the last word of the polls: written after the final batch checkpoint, it covers
 * every entry before it, and after it the ledger takes only the events listed in POST_SEAL_EVENTS.
 *
 * Plain text like a checkpoint (its first line differs, so one can never pass for the other), signed the
 * same way: BIP 340 Schnorr over SHA-256 of the text.
 */
/** `adjudication`: after each decision on a marginal mark or write-in, so a decision cut off the end is caught */
export const HEAD_REASONS = ['periodic', 'batch', 'pause', 'start', 'seal', 'adjudication'] as const;
export type HeadReason = (typeof HEAD_REASONS)[number];

export interface SignedHeadStatement {
  readonly mode: LedgerMode;
  readonly election: string;
  readonly station: string;
  readonly headSeq: number;
  readonly headHash: Uint8Array;
  readonly reason: HeadReason;
}

const FIRST_LINE = 'tallyproof signed head v1';
const FIELDS = ['mode', 'election', 'station', 'head', 'reason'] as const;

export function formatSignedHead(s: SignedHeadStatement): string {
  return [FIRST_LINE, `mode ${s.mode}`, `election ${s.election}`, `station ${s.station}`, `head ${s.headSeq} ${toHex(s.headHash)}`, `reason ${s.reason}`, ''].join('\n');
}

export function parseSignedHead(body: string): SignedHeadStatement {
  const lines = body.split('\n');
  if (lines[0] !== FIRST_LINE || lines.length !== FIELDS.length + 2 || lines[lines.length - 1] !== '') {
    throw new EncodingError(`a signed head starts "${FIRST_LINE}" and has ${FIELDS.length} more lines, each ending in a newline`);
  }
  const field = (i: number): string => {
    const line = lines[i + 1] as string;
    const name = FIELDS[i] as string;
    if (!line.startsWith(`${name} `)) throw new EncodingError(`signed head line ${i + 2} should start "${name} ", got "${line}"`);
    return line.slice(name.length + 1);
  };
  const mode = field(0);
  if (mode !== 'official' && mode !== 'test') throw new EncodingError(`signed head mode must be official or test, got "${mode}"`);
  const election = field(1);
  if (!/^[0-9a-f]{64}$/.test(election)) throw new EncodingError('signed head election must be 64 hex digits');
  const head = field(3).split(' ');
  if (head.length !== 2 || !/^[1-9]\d{0,15}$/.test(head[0] as string)) throw new EncodingError('signed head head must be "<seq> <hash>"');
  const reason = field(4);
  if (!(HEAD_REASONS as readonly string[]).includes(reason)) throw new EncodingError(`signed head reason must be one of ${HEAD_REASONS.join(', ')}, got "${reason}"`);
  const s: SignedHeadStatement = {
    mode,
    election,
    station: field(2),
    headSeq: Number(head[0]),
    headHash: fromHex(head[1] as string, 'signed head hash', 32),
    reason: reason as HeadReason,
  };
  if (formatSignedHead(s) !== body) throw new EncodingError('signed head is not in canonical form');
  return s;
}

export function signHeadStatement(body: string, signer: CheckpointSigner): Uint8Array {
  return signCheckpoint(body, signer);
}

export function signedHeadValid(body: string, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return checkpointSignatureValid(body, signature, publicKey);
}

/**
 * The audit events that may follow the seal: what legitimately happens at a closed station (the results
 * tape, export, publishing, verifying, people signing in to do those, the station restarting and finding
 * its scanner, and a refused command an auditor must see attempted, such as opening the polls again). None of them is a ballot entry, and replay counts ballots only from ballot entries.
 */
export const POST_SEAL_EVENTS = [
  'software-started',
  'login',
  'login-failed',
  'logout',
  'scanner-connected',
  'scanner-disconnected',
  'scanner-jam',
  'scanner-fault',
  'tape-printed',
  'export',
  'publish',
  'ledger-verified',
  'ledger-damaged',
  'command-refused',
] as const;
