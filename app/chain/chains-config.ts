import fs from 'node:fs';
import { z } from 'zod';
import { NETWORK_NAMES, NETWORKS } from '../../ballots/identity/networks';
import type { LedgerMode } from '../ledger/record';
import { ChainConfigError, PublishError } from './errors';
import { chainNetwork } from './networks';

/**
 * chains.json: where a station's batches go. Two roles: `records` (the high-capacity chain carrying the
 * ballot records, Florincoin floData or an OP_RETURN) and `anchor` (the Bitcoin-family chain carrying one
 * OP_RETURN per checkpoint). `rpc` is optional: a station with no network signs offline and leaves the
 * broadcast to another machine.
 *
 * {
 *   "format": "tallyproof-chains/1",
 *   "records": { "name": "florincoin", "network": "florincoin-main", "carrier": "flodata", "maxDataBytes": 1040,
 *                "address": "p2pkh", "feeFloorSatPerVb": 1, "confirmations": 6,
 *                "rpc": { "url": "http://127.0.0.1:7313/", "cookieFile": "/var/lib/flo/.cookie" } },
 *   "anchor":  { "name": "bitcoin", "network": "bitcoin-main", "address": "p2wpkh", "feeFloorSatPerVb": 2,
 *                "confTarget": 6, "confirmations": 6, "rbf": { "bumpAfterBlocks": 3, "factor": 1.5, "maxSatPerVb": 200 },
 *                "rpc": { "url": "http://127.0.0.1:8332/", "user": "tp", "password": "..." } }
 * }
 */

const RpcSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  cookieFile: z.string().min(1).optional(),
  timeoutMs: z.number().int().min(100).max(600_000).optional(),
  retries: z.number().int().min(0).max(10).optional(),
  backoffMs: z.number().int().min(0).max(60_000).optional(),
});

const ProfileBase = {
  /** a short name for messages and the publication file, e.g. "florincoin" */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,39}$/, 'a short lowercase name (letters, digits, . _ -)'),
  network: z.enum(NETWORK_NAMES, { error: `must be one of ${NETWORK_NAMES.join(', ')}` }),
  /** the station's own address type on this chain, made from the station key */
  address: z.enum(['p2wpkh', 'p2pkh']).default('p2wpkh'),
  rpc: RpcSchema.optional(),
  /** lowest fee rate ever used, sat/vB; also the rate when there is no node to ask */
  feeFloorSatPerVb: z.number().positive().max(10_000).default(1),
  /** estimatesmartfee target, blocks */
  confTarget: z.number().int().min(1).max(1008).default(6),
  /** blocks on top of (and including) the one holding a transaction before it counts as confirmed */
  confirmations: z.number().int().min(1).max(100).default(6),
};

export const RecordsProfileSchema = z.strictObject({
  ...ProfileBase,
  carrier: z.enum(['flodata', 'op_return']),
  /** the data field's size: 1,040 for floData; the node's -datacarriersize minus the script's push overhead for OP_RETURN */
  maxDataBytes: z.number().int().min(64).max(100_000),
  /** a dust output to each ballot's printed address, so the paper's address finds its record on an explorer */
  dustToBallotAddress: z.strictObject({ amountSat: z.number().int().min(1).max(100_000), xpub: z.string().min(1) }).optional(),
});

export const AnchorProfileSchema = z.strictObject({
  ...ProfileBase,
  rbf: z
    .strictObject({
      /** re-sign at a higher rate when the anchor is still unconfirmed this many blocks after broadcast */
      bumpAfterBlocks: z.number().int().min(1).max(1000).default(3),
      factor: z.number().min(1.1).max(10).default(1.5),
      maxSatPerVb: z.number().positive().max(100_000).default(500),
    })
    .default({ bumpAfterBlocks: 3, factor: 1.5, maxSatPerVb: 500 }),
});

export const ChainsConfigSchema = z
  .strictObject({
    format: z.literal('tallyproof-chains/1'),
    records: RecordsProfileSchema,
    anchor: AnchorProfileSchema,
  })
  .superRefine((c, ctx) => {
    const rec = c.records;
    if (rec.carrier === 'flodata' && !chainNetwork(rec.network).floData) {
      ctx.addIssue({ code: 'custom', path: ['records', 'carrier'], message: `floData exists only on Florincoin, not on ${rec.network}` });
    }
    if (rec.carrier === 'flodata' && rec.maxDataBytes > 1040) {
      ctx.addIssue({ code: 'custom', path: ['records', 'maxDataBytes'], message: 'Florincoin floData holds at most 1,040 bytes' });
    }
    // FLO's segwit signature hash with floData has no real transaction to check it against (see flo-tx.ts)
    if (rec.carrier === 'flodata' && rec.address !== 'p2pkh') {
      ctx.addIssue({ code: 'custom', path: ['records', 'address'], message: 'a floData profile signs from a p2pkh address' });
    }
    // OP_RETURN transactions go through bitcoinjs-lib's PSBT with segwit inputs (no previous transaction needed)
    if (rec.carrier === 'op_return' && rec.address !== 'p2wpkh') {
      ctx.addIssue({ code: 'custom', path: ['records', 'address'], message: 'an OP_RETURN profile signs from a p2wpkh address' });
    }
    if (c.anchor.address !== 'p2wpkh') ctx.addIssue({ code: 'custom', path: ['anchor', 'address'], message: 'the anchor is signed from a p2wpkh address' });
    if (rec.name === c.anchor.name) ctx.addIssue({ code: 'custom', path: ['anchor', 'name'], message: 'the two profiles need different names' });
  });
export type ChainsConfig = z.infer<typeof ChainsConfigSchema>;
export type RecordsProfile = z.infer<typeof RecordsProfileSchema>;
export type AnchorProfile = z.infer<typeof AnchorProfileSchema>;
export type ChainProfile = RecordsProfile | AnchorProfile;

function pathOf(p: readonly PropertyKey[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
}

export function parseChainsConfig(json: unknown, file = 'chains.json'): ChainsConfig {
  const r = ChainsConfigSchema.safeParse(json);
  if (!r.success) throw new ChainConfigError(file, r.error.issues.map((i) => ({ path: pathOf(i.path), message: i.message })));
  return r.data;
}

export function loadChainsConfig(file: string): ChainsConfig {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ChainConfigError(file, [{ path: '', message: `cannot read the file: ${(e as Error).message}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new ChainConfigError(file, [{ path: '', message: `not JSON: ${(e as Error).message}` }]);
  }
  return parseChainsConfig(json, file);
}

/**
 * Invariant 5: a test-mode ledger never reaches a chain whose coins have value. Checked from the profile
 * before anything is signed; `checkNodeNetwork` checks the node itself once there is one.
 */
export function assertModeAllowed(mode: LedgerMode, config: ChainsConfig): void {
  if (mode !== 'test') return;
  for (const role of ['records', 'anchor'] as const) {
    const p = config[role];
    if (NETWORKS[p.network].live) {
      throw new PublishError(
        'mode',
        `refused: this is a test-mode ledger and the ${role} profile "${p.name}" is ${NETWORKS[p.network].title} (${p.network}), a live chain; test ballots never reach a live chain (use a test or regtest network)`,
      );
    }
  }
}

/** The node must be on the network its profile names (by its chain name, and its genesis where that is fixed). */
export function checkNodeNetwork(role: 'records' | 'anchor', profile: ChainProfile, nodeChain: string, genesisHash: string): void {
  const want = chainNetwork(profile.network);
  if (nodeChain !== want.nodeChain) {
    throw new PublishError('mode', `the ${role} profile "${profile.name}" says ${profile.network}, but its node reports chain "${nodeChain}" (expected "${want.nodeChain}")`);
  }
  if (want.genesisHash !== undefined && want.genesisHash !== genesisHash) {
    throw new PublishError('mode', `the ${role} profile "${profile.name}" says ${profile.network}, but its node's genesis block is ${genesisHash}, not ${want.genesisHash}`);
  }
}
