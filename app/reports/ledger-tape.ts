import type { Genesis } from '../ledger/entries';
import { toHex } from '../../lib/bytes';
import { checkpointDigest } from '../ledger/checkpoint';
import type { DataLayout } from '../ledger/layout';
import type { LedgerMode } from '../ledger/record';
import type { Problem } from '../ledger/replay';
import type { Tally } from '../ledger/tally';
import { TallyCollector } from '../ledger/tally';
import type { VerifyOptions } from '../ledger/verify';
import { verifyLedgerFile } from '../ledger/verify';
import type { CheckpointQr } from './checkpoint-qr';
import { checkpointQrOf } from './checkpoint-qr';
import type { TapeFacts } from './tape-facts';
import { TapeFactsCollector, bothVisitors } from './tape-facts';

/** Everything a tape takes from the ledgers, each read from a verified replay. */
export interface LedgerTapeData {
  readonly genesis: Genesis;
  readonly tally: Tally;
  readonly facts: TapeFacts;
  readonly head: { readonly seq: number; readonly hash: string };
  /** the last closed batch's checkpoint (official ledger: the one the close of polls wrote) */
  readonly checkpoint: CheckpointQr | undefined;
  /** the precinct the station noted when it loaded the election */
  readonly recordedPrecinct: string | undefined;
}

export type LedgerTapeRead = { readonly ok: true; readonly value: LedgerTapeData } | { readonly ok: false; readonly file: string; readonly problem: Problem };

/**
 * Verifies the ledger of `mode` and (for a test tape) the official ledger, whose audit events say when the
 * polls opened and closed and which zero tape was printed, and collects a tape's data in the same passes.
 */
export function readLedgerForTape(layout: DataLayout, mode: LedgerMode, verifyOptions: (mode: LedgerMode) => VerifyOptions, network: CheckpointQr['network']): LedgerTapeRead {
  const tally = new TallyCollector();
  const facts = new TapeFactsCollector(mode);
  let recordedPrecinct: string | undefined;
  const precinct = {
    onEvent: (e: { type: string; detail: Record<string, unknown> }): void => {
      const p = e.detail['precinct'];
      if (e.type === 'election-loaded' && typeof p === 'string') recordedPrecinct = p;
    },
  };
  const officialFile = layout.ledger('official');
  const file = layout.ledger(mode);
  const visitor = mode === 'official' ? bothVisitors(bothVisitors(tally.visitor, facts.returns), bothVisitors(facts.events, precinct)) : bothVisitors(tally.visitor, facts.returns);
  const report = verifyLedgerFile(file, verifyOptions(mode), visitor);
  if (!report.ok || report.summary === undefined) return { ok: false, file, problem: report.problem ?? { seq: 0, kind: 'invalid', message: 'no summary' } };
  if (mode === 'test') {
    const official = verifyLedgerFile(officialFile, verifyOptions('official'), bothVisitors(facts.events, precinct));
    if (!official.ok) return { ok: false, file: officialFile, problem: official.problem ?? { seq: 0, kind: 'invalid', message: 'no summary' } };
  }
  const s = report.summary;
  const last = s.batches[s.batches.length - 1];
  return {
    ok: true,
    value: {
      genesis: s.genesis,
      tally: tally.result(s.pending),
      facts: facts.result(officialFile),
      head: { seq: s.head.seq, hash: toHex(s.head.hash) },
      checkpoint: last === undefined ? undefined : checkpointQrOf(last.checkpoint, checkpointDigest(last.body), network),
      recordedPrecinct,
    },
  };
}
