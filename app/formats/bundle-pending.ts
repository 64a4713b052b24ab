import { z } from 'zod';
import { batchName } from './bundle-files';

/**
 * `pending/batch-<NNNNNN>.json` in the auditor's bundle: a batch the station signed for publishing that is
 * not (or no longer) published — signed offline and never broadcast, or sent and not yet confirmed, or
 * withdrawn after a reorg. It carries the signed transactions, so an auditor can check offline
 * (app/audit/pending-check.ts) that what the station will put (or put) on chain is exactly this batch's
 * records and an anchor of its root; and it says so, rather than the audit calling the expected offline state a failure. Nothing in it claims the
 * transactions are on any chain.
 */

export const PENDING_FORMAT = 'tallyproof-pending/1';

/** What the outbox knew when the bundle was exported. */
export const PendingStateSchema = z.enum(['signed', 'broadcast', 'mined', 'confirmed']);
export type PendingState = z.infer<typeof PendingStateSchema>;

const LookSchema = z.strictObject({ at: z.string(), tip: z.number().int().nonnegative(), node: z.string() });

export const PendingFileSchema = z.strictObject({
  format: z.literal(PENDING_FORMAT),
  batch: z.number().int().positive(),
  /** the checkpoint the outbox signed these transactions for */
  checkpointDigest: z.string().regex(/^[0-9a-f]{64}$/),
  state: PendingStateSchema,
  /** the publication this batch had before a reorg withdrew it, if any */
  withdrawn: z.boolean(),
  /** when the station's outbox last looked at each chain (null: never, e.g. offline signing) */
  lastLooked: z.strictObject({ records: LookSchema.nullable(), anchor: LookSchema.nullable() }),
  records: z.strictObject({
    chain: z.string(),
    network: z.string(),
    carrier: z.enum(['flodata', 'op_return']),
    txs: z.array(z.strictObject({ chunk: z.number().int().nonnegative(), txid: z.string().regex(/^[0-9a-f]{64}$/), hex: z.string().regex(/^([0-9a-f]{2})+$/) })),
  }),
  anchor: z.strictObject({ chain: z.string(), network: z.string(), txid: z.string().regex(/^[0-9a-f]{64}$/), hex: z.string().regex(/^([0-9a-f]{2})+$/) }),
});
export type PendingFile = z.infer<typeof PendingFileSchema>;

export function pendingPath(batch: number): string {
  return `pending/${batchName(batch)}.json`;
}

/**
 * How a batch's publishing state reads to a person: `publish`'s summary, the audit report and the demo say
 * the same. `offline`: the station has not looked at the chains (signing with no node).
 */
export function describeBatchState(state: PendingState | 'published', opts: { offline: boolean; withdrawn?: boolean }): string {
  const was = opts.withdrawn === true ? ' (its publication was withdrawn after a reorg)' : '';
  switch (state) {
    case 'signed':
      return opts.offline ? `signed, not broadcast (offline): its anchor is not on any chain yet${was}` : `signed, not broadcast yet: its anchor is not on any chain yet${was}`;
    case 'broadcast':
      return `broadcast, not yet in a block: its anchor is not on chain yet${was}`;
    case 'mined':
      return `in a block, not yet at the required depth${was}`;
    case 'confirmed':
      return `confirmed, publication file not yet written${was}`;
    case 'published':
      return 'published: records and anchor confirmed, publication file written';
    default: {
      const never: never = state;
      return never;
    }
  }
}

/** A pending statement's state as a person reads it. */
export function describePendingState(p: Pick<PendingFile, 'state' | 'withdrawn' | 'lastLooked'>): string {
  return describeBatchState(p.state, { offline: p.lastLooked.records === null && p.lastLooked.anchor === null, withdrawn: p.withdrawn });
}
