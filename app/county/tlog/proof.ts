import { TlogError, type Hash } from './stored-hashes';

/**
 * C2SP tlog-proof (`c2sp.org/tlog-proof@v1`): an offline proof that an entry is in a log whose checkpoint
 * witnesses cosigned. Lines: the header, an optional `extra <base64>` (unauthenticated context), `index N`,
 * the RFC 6962 inclusion proof one base64 hash a line, an empty line, then the checkpoint note verbatim.
 * Verification (client/tlog-proof-verify.ts) needs the leaf and the trust policy from elsewhere.
 */

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export interface TlogProof {
  readonly extra?: Uint8Array;
  readonly index: number;
  readonly proof: readonly Hash[];
  /** the checkpoint with its signatures, as the log published it */
  readonly note: string;
}

export function formatTlogProof(p: TlogProof): string {
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${Buffer.from(p.extra).toString('base64')}`);
  lines.push(`index ${p.index}`, ...p.proof.map((h) => Buffer.from(h).toString('base64')));
  return `${lines.join('\n')}\n\n${p.note}`;
}

export function parseTlogProof(text: string): TlogProof | TlogError {
  const split = text.indexOf('\n\n');
  if (split < 0) return new TlogError('a tlog proof has an empty line before its checkpoint');
  const lines = text.slice(0, split).split('\n');
  if (lines[0] !== TLOG_PROOF_HEADER) return new TlogError(`a tlog proof starts with "${TLOG_PROOF_HEADER}"`);
  let at = 1;
  let extra: Uint8Array | undefined;
  if (lines[at]?.startsWith('extra ') === true) {
    const b64 = (lines[at] as string).slice(6);
    const raw = Buffer.from(b64, 'base64');
    if (raw.toString('base64') !== b64) return new TlogError('the extra line is not base64');
    extra = new Uint8Array(raw);
    at++;
  }
  const index = /^index (0|[1-9]\d{0,15})$/.exec(lines[at] ?? '');
  if (index === null) return new TlogError('a tlog proof names its entry with "index N"');
  const proof: Hash[] = [];
  for (const line of lines.slice(at + 1)) {
    const raw = Buffer.from(line, 'base64');
    if (raw.length !== 32 || raw.toString('base64') !== line) return new TlogError(`a proof line is not a base64 SHA-256 hash: ${JSON.stringify(line.slice(0, 60))}`);
    proof.push(new Uint8Array(raw));
  }
  if (proof.length > 63) return new TlogError('an inclusion proof has at most 63 hashes');
  const note = text.slice(split + 2);
  return extra === undefined ? { index: Number(index[1]), proof, note } : { extra, index: Number(index[1]), proof, note };
}
