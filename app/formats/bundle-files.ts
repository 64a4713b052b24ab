import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { canonicalJson } from '../ledger/canonical-json';
import { BUNDLE_FORMAT } from '../ledger/bundle-format';
import type { Publication } from './publication-formats';
import { PublicationSchema } from './publication-formats';

/**
 * The auditor's bundle as `ledger export` writes it (app/ledger/export.ts), read with schemas, plus the
 * files this module adds: `publication/batch-<NNNNNN>.json` and `ots/<ballot-id>.ots` (with the leaf file
 * `ots/<ballot-id>` the proof timestamps). Batch file names keep export's six-digit padding.
 */

export class BundleError extends Error {
  override readonly name = 'BundleError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

const hex = (bytes?: number) => z.string().regex(bytes === undefined ? /^(?:[0-9a-f]{2})*$/ : new RegExp(`^[0-9a-f]{${bytes * 2}}$`));

export const ManifestSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  mode: z.enum(['official', 'test']),
  election: hex(32),
  station: z.string().min(1),
  files: z.array(z.strictObject({ path: z.string().min(1), bytes: z.number().int().nonnegative(), sha256: hex(32) })),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const CheckpointListSchema = z.array(
  z.strictObject({ batch: z.number().int().positive(), file: z.string().min(1), signature: hex(64), treeSize: z.number().int().nonnegative(), root: hex(32) }),
);

export const BatchFileSchema = z.strictObject({
  batch: z.number().int().positive(),
  batchStart: z.number().int().nonnegative(),
  treeSize: z.number().int().nonnegative(),
  root: hex(32),
  records: z.array(z.strictObject({ leafIndex: z.number().int().nonnegative(), record: hex(), inclusionProof: z.array(hex(32)) })),
});
export type BatchFile = z.infer<typeof BatchFileSchema>;

export const ConsistencyListSchema = z.array(
  z.strictObject({ fromBatch: z.number().int().positive(), toBatch: z.number().int().positive(), size1: z.number().int().positive(), size2: z.number().int().positive(), proof: z.array(hex(32)) }),
);

export const StationKeySchema = z.strictObject({
  stationId: z.string(),
  stationNumber: z.number().int().nonnegative(),
  algorithm: z.literal('secp256k1-schnorr-bip340'),
  publicKey: hex(32),
});

export const ElectionFileSchema = z.strictObject({
  hash: hex(32),
  title: z.string(),
  contests: z.array(z.strictObject({ id: z.string(), options: z.array(z.string()), seats: z.number().int().positive() })),
});

export const StatusSchema = z.strictObject({
  batches: z.number().int().nonnegative(),
  publishedRecords: z.number().int().nonnegative(),
  castNotYetBatched: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
});

export function batchName(batch: number): string {
  return `batch-${String(batch).padStart(6, '0')}`;
}

export function publicationPath(batch: number): string {
  return `publication/${batchName(batch)}.json`;
}

export function otsPath(ballotId: string): string {
  return `ots/${ballotId}.ots`;
}

export function leafFilePath(ballotId: string): string {
  return `ots/${ballotId}`;
}

export function readBundleFile(dir: string, rel: string): Buffer {
  try {
    return fs.readFileSync(path.join(dir, rel));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BundleError(rel, code === 'ENOENT' ? 'missing from the bundle' : `cannot be read: ${(e as Error).message}`);
  }
}

export function readJson<S extends z.ZodType>(dir: string, rel: string, schema: S): z.infer<S> {
  const raw = readBundleFile(dir, rel).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    throw new BundleError(rel, `is not JSON: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BundleError(rel, parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; '));
  return parsed.data;
}

export function readPublication(dir: string, batch: number): Publication | undefined {
  if (!fs.existsSync(path.join(dir, publicationPath(batch)))) return undefined;
  const p = readJson(dir, publicationPath(batch), PublicationSchema);
  if (p.batch !== batch) throw new BundleError(publicationPath(batch), `says batch ${p.batch}`);
  return p;
}

export function sha256HexOfBytes(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

export function manifestText(m: Manifest): string {
  const files = [...m.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return `${canonicalJson({ format: m.format, mode: m.mode, election: m.election, station: m.station, files })}\n`;
}

export function jsonText(v: unknown): string {
  return `${JSON.stringify(v, null, 1)}\n`;
}
