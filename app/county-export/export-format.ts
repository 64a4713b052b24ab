import crypto from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1';
import { z } from 'zod';
import { fromHex } from '../../lib/bytes';
import type { CanonicalValue } from '../ledger/canonical-json';
import { canonicalJson } from '../ledger/canonical-json';
import type { LedgerMode } from '../ledger/record';

/**
 * The continuous export's layout on the export device (EXPORT.md): one folder per station and ledger mode,
 * one CVR file per cast ballot named by its record's leaf hash, index files that list the files by the first
 * two hex digits of that name, and one manifest signed by the station key over the index files' digests.
 * Writing one ballot rewrites one index file (about 1/256 of the ballots) and the manifest (at most 256
 * digests): O(1)-ish per ballot, and nothing in any name or order follows the order of casting.
 */
export const EXPORT_FORMAT = 'tallyproof-export/1';
export const INDEX_FORMAT = 'tallyproof-export-index/1';
/** what the station's signature covers: SHA-256 of this line, then the manifest's canonical JSON without `signature` */
export const MANIFEST_SIGNING_TAG = 'tallyproof-export-manifest/1\n';

export const MANIFEST_FILE = 'manifest.json';
export const INDEX_DIR = 'index';
export const CVR_DIR = 'cvr';
/** the CastVoteRecordReport the CVR files belong to, without CVRs: election, places, parties, the station */
export const REPORT_FILE = 'cvr-report.json';

/** Every export file's modification time: the device's directory must not date, and so order, the ballots. */
export const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const bucketKey = z.string().regex(/^[0-9a-f]{2}$/, 'an index bucket is two lower-case hex digits');

/** `tallyproof-<station>-<mode>`: several stations, and both modes, share one device. */
export function exportFolderName(stationId: string, mode: LedgerMode): string {
  return `tallyproof-${stationId}-${mode}`;
}

export function bucketOf(leafHex: string): string {
  return leafHex.slice(0, 2);
}

export function cvrFileName(leafHex: string): string {
  return `${CVR_DIR}/${leafHex}.json`;
}

export function indexFileName(bucket: string): string {
  return `${INDEX_DIR}/${bucket}.json`;
}

export const ExportedFileSchema = z.strictObject({
  /** the path inside the export folder, `/`-separated */
  name: z.string().regex(/^(cvr\/[0-9a-f]{64}\.json|images\/[0-9a-f]{64}-[1-9]-[0-9a-f]{32}\.enc)$/, 'not a file name the export uses'),
  sha256: hex64,
  bytes: z.number().int().nonnegative(),
});
export type ExportedFile = z.infer<typeof ExportedFileSchema>;

export const IndexedBallotSchema = z.strictObject({
  /** the ballot record's Merkle leaf hash: the CVR's UniqueId and its file name */
  leaf: hex64,
  files: z.array(ExportedFileSchema).min(1),
});
export type IndexedBallot = z.infer<typeof IndexedBallotSchema>;

export const IndexFileSchema = z.strictObject({
  format: z.literal(INDEX_FORMAT),
  bucket: bucketKey,
  ballots: z.array(IndexedBallotSchema).min(1),
});
export type IndexFile = z.infer<typeof IndexFileSchema>;

export const ManifestBodySchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  station: z.strictObject({ id: z.string().min(1), number: z.number().int().positive(), publicKey: hex64 }),
  election: hex64,
  mode: z.enum(['official', 'test']),
  /** cast ballots exported (one CVR each) */
  ballots: z.number().int().nonnegative(),
  /** files listed by the index files (CVRs and images) */
  files: z.number().int().nonnegative(),
  /** SHA-256 of each non-empty index file's bytes, by bucket */
  index: z.record(bucketKey, hex64),
  /** SHA-256 of REPORT_FILE */
  report: hex64,
});
export type ManifestBody = z.infer<typeof ManifestBodySchema>;

export const ManifestSchema = ManifestBodySchema.extend({ signature: z.string().regex(/^[0-9a-f]{128}$/, 'a BIP-340 signature is 128 hex digits') });
export type Manifest = z.infer<typeof ManifestSchema>;

export function sha256Hex(data: Uint8Array | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

export function manifestDigest(body: ManifestBody): Uint8Array {
  return new Uint8Array(crypto.createHash('sha256').update(MANIFEST_SIGNING_TAG).update(canonicalJson(body as unknown as CanonicalValue)).digest());
}

export function manifestSignatureValid(m: Manifest): boolean {
  const { signature, ...body } = m;
  try {
    return schnorr.verify(fromHex(signature, 'signature', 64), manifestDigest(body), fromHex(body.station.publicKey, 'station public key', 32));
  } catch {
    return false;
  }
}

/** The manifest's bytes: canonical JSON (sorted keys), one line. */
export function manifestText(m: Manifest): string {
  return `${canonicalJson(m as unknown as CanonicalValue)}\n`;
}

/** An index file's bytes: ballots sorted by leaf hash, each ballot's files by name. */
export function indexText(bucket: string, ballots: readonly IndexedBallot[]): string {
  const sorted = [...ballots].sort((a, b) => (a.leaf < b.leaf ? -1 : a.leaf > b.leaf ? 1 : 0)).map((b) => ({ leaf: b.leaf, files: [...b.files].sort((x, y) => (x.name < y.name ? -1 : 1)) }));
  const doc: IndexFile = { format: INDEX_FORMAT, bucket, ballots: sorted };
  return `${canonicalJson(doc as unknown as CanonicalValue)}\n`;
}

/** Parses JSON text against a schema; the error names the file and the first problems. */
export function parseJsonFile<T>(schema: z.ZodType<T>, text: string, name: string): { ok: true; value: T } | { ok: false; message: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `${name}: not JSON (${(e as Error).message})` };
  }
  const r = schema.safeParse(raw);
  if (!r.success) return { ok: false, message: `${name}: ${r.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  return { ok: true, value: r.data };
}
