import { EncodingError, fromHex, toHex } from '../../lib/bytes';
import type { CheckpointSigner } from './checkpoint';
import { checkpointSignatureValid, signCheckpoint } from './checkpoint';
import type { Genesis } from './entries';
import type { BallotRecord, ContestSelection, LedgerMode } from './record';
import { SERIAL_PATTERN } from './serial';

/**
 * Adjudication: a person's decision, after the polls closed, on a mark the station could not decide (a
 * marginal mark) or on a marked write-in (whose name the station cannot read). Each decision is one ledger
 * entry (kind `adjudication`, RECORD.md): a plain-text statement, signed by the station key like a
 * checkpoint, naming the place in the hash chain it was written at (the entry before it), the cast ballot
 * (ballot ID, cast entry and the leaf hash of its public record), the contest, the option, the decision and
 * the adjudicator (role and the `login` entry of the sign-in they decided in, never a voter).
 *
 * The rules below are the one statement of what may be adjudicated: the ledger refuses to write, and
 * `verify` refuses to accept, anything else.
 *
 * - Only after the seal (the polls closed, every ballot in a signed checkpoint): a decision never adds a
 *   ballot, and nothing else that is not an event of a closed station follows the seal.
 * - Marginal mark, option level: the ballot's per-sheet detail names the option as marginal. Decision:
 *   `counts` (the mark is a vote) or `not-counted`. A marginal mark with no decision never counts.
 * - Marginal mark, contest level: for a ballot recorded without per-sheet detail (older pending entries), the
 *   record says only that the contest has a marginal mark, not on which option. Decision: `marks <options>`,
 *   the options (none: `marks -`) whose marks the adjudicator, with the paper, counts as votes; only options
 *   the station did not already count, never a write-in line (its name cannot be recorded at contest level).
 * - Write-in: the write-in option is marked (counted by the station, or marginal in the detail). Decision:
 *   `write-in <name>` (the name as the adjudicator reads it; a marginal one then counts) or `no-vote` (the
 *   line does not count: no name, or not a vote).
 * - One decision per item (ballot, contest, option or the contest as a whole): a second is refused. A mistake
 *   is corrected at the canvass, with the paper, not by writing over the station's record.
 */

export const ADJUDICATOR_ROLES = ['auditor', 'captain'] as const;
export type AdjudicatorRole = (typeof ADJUDICATOR_ROLES)[number];

export type Decision =
  | { readonly kind: 'counts' }
  | { readonly kind: 'not-counted' }
  | { readonly kind: 'write-in'; readonly name: string }
  | { readonly kind: 'no-vote' }
  | { readonly kind: 'marks'; readonly options: readonly string[] };

export interface AdjudicationStatement {
  readonly mode: LedgerMode;
  readonly election: string;
  readonly station: string;
  /** the entry just before the adjudication: the statement is good at this place in this chain only */
  readonly headSeq: number;
  readonly headHash: Uint8Array;
  readonly ballotId: string;
  readonly castSeq: number;
  /** leaf hash of the ballot's public record: the published record the decision is about */
  readonly leafHash: Uint8Array;
  readonly contest: string;
  /** null: the contest as a whole (a record without per-sheet detail) */
  readonly option: string | null;
  readonly decision: Decision;
  readonly adjudicator: { readonly role: AdjudicatorRole; readonly session: number };
}

/** Per contest index, the options the reader found marginal (per-sheet detail), when the ballot has it. */
export type MarginalDetail = ReadonlyMap<number, readonly number[]>;

const FIRST_LINE = 'tallyproof adjudication v1';
const FIELDS = ['mode', 'election', 'station', 'head', 'ballot', 'contest', 'option', 'decision', 'adjudicator'] as const;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const WRITE_IN_OPTION = /^write-in-\d+$/;
export const WRITE_IN_NAME_MAX = 64;

export function isWriteInOption(optionId: string): boolean {
  return WRITE_IN_OPTION.test(optionId);
}

/** Why a write-in name as typed cannot be recorded, or undefined: the form `formatAdjudication` writes. */
export function writeInNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the write-in name is empty (decide "no vote" if the line holds no name)';
  if (name !== name.trim()) return 'the write-in name begins or ends with a space';
  if (/\s{2}/u.test(name)) return 'the write-in name has two spaces in a row';
  if (/[\p{C}]/u.test(name)) return 'the write-in name holds a control character';
  if (/[\p{Zl}\p{Zp}\t]/u.test(name)) return 'the write-in name holds a line break or tab';
  if (name.normalize('NFC') !== name) return 'the write-in name is not in Unicode normal form C';
  if ([...name].length > WRITE_IN_NAME_MAX) return `the write-in name is longer than ${WRITE_IN_NAME_MAX} characters`;
  return undefined;
}

/** A write-in name as a person typed it, made into the recorded form (trimmed, single spaces, NFC). */
export function normalizeWriteInName(typed: string): string {
  return typed.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

function formatDecision(d: Decision): string {
  switch (d.kind) {
    case 'counts':
    case 'not-counted':
    case 'no-vote':
      return d.kind;
    case 'write-in':
      return `write-in ${d.name}`;
    case 'marks':
      return `marks ${d.options.length === 0 ? '-' : d.options.join(',')}`;
    default:
      return assertNeverDecision(d);
  }
}

function assertNeverDecision(d: never): never {
  throw new EncodingError(`unknown decision ${JSON.stringify(d)}`);
}

function parseDecision(text: string): Decision {
  if (text === 'counts' || text === 'not-counted' || text === 'no-vote') return { kind: text };
  if (text.startsWith('write-in ')) {
    const name = text.slice('write-in '.length);
    const problem = writeInNameProblem(name);
    if (problem !== undefined) throw new EncodingError(`adjudication decision: ${problem}`);
    return { kind: 'write-in', name };
  }
  if (text.startsWith('marks ')) {
    const list = text.slice('marks '.length);
    if (list === '-') return { kind: 'marks', options: [] };
    const options = list.split(',');
    if (options.some((o) => !ID.test(o))) throw new EncodingError(`adjudication decision "marks" lists an option that is not an id: "${list}"`);
    return { kind: 'marks', options };
  }
  throw new EncodingError(`adjudication decision must be counts, not-counted, no-vote, "write-in <name>" or "marks <options>", got "${text}"`);
}

export function formatAdjudication(s: AdjudicationStatement): string {
  return [
    FIRST_LINE,
    `mode ${s.mode}`,
    `election ${s.election}`,
    `station ${s.station}`,
    `head ${s.headSeq} ${toHex(s.headHash)}`,
    `ballot ${s.ballotId} ${s.castSeq} ${toHex(s.leafHash)}`,
    `contest ${s.contest}`,
    `option ${s.option ?? '*'}`,
    `decision ${formatDecision(s.decision)}`,
    `adjudicator ${s.adjudicator.role} ${s.adjudicator.session}`,
    '',
  ].join('\n');
}

const SEQ = /^[1-9]\d{0,15}$/;

export function parseAdjudication(body: string): AdjudicationStatement {
  const lines = body.split('\n');
  if (lines[0] !== FIRST_LINE || lines.length !== FIELDS.length + 2 || lines[lines.length - 1] !== '') {
    throw new EncodingError(`an adjudication starts "${FIRST_LINE}" and has ${FIELDS.length} more lines, each ending in a newline`);
  }
  const field = (i: number): string => {
    const line = lines[i + 1] as string;
    const name = FIELDS[i] as string;
    if (!line.startsWith(`${name} `)) throw new EncodingError(`adjudication line ${i + 2} should start "${name} ", got "${line}"`);
    return line.slice(name.length + 1);
  };
  const mode = field(0);
  if (mode !== 'official' && mode !== 'test') throw new EncodingError(`adjudication mode must be official or test, got "${mode}"`);
  const election = field(1);
  if (!/^[0-9a-f]{64}$/.test(election)) throw new EncodingError('adjudication election must be 64 hex digits');
  const head = field(3).split(' ');
  if (head.length !== 2 || !SEQ.test(head[0] as string)) throw new EncodingError('adjudication head must be "<seq> <hash>"');
  const ballot = field(4).split(' ');
  if (ballot.length !== 3 || !SERIAL_PATTERN.test(ballot[0] as string) || !SEQ.test(ballot[1] as string)) throw new EncodingError('adjudication ballot must be "<ballot ID> <cast entry> <leaf hash>"');
  const contest = field(5);
  if (!ID.test(contest)) throw new EncodingError(`adjudication contest "${contest}" is not an id`);
  const option = field(6);
  if (option !== '*' && !ID.test(option)) throw new EncodingError(`adjudication option "${option}" is not an id or *`);
  const who = field(8).split(' ');
  if (who.length !== 2 || !(ADJUDICATOR_ROLES as readonly string[]).includes(who[0] as string) || !SEQ.test(who[1] as string)) {
    throw new EncodingError(`adjudicator must be "<${ADJUDICATOR_ROLES.join('|')}> <login entry>"`);
  }
  const s: AdjudicationStatement = {
    mode,
    election,
    station: field(2),
    headSeq: Number(head[0]),
    headHash: fromHex(head[1] as string, 'adjudication head hash', 32),
    ballotId: ballot[0] as string,
    castSeq: Number(ballot[1]),
    leafHash: fromHex(ballot[2] as string, 'adjudication leaf hash', 32),
    contest,
    option: option === '*' ? null : option,
    decision: parseDecision(field(7)),
    adjudicator: { role: who[0] as AdjudicatorRole, session: Number(who[1]) },
  };
  if (formatAdjudication(s) !== body) throw new EncodingError('adjudication is not in canonical form');
  return s;
}

/** BIP 340 over SHA-256 of the text, as checkpoints and signed heads (the first line keeps the three apart). */
export function signAdjudication(body: string, signer: CheckpointSigner): Uint8Array {
  return signCheckpoint(body, signer);
}

export function adjudicationSignatureValid(body: string, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return checkpointSignatureValid(body, signature, publicKey);
}

/** One item a decision is about: a ballot's contest, one option or the contest as a whole. */
export function itemKey(ballotId: string, contest: string, option: string | null): string {
  return `${ballotId.toUpperCase()}/${contest}/${option ?? '*'}`;
}

/** What a decision is about, checked against the cast ballot: why it cannot be adjudicated, or undefined. */
export function adjudicationProblem(
  genesis: Genesis,
  record: BallotRecord,
  detail: MarginalDetail | undefined,
  item: { readonly contest: string; readonly option: string | null; readonly decision: Decision },
): string | undefined {
  const ci = genesis.election.contests.findIndex((c) => c.id === item.contest);
  const def = genesis.election.contests[ci];
  if (def === undefined) return `the election has no contest "${item.contest}"`;
  const sel: ContestSelection | undefined = record.contests.find((c) => c.contest === ci);
  if (sel === undefined) return `contest "${item.contest}" is not on ballot ${record.ballotId}`;
  const marginal = detail?.get(ci);
  const d = item.decision;
  if (item.option === null) {
    if (detail !== undefined) return `ballot ${record.ballotId} was recorded with the marginal option of each contest: decide per option, not for contest "${item.contest}" as a whole`;
    if (!sel.marginal) return `ballot ${record.ballotId} has no marginal mark in contest "${item.contest}"`;
    if (d.kind !== 'marks') return `a decision on contest "${item.contest}" as a whole lists the options whose marks count ("marks"), not "${d.kind}"`;
    const at: number[] = [];
    for (const o of d.options) {
      const oi = def.options.indexOf(o);
      if (oi < 0) return `contest "${item.contest}" has no option "${o}"`;
      if (isWriteInOption(o)) return `a write-in line (${o}) cannot be counted at contest level: its name would be lost`;
      if (sel.options.includes(oi)) return `option "${o}" in contest "${item.contest}" was already counted by the station`;
      at.push(oi);
    }
    for (let k = 1; k < at.length; k++) if ((at[k] as number) <= (at[k - 1] as number)) return `"marks" lists the options once each, in ballot order`;
    return undefined;
  }
  const oi = def.options.indexOf(item.option);
  if (oi < 0) return `contest "${item.contest}" has no option "${item.option}"`;
  const isMarginal = marginal?.includes(oi) === true;
  if (isWriteInOption(item.option)) {
    if (d.kind !== 'write-in' && d.kind !== 'no-vote') return `a write-in line is decided with the name read ("write-in <name>") or "no-vote", not "${d.kind}"`;
    if (!sel.options.includes(oi) && !isMarginal) return `the write-in line ${item.option} in contest "${item.contest}" is not marked on ballot ${record.ballotId}`;
    return undefined;
  }
  if (d.kind !== 'counts' && d.kind !== 'not-counted') return `a marginal mark is decided "counts" or "not-counted", not "${d.kind}"`;
  if (detail === undefined) {
    return `ballot ${record.ballotId} was recorded without per-sheet detail: its record says only whether contest "${item.contest}" has a marginal mark, so decide for the contest as a whole (option *)`;
  }
  if (!isMarginal) return `option "${item.option}" in contest "${item.contest}" is not a marginal mark on ballot ${record.ballotId}`;
  return undefined;
}

/** A contest of one ballot after its decisions: the options that count and the write-in names read. */
export interface AdjudicatedContest {
  readonly options: readonly number[];
  readonly overvote: boolean;
  readonly undervote: boolean;
  /** write-in option index → the name the adjudicator read (only lines still among the options) */
  readonly writeInNames: ReadonlyMap<number, string>;
}

/**
 * Applies decisions to the station's reading of one contest: marks decided to count are added, write-in lines
 * decided "no-vote" are taken out; overvote and undervote follow from the count. `optionIndex` maps an
 * option id of this contest to its index.
 */
export function applyDecisions(sel: ContestSelection, seats: number, optionIds: readonly string[], decisions: ReadonlyArray<Pick<AdjudicationStatement, 'option' | 'decision'>>): AdjudicatedContest {
  const options = new Set(sel.options);
  const names = new Map<number, string>();
  for (const { option, decision } of decisions) {
    if (option === null) {
      if (decision.kind === 'marks') for (const o of decision.options) options.add(optionIds.indexOf(o));
      continue;
    }
    const oi = optionIds.indexOf(option);
    if (oi < 0) continue;
    switch (decision.kind) {
      case 'counts':
        options.add(oi);
        break;
      case 'write-in':
        options.add(oi);
        names.set(oi, decision.name);
        break;
      case 'no-vote':
        options.delete(oi);
        break;
      case 'not-counted':
      case 'marks':
        break;
      default:
        assertNeverDecision(decision);
    }
  }
  const list = [...options].filter((o) => o >= 0).sort((a, b) => a - b);
  for (const oi of [...names.keys()]) if (!options.has(oi)) names.delete(oi);
  return { options: list, overvote: list.length > seats, undervote: list.length < seats, writeInNames: names };
}
