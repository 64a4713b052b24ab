import { TlogError, type Hash } from './stored-hashes';

/**
 * C2SP tlog-checkpoint: the note text a log signs. Lines: the log's origin (a unique, schema-less name),
 * the tree size in decimal, the root hash in base64, then optional extension lines; each ends in '\n'.
 */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Hash;
  readonly extensions: readonly string[];
}

export function formatCheckpoint(c: Checkpoint): string {
  // eslint-disable-next-line no-control-regex -- an origin is one line of printable text
  if (c.origin === '' || /[\u0000-\u001f]/.test(c.origin)) throw new TlogError('a checkpoint origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new TlogError(`invalid tree size ${c.size}`);
  if (c.root.length !== 32) throw new TlogError('a checkpoint root is 32 bytes');
  return [c.origin, String(c.size), Buffer.from(c.root).toString('base64'), ...c.extensions].map((l) => `${l}\n`).join('');
}

export function parseCheckpoint(text: string): Checkpoint | TlogError {
  if (!text.endsWith('\n')) return new TlogError('malformed checkpoint: it must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin = '', size = '', root = '', ...extensions] = lines;
  if (origin === '') return new TlogError('malformed checkpoint: empty origin');
  if (!/^(0|[1-9]\d{0,15})$/.test(size) || !Number.isSafeInteger(Number(size))) return new TlogError(`malformed checkpoint: tree size ${JSON.stringify(size)}`);
  const rootBytes = Buffer.from(root, 'base64');
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== root) return new TlogError('malformed checkpoint: root hash');
  if (extensions.some((e) => e === '')) return new TlogError('malformed checkpoint: empty extension line');
  return { origin, size: Number(size), root: new Uint8Array(rootBytes), extensions };
}
