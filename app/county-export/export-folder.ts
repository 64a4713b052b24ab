import type { CheckpointSigner } from '../ledger/checkpoint';
import type { LedgerMode } from '../ledger/record';
import { toHex } from '../../lib/bytes';
import type { ExportDevice, FileToWrite } from './export-device';
import type { IndexedBallot, Manifest, ManifestBody } from './export-format';
import {
  CVR_DIR,
  EXPORT_FORMAT,
  INDEX_DIR,
  IndexFileSchema,
  MANIFEST_FILE,
  REPORT_FILE,
  ManifestSchema,
  bucketOf,
  exportFolderName,
  indexFileName,
  indexText,
  manifestDigest,
  manifestSignatureValid,
  manifestText,
  parseJsonFile,
  sha256Hex,
} from './export-format';

/** Whose export a folder holds: the manifest must name the same, or the station does not write there. */
export interface ExportIdentity {
  readonly stationId: string;
  readonly stationNumber: number;
  /** the station key's public key, hex (BIP-340 x-only) */
  readonly publicKey: string;
  readonly election: string;
  readonly mode: LedgerMode;
}

/** One ballot's files, named inside the folder (`cvr/<leaf>.json`, later its images). */
export interface BallotFiles {
  readonly leaf: string;
  readonly files: readonly FileToWrite[];
}

/** The device is there but the folder is not this station's to write: another election, station or key. */
export class ForeignExportError extends Error {}

/** Free space below what the next write needs: refused before a byte is written (a half-written ballot helps nobody). */
export class NotEnoughSpaceError extends Error {
  readonly code = 'ENOSPC';
}

/** Room kept free besides what a write needs: the file system's own blocks, a temporary copy. */
const SPACE_MARGIN = 64 * 1024;

/**
 * One station's export folder for one ledger mode on the device, as the station writes it: what the index
 * files list (ballot by leaf hash), kept in memory, and the writes that add or remove ballots, each ending in a
 * new signed manifest. Opening it reads what the device holds and keeps only what verifies: index files the
 * signed manifest covers, and, for any other (a crash between an index file and the manifest, a changed
 * file), only the entries whose files on the device still have the listed SHA-256. The rest is written again
 * from the ledger by the catch-up.
 */
export class ExportFolder {
  private readonly buckets = new Map<string, Map<string, IndexedBallot>>();
  private readonly digests = new Map<string, string>();
  /** buckets whose index file waits for flush() (add with deferIndex) */
  private readonly dirty = new Set<string>();
  /** the device's folder differs from what verifies: every index file and the manifest are written again */
  private stale = false;
  readonly folder: string;
  /** what opening found wrong, for the station's log */
  readonly findings: string[] = [];

  private constructor(
    private readonly device: ExportDevice,
    private readonly id: ExportIdentity,
    private readonly signer: CheckpointSigner,
    private readonly report: Uint8Array,
  ) {
    this.folder = exportFolderName(id.stationId, id.mode);
  }

  /** `report`: the folder's CastVoteRecordReport without CVRs (REPORT_FILE), written when the device lacks it */
  static open(device: ExportDevice, id: ExportIdentity, signer: CheckpointSigner, report: Uint8Array): ExportFolder {
    const f = new ExportFolder(device, id, signer, report);
    f.load();
    return f;
  }

  private path(name: string): string {
    return `${this.folder}/${name}`;
  }

  get ballots(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.size;
    return n;
  }

  has(leaf: string): boolean {
    return this.buckets.get(bucketOf(leaf))?.has(leaf) === true;
  }

  /** The names the index lists for a ballot, sorted (undefined: not in the folder). */
  fileNames(leaf: string): string[] | undefined {
    return this.buckets.get(bucketOf(leaf))?.get(leaf)?.files.map((f) => f.name).sort();
  }

  leaves(): string[] {
    return [...this.buckets.values()].flatMap((b) => [...b.keys()]);
  }

  /** Whether the device's folder must be written again even with no ballot to add (see load). */
  get needsRewrite(): boolean {
    return this.stale;
  }

  private load(): void {
    const text = this.device.readFile(this.path(MANIFEST_FILE));
    const onDisk = new Set(this.device.listDir(this.path(INDEX_DIR)).filter((n) => /^[0-9a-f]{2}\.json$/.test(n)).map((n) => n.slice(0, 2)));
    let signed: Manifest | undefined;
    if (text !== undefined) {
      const m = parseJsonFile(ManifestSchema, text.toString('utf8'), `${this.folder}/${MANIFEST_FILE}`);
      if (!m.ok) this.finding(`${m.message}: written again from the ledger`);
      else {
        const v = m.value;
        if (v.station.id !== this.id.stationId || v.mode !== this.id.mode) throw new ForeignExportError(`${this.folder}/${MANIFEST_FILE} names station ${v.station.id} (${v.mode}), not ${this.id.stationId} (${this.id.mode})`);
        if (v.election !== this.id.election) throw new ForeignExportError(`${this.folder}/${MANIFEST_FILE} is the export of another election (hash ${v.election.slice(0, 16)}…): use another export device, or move that folder off this one`);
        if (v.station.publicKey !== this.id.publicKey) throw new ForeignExportError(`${this.folder}/${MANIFEST_FILE} was signed by another station key than ${this.id.stationId}'s`);
        if (!manifestSignatureValid(v)) this.finding(`${this.folder}/${MANIFEST_FILE}: the signature does not verify: written again from the ledger`);
        else signed = v;
      }
    }
    const buckets = new Set([...onDisk, ...Object.keys(signed?.index ?? {})]);
    for (const bucket of [...buckets].sort()) {
      const name = this.path(indexFileName(bucket));
      const bytes = this.device.readFile(name);
      const want = signed?.index[bucket];
      if (bytes === undefined) {
        this.finding(`${name} is missing: its ballots are written again from the ledger`);
        continue;
      }
      const idx = parseJsonFile(IndexFileSchema, bytes.toString('utf8'), name);
      if (!idx.ok || idx.value.bucket !== bucket) {
        this.finding(`${idx.ok ? `${name}: holds bucket ${idx.value.bucket}` : idx.message}: its ballots are written again from the ledger`);
        continue;
      }
      const trusted = want !== undefined && sha256Hex(bytes) === want;
      if (!trusted) this.finding(`${name} is not the one the manifest signed: each of its files checked`);
      for (const b of idx.value.ballots) {
        if (bucketOf(b.leaf) !== bucket) continue;
        if (!trusted && !b.files.every((f) => this.fileMatches(f.name, f.sha256))) continue;
        this.put(b);
      }
    }
    for (const [bucket, m] of this.buckets) this.digests.set(bucket, sha256Hex(indexText(bucket, [...m.values()])));
    if (signed !== undefined && signed.ballots !== this.ballots) this.stale = true;
    const report = this.device.readFile(this.path(REPORT_FILE));
    if (report === undefined || !report.equals(this.report)) this.stale = true;
  }

  private finding(message: string): void {
    this.findings.push(message);
    this.stale = true;
  }

  private fileMatches(name: string, sha256: string): boolean {
    const bytes = this.device.readFile(this.path(name));
    return bytes !== undefined && sha256Hex(bytes) === sha256;
  }

  private put(b: IndexedBallot): void {
    const bucket = bucketOf(b.leaf);
    let m = this.buckets.get(bucket);
    if (m === undefined) {
      m = new Map();
      this.buckets.set(bucket, m);
    }
    m.set(b.leaf, b);
  }

  /**
   * Writes the ballots' files, then the index files they change, then the signed manifest: a crash or a pulled
   * stick between two steps leaves files no signed manifest covers, which the next open checks and the
   * catch-up writes again. Refuses before writing when the device has not the room.
   */
  add(ballots: readonly BallotFiles[], opts: { readonly deferIndex?: boolean } = {}): void {
    const touched = new Set<string>([...(this.stale ? this.buckets.keys() : []), ...this.dirty]);
    const entries: IndexedBallot[] = ballots.map((b) => ({ leaf: b.leaf, files: b.files.map((f) => ({ name: f.name, sha256: sha256Hex(f.data), bytes: f.data.length })) }));
    const removed = new Map<string, IndexedBallot | undefined>();
    for (const e of entries) {
      removed.set(e.leaf, this.buckets.get(bucketOf(e.leaf))?.get(e.leaf));
      this.put(e);
      touched.add(bucketOf(e.leaf));
    }
    const files = ballots.flatMap((b) => b.files.map((f) => ({ name: this.path(f.name), data: f.data })));
    try {
      if (opts.deferIndex === true) {
        // the ballot's own files now; its index file and the manifest at flush(), coalesced with the next ballots'
        this.roomFor(files.reduce((n, f) => n + f.data.length, 0));
        this.device.writeFiles(files);
        for (const b of touched) this.dirty.add(b);
      } else {
        this.write(files, touched);
        this.dirty.clear();
      }
    } catch (e) {
      // the memory says what the device holds: undo the entries the write did not finish
      for (const [leaf, before] of removed) {
        if (before === undefined) this.buckets.get(bucketOf(leaf))?.delete(leaf);
        else this.put(before);
      }
      throw e;
    }
    // a ballot written again under other names (a new scan of it): its old files go
    for (const [leaf, before] of removed) {
      if (before === undefined) continue;
      const now = new Set(this.buckets.get(bucketOf(leaf))?.get(leaf)?.files.map((f) => f.name));
      for (const f of before.files) if (!now.has(f.name)) this.device.removeFile(this.path(f.name));
    }
  }

  /** Whether index files and the manifest wait for flush(). */
  get flushDue(): boolean {
    return this.dirty.size > 0;
  }

  /** Writes the index files the deferred ballots changed, then the signed manifest. */
  flush(): void {
    if (this.dirty.size === 0) return;
    this.write([], new Set([...(this.stale ? this.buckets.keys() : []), ...this.dirty]));
    this.dirty.clear();
  }

  private roomFor(bytes: number): void {
    const free = this.device.freeBytes();
    if (free !== undefined && free < bytes + SPACE_MARGIN) throw new NotEnoughSpaceError(`the export device ${this.device.root} has ${free} bytes free, the next write needs ${bytes + SPACE_MARGIN}`);
  }

  /** Takes ballots out of the folder (a test ledger started again): their files, then the index and manifest. */
  remove(leaves: readonly string[]): void {
    const touched = new Set<string>([...(this.stale ? this.buckets.keys() : []), ...this.dirty]);
    const files: string[] = [];
    for (const leaf of leaves) {
      const m = this.buckets.get(bucketOf(leaf));
      const b = m?.get(leaf);
      if (m === undefined || b === undefined) continue;
      m.delete(leaf);
      touched.add(bucketOf(leaf));
      files.push(...b.files.map((f) => f.name));
    }
    this.write([], touched);
    this.dirty.clear();
    for (const f of files) this.device.removeFile(this.path(f));
  }

  /** Files in the folder's cvr/ and images/ that no index lists (a crash mid-write, a file put there): removed. */
  sweepUnlisted(): string[] {
    const listed = new Set<string>();
    for (const m of this.buckets.values()) for (const b of m.values()) for (const f of b.files) listed.add(f.name);
    const gone: string[] = [];
    for (const dir of [CVR_DIR, 'images']) {
      for (const n of this.device.listDir(this.path(dir))) {
        const name = `${dir}/${n}`;
        if (listed.has(name)) continue;
        this.device.removeFile(this.path(name));
        gone.push(name);
      }
    }
    return gone;
  }

  private write(files: readonly FileToWrite[], touched: ReadonlySet<string>): void {
    try {
      this.writeNow(files, touched);
    } catch (e) {
      // the device holds some of it or none: the next write rewrites every index file and the manifest
      this.stale = true;
      throw e;
    }
  }

  private writeNow(files: readonly FileToWrite[], touched: ReadonlySet<string>): void {
    const indexes: FileToWrite[] = [];
    if (this.stale) indexes.push({ name: this.path(REPORT_FILE), data: this.report });
    const emptied: string[] = [];
    for (const bucket of [...touched].sort()) {
      const m = this.buckets.get(bucket);
      if (m === undefined || m.size === 0) {
        this.buckets.delete(bucket);
        this.digests.delete(bucket);
        emptied.push(bucket);
        continue;
      }
      const data = Buffer.from(indexText(bucket, [...m.values()]), 'utf8');
      this.digests.set(bucket, sha256Hex(data));
      indexes.push({ name: this.path(indexFileName(bucket)), data });
    }
    const manifest = Buffer.from(manifestText(this.sign()), 'utf8');
    this.roomFor(files.reduce((n, f) => n + f.data.length, 0) + indexes.reduce((n, f) => n + f.data.length, 0) + manifest.length);
    if (files.length > 0) this.device.writeFiles(files);
    if (indexes.length > 0) this.device.writeFiles(indexes);
    this.device.writeFiles([{ name: this.path(MANIFEST_FILE), data: manifest }]);
    for (const bucket of emptied) this.device.removeFile(this.path(indexFileName(bucket)));
    this.stale = false;
  }

  private sign(): Manifest {
    const index: Record<string, string> = {};
    for (const bucket of [...this.digests.keys()].sort()) index[bucket] = this.digests.get(bucket) as string;
    let files = 0;
    for (const m of this.buckets.values()) for (const b of m.values()) files += b.files.length;
    const body: ManifestBody = {
      format: EXPORT_FORMAT,
      station: { id: this.id.stationId, number: this.id.stationNumber, publicKey: this.id.publicKey },
      election: this.id.election,
      mode: this.id.mode,
      ballots: this.ballots,
      files,
      index,
      report: sha256Hex(this.report),
    };
    return { ...body, signature: toHex(this.signer.sign(manifestDigest(body))) };
  }
}
