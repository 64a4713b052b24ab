import fs from 'node:fs';
import path from 'node:path';
import type { Genesis } from '../ledger/entries';
import type { SheetDetail } from '../ledger/sheet-detail';
import { TallyCollector } from '../ledger/tally';
import { toHex } from '../../lib/bytes';
import type { CvrBallot, CvrContext, Json } from './cvr';
import { cvrOne, cvrReportHead } from './cvr';
import type { ElectionModel } from './election-model';
import type { FileToWrite } from './export-device';
import type { BallotFiles } from './export-folder';
import { cvrFileName } from './export-format';
import type { CountyLedger } from './ledger-read';

/**
 * What the continuous export writes for one ballot, and the report its CVR files belong to. Both are pure
 * functions of the ledger's record and the election, so `export verify` rebuilds them from the ledger and
 * compares bytes.
 */

/**
 * `cvr/<leaf>.json`: the ballot's NIST SP 1500-103 `CVR` object (cvr.ts cvrOne), one line of JSON; then its
 * kept images (keptImageFiles), as the station's image store holds them: encrypted.
 */
export function ballotFiles(ctx: CvrContext, b: CvrBallot, images: readonly FileToWrite[] = []): BallotFiles {
  const leaf = toHex(b.leaf);
  return { leaf, files: [{ name: cvrFileName(leaf), data: Buffer.from(`${JSON.stringify(cvrOne(ctx, b))}\n`, 'utf8') }, ...images] };
}

/**
 * `images/<leaf>-<side>-<image ID>.enc`: side 1 is the first the scanner saw; the image ID is the store's random
 * one, so a ballot scanned again (a test ledger started over casts the same records) gets new names, and the
 * catch-up sees from the names alone that the device's copy is not this scan's.
 */
export function imageFileName(leafHex: string, side: number, imageId: string): string {
  return `images/${leafHex}-${side}-${imageId}.enc`;
}

/** The names of a ballot's files, from its sheet detail: no file is read. */
export function expectedFileNames(leafHex: string, detail: SheetDetail | undefined): string[] {
  return [cvrFileName(leafHex), ...(detail?.sides ?? []).flatMap((s, i) => (s.kept ? [imageFileName(leafHex, i + 1, s.imageId)] : []))].sort();
}

/**
 * The sheet's kept sides, each the image store's encrypted file copied byte for byte (AES-256-GCM under a key
 * derived from the station key: app/ledger/image-store.ts): the export device carries no readable scan.
 * `missing` names the sides the sheet detail says were kept and the store does not have.
 */
export function keptImageFiles(leafHex: string, detail: SheetDetail | undefined, imagesDir: string): { files: FileToWrite[]; missing: string[] } {
  const files: FileToWrite[] = [];
  const missing: string[] = [];
  for (const [i, side] of (detail?.sides ?? []).entries()) {
    if (!side.kept) continue;
    try {
      files.push({ name: imageFileName(leafHex, i + 1, side.imageId), data: fs.readFileSync(path.join(imagesDir, side.imageId)) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(side.imageId);
    }
  }
  return { files, missing };
}

/**
 * The CastVoteRecordReport of the folder without its CVRs (cvr.ts cvrReportHead): election, places, parties
 * and the station. Its date is the election's date and it names no ledger head: it is written once, and no
 * time of the day may be read from it.
 */
export function exportReportHead(model: ElectionModel, genesis: Genesis): Uint8Array {
  const asOf = `${model.definition.election.date}T00:00:00Z`;
  const headless: CountyLedger = {
    file: '',
    genesis,
    tally: new TallyCollector(genesis).result(0),
    events: [],
    ballots: [],
    sealed: false,
    closedBatches: 0,
    head: { seq: 0, hash: '' },
    asOf,
  };
  const head = cvrReportHead(model, headless);
  const g = genesis;
  const device = (head['ReportingDevice'] as { [k: string]: Json }[])[0] ?? {};
  const report: { [k: string]: Json } = {
    ...head,
    ReportType: ['originating-device-export'],
    ReportingDevice: [
      {
        ...device,
        Notes: [`station number ${g.station.number}`, `station public key (BIP 340) ${g.station.publicKey}`, `election hash ${g.election.hash}`, `${g.mode} ledger, continuous export: one CVR file per cast ballot in cvr/, listed by index/ and manifest.json`],
      },
    ],
    CVR: [],
  };
  return Buffer.from(`${JSON.stringify(report)}\n`, 'utf8');
}
