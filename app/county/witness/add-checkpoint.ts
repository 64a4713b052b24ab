import { verifyConsistency } from '../../ledger/merkle';
import { parseCheckpoint, type Checkpoint } from '../tlog/checkpoint';
import { openNote, signNote, type Signer, type Verifier } from '../tlog/note';
import { TlogError } from '../tlog/stored-hashes';
import { EMPTY_ROOT } from '../../ledger/merkle';

/**
 * The witness side of C2SP tlog-witness `add-checkpoint`: parse the request, check the log's signature and
 * the consistency proof from the last checkpoint this witness cosigned, and answer with its cosignature.
 * Pure apart from the state it is handed, whose compare-and-set must be atomic (the spec's race: a late
 * smaller request must not roll the witness back).
 */

export interface WitnessedLog {
  readonly origin: string;
  readonly keys: readonly Verifier[];
}

export interface LatestCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
}

export interface WitnessState {
  latest(origin: string): LatestCheckpoint | undefined;
  /**
   * Records the new checkpoint only if the stored size is still `expectedOldSize` (0 when none); returns the
   * size it found otherwise. Must be atomic with respect to other calls.
   */
  compareAndSet(origin: string, expectedOldSize: number, next: LatestCheckpoint, note: string): { ok: true } | { ok: false; size: number };
  /** Keeps a signed checkpoint the witness refused: evidence of a log's misbehaviour. */
  recordRefusal(origin: string, reason: string, body: string): void;
}

export type WitnessReply =
  | { readonly status: 200; readonly contentType: 'text/plain; charset=utf-8'; readonly body: string }
  | { readonly status: 409; readonly contentType: 'text/x.tlog.size'; readonly body: string }
  | { readonly status: 400 | 403 | 404 | 422; readonly contentType: 'text/plain; charset=utf-8'; readonly body: string };

const MAX_PROOF_LINES = 63;

function fail(status: 400 | 403 | 404 | 422, reason: string): WitnessReply {
  return { status, contentType: 'text/plain; charset=utf-8', body: `${reason}\n` };
}

interface Request {
  readonly oldSize: number;
  readonly proof: Uint8Array[];
  readonly note: string;
}

export function parseAddCheckpoint(body: string): Request | TlogError {
  const blank = body.indexOf('\n\n');
  if (blank < 0) return new TlogError('the request has no empty line before the checkpoint');
  const head = body.slice(0, blank).split('\n');
  const oldLine = /^old (0|[1-9]\d{0,15})$/.exec(head[0] ?? '');
  if (oldLine === null) return new TlogError('the first line must be "old <size>"');
  const proofLines = head.slice(1);
  if (proofLines.length > MAX_PROOF_LINES) return new TlogError(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  const proof: Uint8Array[] = [];
  for (const line of proofLines) {
    const raw = Buffer.from(line, 'base64');
    if (raw.length !== 32 || raw.toString('base64') !== line) return new TlogError(`a proof line is not a base64 hash: ${JSON.stringify(line.slice(0, 60))}`);
    proof.push(new Uint8Array(raw));
  }
  return { oldSize: Number(oldLine[1]), proof, note: body.slice(blank + 2) };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

export interface WitnessIdentity {
  readonly signers: readonly Signer[];
  readonly logs: readonly WitnessedLog[];
  /** seconds since the Unix epoch */
  readonly now: () => bigint;
}

export function addCheckpoint(identity: WitnessIdentity, state: WitnessState, body: string): WitnessReply {
  const req = parseAddCheckpoint(body);
  if (req instanceof TlogError) return fail(400, req.message);
  const split = req.note.lastIndexOf('\n\n');
  if (split < 0) return fail(400, 'the checkpoint carries no signature lines');
  const checkpoint = parseCheckpoint(req.note.slice(0, split + 1));
  if (checkpoint instanceof TlogError) return fail(400, checkpoint.message);
  const log = identity.logs.find((l) => l.origin === checkpoint.origin);
  if (log === undefined) return fail(404, `unknown log ${JSON.stringify(checkpoint.origin)}`);
  const opened = openNote(req.note, log.keys);
  if (opened instanceof TlogError) return fail(403, opened.message);
  if (req.oldSize > checkpoint.size) return fail(400, `old size ${req.oldSize} is larger than the checkpoint's ${checkpoint.size}`);

  const refuse = (reason: string): WitnessReply => {
    state.recordRefusal(checkpoint.origin, reason, body);
    return fail(422, reason);
  };
  const latest = state.latest(checkpoint.origin);
  const storedSize = latest?.size ?? 0;
  if (req.oldSize !== storedSize) {
    return { status: 409, contentType: 'text/x.tlog.size', body: `${storedSize}\n` };
  }
  const consistency = checkConsistency(req, checkpoint, latest);
  if (consistency !== undefined) return refuse(consistency);

  const set = state.compareAndSet(checkpoint.origin, req.oldSize, { size: checkpoint.size, root: checkpoint.root }, req.note);
  if (!set.ok) return { status: 409, contentType: 'text/x.tlog.size', body: `${set.size}\n` };
  const timestamp = identity.now();
  const signed = signNote(opened.text, identity.signers, [], timestamp);
  return { status: 200, contentType: 'text/plain; charset=utf-8', body: signed.slice(opened.text.length + 1) };
}

function checkConsistency(req: Request, checkpoint: Checkpoint, latest: LatestCheckpoint | undefined): string | undefined {
  if (checkpoint.size === 0 && !equal(checkpoint.root, EMPTY_ROOT)) return 'a checkpoint of size 0 must have the empty tree\'s root';
  if (req.oldSize === 0) return req.proof.length === 0 ? undefined : 'a proof from size 0 must be empty';
  if (latest === undefined) return 'no checkpoint recorded for a non-zero old size';
  if (req.oldSize === checkpoint.size) {
    if (!equal(latest.root, checkpoint.root)) return `two different roots for size ${checkpoint.size}: the log shows a split view`;
    return req.proof.length === 0 ? undefined : 'a proof between equal sizes must be empty';
  }
  try {
    verifyConsistency(req.oldSize, checkpoint.size, latest.root, checkpoint.root, req.proof);
    return undefined;
  } catch (e) {
    return `the consistency proof from ${req.oldSize} to ${checkpoint.size} does not verify: ${(e as Error).message}`;
  }
}
