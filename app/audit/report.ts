import type { Checkpoint } from '../ledger/checkpoint';
import type { BallotRecord } from '../ledger/record';
import type { BatchFile } from '../formats/bundle-files';
import type { PendingFile } from '../formats/bundle-pending';
import type { Publication } from '../formats/publication-formats';
import type { PaperSummary } from './audit-paper';

/**
 * What `audit verify` reports, and the findings each step of it adds to: every check passed or failed with
 * what it covered, and what could not be checked. Steps never stop the audit at a failure.
 */

export type CheckName =
  | 'manifest'
  | 'bundle'
  | 'checkpoint'
  | 'batch'
  | 'inclusion'
  | 'consistency'
  | 'publication'
  | 'genesis'
  | 'anchor-headers'
  | 'anchor-block'
  | 'anchor'
  | 'records-headers'
  | 'records-block'
  | 'records-chain'
  | 'ots'
  | 'tally'
  | 'results-tape'
  | 'rpc'
  | 'ballot-codes'
  | 'election-keys'
  | 'ballot-record'
  | 'ballot-marks'
  | 'county-proof';

export interface AuditCheck {
  readonly check: CheckName;
  readonly ok: boolean;
  readonly batch?: number;
  readonly ballot?: string;
  readonly detail: string;
}

export interface BallotLookup {
  readonly ballotId: string;
  readonly found: boolean;
  readonly ok: boolean;
  readonly batch?: number;
  readonly leafIndex?: number;
  readonly record?: {
    readonly mode: string;
    readonly castAsIs: boolean;
    readonly station: number;
    readonly batch: number;
    readonly contests: readonly { contest: string; selections: string[]; overvote: boolean; undervote: boolean; marginal: boolean; writeIn: boolean }[];
  };
  readonly recordHex?: string;
  readonly recordsTx?: { readonly chain: string; readonly txid: string; readonly chunk: number; readonly blockHash: string; readonly height?: number };
  readonly anchorTx?: { readonly chain: string; readonly txid: string; readonly blockHash: string; readonly height: number };
  readonly ots?: string;
  /** the county anchor of the ballot's batch, when `--county-proof` proved it (county-proof-checks.ts) */
  readonly countyAnchor?: { readonly round: number; readonly txid: string; readonly height: number };
  /** set when the ballot's batch is signed and not published: its state in words (not a problem) */
  readonly notPublished?: string;
  readonly problems: readonly string[];
}

/** Something the audit could not check, and why: said in the report rather than passed silently. */
export interface NotChecked {
  readonly what: 'chain' | 'publication' | 'tx-signatures';
  readonly batch?: number;
  readonly detail: string;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly bundle: string;
  readonly checks: readonly AuditCheck[];
  readonly failures: readonly AuditCheck[];
  /** what was not checked (no node given, batches not on any chain yet): never a pass, never a failure */
  readonly notChecked: readonly NotChecked[];
  readonly ballot?: BallotLookup;
  /** the paper ballot given with --ballot-codes or --ballot-image: its three codes as read */
  readonly paper?: PaperSummary;
}


export type Pass = (check: CheckName, detail: string, where?: { batch?: number; ballot?: string }) => void;

/** The findings the steps add to, in the order the report lists them. */
export interface Findings {
  readonly checks: AuditCheck[];
  readonly notChecked: NotChecked[];
  readonly pass: Pass;
  readonly fail: Pass;
}

export function newFindings(): Findings {
  const checks: AuditCheck[] = [];
  const pass = (check: CheckName, detail: string, where: { batch?: number; ballot?: string } = {}): void => void checks.push({ check, ok: true, ...where, detail });
  const fail = (check: CheckName, detail: string, where: { batch?: number; ballot?: string } = {}): void => void checks.push({ check, ok: false, ...where, detail });
  return { checks, notChecked: [], pass, fail };
}

/** A batch as the bundle holds it, once its checkpoint and batch file are read; later steps add to it. */
export interface LoadedBatch {
  readonly checkpoint: Checkpoint;
  readonly body: string;
  readonly digest: Uint8Array;
  readonly file: BatchFile;
  readonly records: Uint8Array[];
  readonly decoded: (BallotRecord | undefined)[];
  publication?: Publication;
  /** the batch's pending statement, when it is signed and not published */
  pending?: PendingFile;
  /** which records transaction carries each record, by index into file.records */
  carriers?: { txid: string; chunk: number; blockHash: string }[];
  /** a county proof of this batch's checkpoint checked out (`--county-proof`): anchored through the county log */
  countyProof?: { readonly round: number; readonly txid: string; readonly height: number };
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));
