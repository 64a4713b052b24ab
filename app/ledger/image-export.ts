import fs from 'node:fs';
import path from 'node:path';
import { toHex } from '../../lib/bytes';
import { writeFileSynced, fsyncDir } from '../../lib/durable-fs';
import { readCastSheetDetails } from './cast-sheet-details';
import { LedgerError } from './errors';
import type { ImageStore, ImageStoreError } from './image-store';
import type { VerifyOptions } from './verify';
import { verifyLedgerFile } from './verify';

export interface ExportedImage {
  readonly ballotId: string;
  /** the record's leaf hash, hex: the CVR's UniqueId */
  readonly leafHash: string;
  /** 1-based, in scan order */
  readonly side: number;
  readonly imageId: string;
  readonly sha256: string;
  /** file name inside the output directory */
  readonly file: string;
}

export interface ImageExportReport {
  readonly exported: readonly ExportedImage[];
  /** sides the retention setting kept as a hash only */
  readonly notKept: readonly { readonly ballotId: string; readonly side: number; readonly imageId: string }[];
  /** ballots recorded before the sheet detail existed: no per-side image ID */
  readonly noDetail: readonly string[];
  /** kept sides that could not be read back: missing, altered, another image, not the ledger's SHA-256 */
  readonly failed: readonly { readonly ballotId: string; readonly side: number; readonly imageId: string; readonly kind: ImageStoreError['kind']; readonly message: string }[];
}

/** The file extension the scanned bytes' own signature says (the scanner's format is kept as it was sent). */
export function imageExtension(b: Uint8Array): string {
  const at = (i: number) => b[i] ?? -1;
  if (at(0) === 0x89 && at(1) === 0x50 && at(2) === 0x4e && at(3) === 0x47) return 'png';
  if (at(0) === 0xff && at(1) === 0xd8) return 'jpg';
  if ((at(0) === 0x49 && at(1) === 0x49 && at(2) === 0x2a) || (at(0) === 0x4d && at(1) === 0x4d && at(3) === 0x2a)) return 'tif';
  if (at(0) === 0x50 && at(1) >= 0x31 && at(1) <= 0x36) return 'pnm';
  return 'bin';
}

/**
 * For an auditor holding the station key: verifies the ledger, then decrypts each cast ballot's kept sides
 * (or one ballot's) into `out` as the scanner sent them, each checked against the SHA-256 the ledger's sheet
 * detail holds, with `images.json` listing ballot, leaf hash, side, image ID, SHA-256 and file. `out` is created
 * (0700, files 0600: these are pictures of votes) and must not hold files already. A side that cannot be read
 * back is reported in `failed`, not written.
 */
export function exportCastImages(ledgerFile: string, store: ImageStore, out: string, opts: { readonly verify?: VerifyOptions; readonly ballot?: string } = {}): ImageExportReport {
  const report = verifyLedgerFile(ledgerFile, opts.verify ?? {});
  if (!report.ok || report.summary === undefined) {
    throw new LedgerError('corrupt', ledgerFile, `the ledger does not verify, so no image was exported: entry ${report.problem?.seq}: ${report.problem?.message}`);
  }
  const wanted = opts.ballot?.trim().toUpperCase();
  const ballots = readCastSheetDetails(ledgerFile, { upToSeq: report.summary.head.seq }).filter((b) => wanted === undefined || b.ballotId === wanted);
  if (wanted !== undefined && ballots.length === 0) throw new LedgerError('not-found', ledgerFile, `ballot ${wanted} is not a cast ballot of this ledger`);
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0) throw new LedgerError('exists', out, 'the output directory already holds files: give a new or empty one');
  fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  const exported: ExportedImage[] = [];
  const notKept: { ballotId: string; side: number; imageId: string }[] = [];
  const noDetail: string[] = [];
  const failed: { ballotId: string; side: number; imageId: string; kind: ImageStoreError['kind']; message: string }[] = [];
  for (const b of ballots) {
    if (b.detail === undefined) {
      noDetail.push(b.ballotId);
      continue;
    }
    for (const [i, s] of b.detail.sides.entries()) {
      const side = i + 1;
      if (!s.kept) {
        notKept.push({ ballotId: b.ballotId, side, imageId: s.imageId });
        continue;
      }
      const img = store.get(s.imageId, s.sha256);
      if (!img.ok) {
        failed.push({ ballotId: b.ballotId, side, imageId: s.imageId, kind: img.error.kind, message: img.error.message });
        continue;
      }
      const file = `${b.ballotId}-side${side}.${imageExtension(img.value.bytes)}`;
      writeFileSynced(path.join(out, file), img.value.bytes, { exclusive: true, mode: 0o600 });
      exported.push({ ballotId: b.ballotId, leafHash: b.leafHash, side, imageId: s.imageId, sha256: toHex(s.sha256), file });
    }
  }
  writeFileSynced(path.join(out, 'images.json'), `${JSON.stringify({ ledgerHead: { seq: report.summary.head.seq, hash: toHex(report.summary.head.hash) }, images: exported, notKept, noDetail, failed }, null, 2)}\n`, { exclusive: true, mode: 0o600 });
  fsyncDir(out);
  return { exported, notKept, noDetail, failed };
}
