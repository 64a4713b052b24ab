import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ValidElection } from '../../ballots/election';
import { parseElectionText } from '../../ballots/election';
import type { BallotCodes, ElectionPublicKeys } from '../../ballots/identity';
import { BALLOT_ID_PREFIX, VOTING_ID_PREFIX, loadElectionPublicKeys } from '../../ballots/identity';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import { codeKindOf } from '../../ballots/read/interpret';

/**
 * What an auditor brings to `audit verify` about one paper ballot: the three QR texts (a JSON object or the
 * lines a QR reader app gives, in any order), the election's public keys and, for a scan, the election
 * definition. Every way these files can be wrong is a PaperInputError naming the file and the problem.
 */

export type PaperInputErrorKind = 'unreadable' | 'malformed' | 'incomplete' | 'keys' | 'election';

export class PaperInputError extends Error {
  override readonly name = 'PaperInputError';
  constructor(
    readonly kind: PaperInputErrorKind,
    readonly file: string,
    message: string,
    /** the message already names the file (the identity module's key-file errors do) */
    named = false,
  ) {
    super(named ? message : `${file}: ${message}`);
  }
}

const CODE_NAMES: Record<keyof BallotCodes, string> = {
  address: 'the address code (QR 1)',
  ballotId: `the ballot ID code (QR 2, ${BALLOT_ID_PREFIX}:…)`,
  votingId: `the voting ID code (QR 3, ${VOTING_ID_PREFIX}:…)`,
};
const KINDS = ['address', 'ballotId', 'votingId'] as const;


// base58 with no 0, O, I, l: a line that is not even shaped like an address is garbage, not a bad address
const ADDRESS_SHAPE = /^[1-9A-HJ-NP-Za-km-z]{20,64}$/;

const CodesObjectSchema = z.strictObject({
  address: z.string().min(1, 'must not be empty'),
  ballotId: z.string().min(1, 'must not be empty'),
  votingId: z.string().min(1, 'must not be empty'),
});

type Parsed = Result<BallotCodes, { kind: 'malformed' | 'incomplete'; message: string }>;

/** The three codes from a JSON object `{address, ballotId, votingId}` or from three lines in any order. */
export function parseBallotCodesText(raw: string): Parsed {
  const text = raw.replace(/^\uFEFF/, '').trim();
  if (text === '') return err({ kind: 'incomplete', message: 'the file is empty: it should hold the three QR texts of the paper ballot' });
  if (text.includes('\u0000')) return err({ kind: 'malformed', message: 'not a text file (it holds NUL bytes): it should hold the three QR texts of the paper ballot' });
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return err({ kind: 'malformed', message: `not valid JSON (${(e as Error).message})` });
    }
    const parsed = CodesObjectSchema.safeParse(json);
    if (!parsed.success) {
      const obj = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
      const missing = obj === undefined ? [] : KINDS.filter((k) => obj[k] === undefined);
      const message = parsed.error.issues.map((i) => `${i.path.length > 0 ? `$.${i.path.map(String).join('.')}` : '$'}: ${i.message}`).join('; ');
      return err({ kind: missing.length > 0 ? 'incomplete' : 'malformed', message: `not a ballot codes object {address, ballotId, votingId}: ${message}` });
    }
    const codes = parsed.data;
    for (const k of KINDS) {
      const kind = codeKindOf(codes[k].trim());
      if (kind !== k) return err({ kind: 'malformed', message: `$.${k} holds ${CODE_NAMES[kind]}, not ${CODE_NAMES[k]}` });
    }
    return ok({ address: codes.address.trim(), ballotId: codes.ballotId.trim(), votingId: codes.votingId.trim() });
  }
  const lines = text
    .split(/\r?\n/)
    .map((l, i) => ({ line: i + 1, text: l.trim() }))
    .filter((l) => l.text !== '');
  const found: Partial<Record<keyof BallotCodes, { line: number; text: string }>> = {};
  for (const l of lines) {
    const kind = codeKindOf(l.text);
    if (kind === 'address' && !ADDRESS_SHAPE.test(l.text)) {
      const shown = l.text.length > 60 ? `${l.text.slice(0, 60)}…` : l.text;
      return err({ kind: 'malformed', message: `line ${l.line} is neither a ballot ID (${BALLOT_ID_PREFIX}:…), a voting ID (${VOTING_ID_PREFIX}:…) nor a blockchain address: ${JSON.stringify(shown)}` });
    }
    const before = found[kind];
    if (before !== undefined) return err({ kind: 'malformed', message: `lines ${before.line} and ${l.line} both hold ${CODE_NAMES[kind]}: give the three codes of one sheet side` });
    found[kind] = l;
  }
  const missing = KINDS.filter((k) => found[k] === undefined);
  if (missing.length > 0) {
    const have = KINDS.filter((k) => found[k] !== undefined);
    return err({
      kind: 'incomplete',
      message: `only ${have.length} of the three codes${have.length > 0 ? ` (${have.map((k) => CODE_NAMES[k]).join(', ')})` : ''}: ${missing.map((k) => CODE_NAMES[k]).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing`,
    });
  }
  return ok({ address: (found.address as { text: string }).text, ballotId: (found.ballotId as { text: string }).text, votingId: (found.votingId as { text: string }).text });
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new PaperInputError('unreadable', file, `cannot read the ${what}: ${why}`);
  }
}

export function readBallotCodesFile(file: string): BallotCodes {
  const r = parseBallotCodesText(readText(file, 'ballot codes file'));
  if (!r.ok) throw new PaperInputError(r.error.kind, file, r.error.message);
  return r.value;
}

export function readElectionKeys(file: string): ElectionPublicKeys {
  const r = loadElectionPublicKeys(file);
  if (!r.ok) throw new PaperInputError('keys', file, `${r.error.code}: ${r.error.message}`, true);
  return r.value;
}

export function readElectionDefinition(file: string): ValidElection {
  const r = parseElectionText(readText(file, 'election definition'), file);
  if (!r.ok) {
    const first = r.error[0];
    throw new PaperInputError('election', file, `not a valid election definition${first !== undefined ? ` (${first.path}: ${first.message})` : ''}`);
  }
  return r.value;
}

export const BUNDLE_DEFINITION_FILE = 'election-definition.json';

/** The election definition `ledger export --election` put in the bundle, if it did. */
export function bundleElectionDefinition(bundleDir: string): ValidElection | undefined {
  const file = path.join(bundleDir, BUNDLE_DEFINITION_FILE);
  if (!fs.existsSync(file)) return undefined;
  return readElectionDefinition(file);
}
