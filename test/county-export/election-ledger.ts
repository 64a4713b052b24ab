import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ElectionDefinition } from '../../ballots/election';
import { contestOptions, loadElection, voteFor } from '../../ballots/election';
import { encodeVotingId } from '../../ballots/identity/voting-id';
import type { Genesis } from '../../app/ledger/entries';
import { Ledger } from '../../app/ledger/ledger';
import type { BallotCapture, LedgerMode } from '../../app/ledger/record';
import { mulberry32, serialFrom, testSigner } from '../ledger/fixtures';

/**
 * A station data directory whose ledger is for a real election definition (its hash, contest map and
 * voting IDs), filled through the Ledger API the station uses (pending, then cast or returned; events;
 * batches closed with a signed checkpoint). Marks are random from a seed; what counts is that every export
 * is checked against `ledger tally` of this ledger, never against numbers written here.
 */
export interface ElectionLedgerSpec {
  readonly electionFile: string;
  readonly dataDir: string;
  readonly mode?: LedgerMode;
  /** cast ballots per batch; each batch is closed */
  readonly batches: readonly number[];
  readonly seed?: number;
  /** extra: ballots returned after pending, and one left pending at the end */
  readonly returned?: number;
  readonly leavePending?: boolean;
  /** chance a contest carries a marginal-mark flag */
  readonly marginalRate?: number;
  /**
   * write each ballot's sheet detail as the station does (every target scored, the marginal option named,
   * `sides` sides each with a random image ID, kept with chance `keptRate`); from ballot `from` on (the ones
   * before are format-1 entries, as a ledger started by older software has)
   */
  readonly detail?: { readonly sides: 1 | 2; readonly keptRate: number; readonly from?: number };
}

export function genesisOf(def: ElectionDefinition, hash: string, mode: LedgerMode, publicKey: Uint8Array): Genesis {
  return {
    format: 'tallyproof-ledger/1',
    mode,
    election: {
      hash,
      title: def.election.title,
      contests: def.contests.map((c) => ({ id: c.id, options: contestOptions(c, def).map((o) => o.id), seats: voteFor(c) })),
    },
    station: { id: 'station-9', number: 9, publicKey: Buffer.from(publicKey).toString('hex') },
  };
}

/** The sheet detail the station would write for this capture: scores high for marks, one marginal option where flagged. */
function detailFor(def: ElectionDefinition, c: BallotCapture, rand: () => number, spec: NonNullable<ElectionLedgerSpec['detail']>): BallotCapture {
  const contests = c.contests.map((sel) => {
    const n = contestOptions(def.contests[sel.contest] as ElectionDefinition['contests'][number], def).length;
    const scores = Array.from({ length: n }, (_, k) => (sel.options.includes(k) ? 5000 + Math.floor(rand() * 5001) : Math.floor(rand() * 600)));
    const free = scores.map((_, k) => k).filter((k) => !sel.options.includes(k));
    const marginal = sel.marginal && free.length > 0 ? [free[Math.floor(rand() * free.length)] as number] : [];
    for (const k of marginal) scores[k] = 1200 + Math.floor(rand() * 2000);
    return { contest: sel.contest, scores, marginal };
  });
  const hex = (bytes: number): string => Array.from({ length: bytes }, () => Math.floor(rand() * 256).toString(16).padStart(2, '0')).join('');
  const sides = Array.from({ length: spec.sides }, () => ({ imageId: hex(16), sha256: Uint8Array.from(Buffer.from(hex(32), 'hex')), kept: rand() < spec.keptRate }));
  return { ...c, contests: c.contests.map((sel, i) => ({ ...sel, marginal: (contests[i]?.marginal.length ?? 0) > 0 })), detail: { sides, contests } };
}

function captureFor(def: ElectionDefinition, hash: string, mode: LedgerMode, rand: () => number, marginalRate: number): BallotCapture {
  const style = def.ballotStyles[Math.floor(rand() * def.ballotStyles.length)] as ElectionDefinition['ballotStyles'][number];
  const precinct = style.precincts[Math.floor(rand() * style.precincts.length)] as string;
  const votingId = encodeVotingId({ electionHashPrefix: hash.slice(0, 16), precinctId: precinct, styleId: style.id, side: 'front', mode });
  const onStyle = new Set(style.contests);
  const contests = def.contests.flatMap((c, contest) => {
    if (!onStyle.has(c.id)) return [];
    const n = contestOptions(c, def).length;
    const seats = voteFor(c);
    const marks = Math.floor(rand() * (seats + 2));
    const pool = Array.from({ length: n }, (_, i) => i);
    const options: number[] = [];
    for (let k = 0; k < marks && pool.length > 0; k++) options.push(pool.splice(Math.floor(rand() * pool.length), 1)[0] as number);
    options.sort((a, b) => a - b);
    const writeIn = c.type === 'candidate' && options.some((o) => o >= c.candidates.length);
    return [{ contest, options, overvote: options.length > seats, undervote: options.length < seats, marginal: rand() < marginalRate, writeIn }];
  });
  const ballotId = serialFrom(rand);
  return {
    ballotId,
    votingId,
    mode,
    castAsIs: contests.some((c) => c.overvote),
    imageSha256: new Uint8Array(crypto.createHash('sha256').update(`scan of ${ballotId}`).digest()),
    readerVersion: 1,
    calibrationVersion: 0,
    contests,
  };
}

/** What went into the ledger for each cast ballot, as the station handed it over. */
export interface CastCapture {
  readonly ballotId: string;
  readonly castAsIs: boolean;
  readonly imageSha256: string;
  readonly votingId: string;
  readonly detail?: BallotCapture['detail'];
}

export function makeElectionLedger(spec: ElectionLedgerSpec): { ledgerFile: string; genesis: Genesis; cast: CastCapture[] } {
  const loaded = loadElection(spec.electionFile);
  if (!loaded.ok) throw new Error(`${spec.electionFile}: ${JSON.stringify(loaded.error)}`);
  const { definition: def, hash } = loaded.value;
  const mode = spec.mode ?? 'official';
  const signer = testSigner(9);
  const genesis = genesisOf(def, hash, mode, signer.publicKey);
  const ledgerFile = path.join(spec.dataDir, 'ledger', `${mode}.sqlite`);
  fs.mkdirSync(path.dirname(ledgerFile), { recursive: true });
  const l = Ledger.create(ledgerFile, genesis);
  const rand = mulberry32(spec.seed ?? 1);
  const cast: CastCapture[] = [];
  let made = 0;
  const one = (then: 'cast' | 'return' | 'leave'): void => {
    const plain = captureFor(def, hash, mode, rand, spec.marginalRate ?? 0.05);
    const c = spec.detail !== undefined && made >= (spec.detail.from ?? 0) ? detailFor(def, plain, rand, spec.detail) : plain;
    made += 1;
    const p = l.appendPending(c);
    if (!p.ok) throw new Error(`append refused: ${JSON.stringify(p.error)}`);
    if (then === 'cast' && !l.confirmCast(p.value.seq).ok) throw new Error('cast refused');
    if (then === 'cast') cast.push({ ballotId: c.ballotId, castAsIs: c.castAsIs, imageSha256: Buffer.from(c.imageSha256).toString('hex'), votingId: c.votingId, ...(c.detail !== undefined ? { detail: c.detail } : {}) });
    if (then === 'return' && !l.markReturned(p.value.seq, 'overvote:fixture').ok) throw new Error('return refused');
  };
  try {
    l.recordEvent({ type: 'election-loaded', role: 'administrator', detail: { election: def.election.id, hash }, at: '2026-11-03T06:00:00Z' });
    l.recordEvent({ type: 'login-failed', role: 'captain', at: '2026-11-03T06:01:00Z' });
    l.recordEvent({ type: 'polls-opened', role: 'captain', at: '2026-11-03T07:00:00Z' });
    for (const n of spec.batches) {
      l.transaction(() => {
        for (let i = 0; i < n; i++) one('cast');
      });
      if (!l.closeBatch(signer).ok) throw new Error('close refused');
    }
    for (let i = 0; i < (spec.returned ?? 0); i++) one('return');
    if (spec.leavePending) one('leave');
    else l.recordEvent({ type: 'polls-closed', role: 'captain', at: '2026-11-03T20:00:00Z' });
  } finally {
    l.close();
  }
  return { ledgerFile, genesis, cast };
}
