import fs from 'node:fs';
import path from 'node:path';
import type { VerifyOptions } from '../ledger/verify';
import { cvrBallotOf, cvrContextOf } from './cvr';
import { electionModelFor } from './election-model';
import { ballotFiles, exportReportHead, keptImageFiles } from './export-ballot';
import type { IndexFile, Manifest } from './export-format';
import { CVR_DIR, FIXED_MTIME, INDEX_DIR, IndexFileSchema, MANIFEST_FILE, ManifestSchema, REPORT_FILE, bucketOf, cvrFileName, exportFolderName, manifestSignatureValid, parseJsonFile, sha256Hex } from './export-format';
import { readLedgerForCounty } from './ledger-read';

/**
 * `tallyproof export verify`: a continuous export checked on its own (the manifest's signature, every index
 * file's digest, every listed file's SHA-256, nothing added, nothing missing, the counts) and, given the
 * station's ledger, against it: the same ballots, every cast ballot there, none more, and each CVR file the
 * very bytes the ledger gives. Every problem names the file.
 */
export interface ExportProblem {
  /** the file, relative to the folder ('manifest.json', 'cvr/<leaf>.json', 'index/3f.json'…) */
  readonly file: string;
  readonly problem: string;
}

export interface FolderReport {
  readonly folder: string;
  readonly station: string | null;
  readonly mode: string | null;
  readonly ballots: number;
  readonly files: number;
  /** whether the folder was also held to the ledger */
  readonly ledgerChecked: boolean;
  /** the station key the manifest names and is signed with */
  readonly signedBy: string | null;
  /**
   * whether that key was held to something outside the export (the ledger, or keys the caller trusts): without
   * it, a valid signature only shows the files are as whoever signed them left them
   */
  readonly keyChecked: boolean;
  readonly problems: readonly ExportProblem[];
  /**
   * what does not break the export's integrity but may leak what the station keeps hidden: a ballot file whose
   * modification time is not the fixed one (the station writes every file with it, so the device's file
   * times do not tell the order ballots were cast; a copy made without keeping times loses that)
   */
  readonly privacy: readonly ExportProblem[];
}

export interface ExportVerifyReport {
  readonly ok: boolean;
  readonly folders: readonly FolderReport[];
}

export interface LedgerToMatch {
  /** the ledger file of each mode (`<data>/ledger/<mode>.sqlite`) */
  ledgerFile(mode: 'official' | 'test'): string;
  verify(mode: 'official' | 'test'): VerifyOptions;
  /** the election definition the station was configured with */
  readonly electionFile: string;
  /** the station's image store (`<data>/images`): each exported image must be its encrypted file, byte for byte */
  readonly imagesDir: string;
}

const FOLDER = /^tallyproof-[A-Za-z0-9._-]{1,64}-(official|test)$/;

/** `dir` is the device (holding tallyproof-<station>-<mode> folders) or one such folder. */
export function exportFolders(dir: string): string[] {
  if (FOLDER.test(path.basename(dir)) && fs.existsSync(path.join(dir, MANIFEST_FILE))) return [dir];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new Error(`cannot read ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return names.filter((n) => FOLDER.test(n)).map((n) => path.join(dir, n));
}

function readIf(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Station keys (64 hex digits, x-only) the caller trusts, e.g. from the election office's station registry. */
export type TrustedStationKeys = ReadonlySet<string>;

export function verifyExportFolder(folder: string, ledger?: LedgerToMatch, trusted?: TrustedStationKeys): FolderReport {
  const problems: ExportProblem[] = [];
  const privacy: ExportProblem[] = [];
  const say = (file: string, problem: string): void => void problems.push({ file, problem });
  const at = (name: string): string => path.join(folder, ...name.split('/'));
  const report = (m: Manifest | undefined, ballots: number, files: number, ledgerChecked: boolean): FolderReport => ({
    folder,
    station: m?.station.id ?? null,
    mode: m?.mode ?? null,
    ballots,
    files,
    ledgerChecked,
    signedBy: m?.station.publicKey ?? null,
    keyChecked: m !== undefined && (ledgerChecked || trusted !== undefined),
    problems,
    privacy,
  });
  const text = readIf(at(MANIFEST_FILE));
  if (text === undefined) {
    say(MANIFEST_FILE, 'missing: nothing in this folder can be checked');
    return report(undefined, 0, 0, false);
  }
  const parsed = parseJsonFile(ManifestSchema, text.toString('utf8'), MANIFEST_FILE);
  if (!parsed.ok) {
    say(MANIFEST_FILE, `not a manifest: ${parsed.message}`);
    return report(undefined, 0, 0, false);
  }
  const m = parsed.value;
  if (!manifestSignatureValid(m)) say(MANIFEST_FILE, `the signature does not verify with the station key it names (${m.station.publicKey}): changed after the station signed it`);
  if (trusted !== undefined && !trusted.has(m.station.publicKey.toLowerCase())) say(MANIFEST_FILE, `signed by a station key that is not one of the keys given (${m.station.publicKey}): not this station's export, or re-signed by someone else`);
  if (path.basename(folder) !== exportFolderName(m.station.id, m.mode)) say(MANIFEST_FILE, `names station ${m.station.id} (${m.mode}) but lies in folder ${path.basename(folder)}`);
  const rep = readIf(at(REPORT_FILE));
  if (rep === undefined) say(REPORT_FILE, 'removed: the manifest lists it');
  else if (sha256Hex(rep) !== m.report) say(REPORT_FILE, 'changed: its SHA-256 is not the one the manifest signed');

  // index files: each the one the manifest signed
  const listed = new Map<string, { sha256: string; leaf: string }>();
  let ballots = 0;
  const indexOnDisk = new Set(list(at(INDEX_DIR)));
  for (const [bucket, digest] of Object.entries(m.index).sort()) {
    const name = `${INDEX_DIR}/${bucket}.json`;
    indexOnDisk.delete(`${bucket}.json`);
    const bytes = readIf(at(name));
    if (bytes === undefined) {
      say(name, 'removed: the manifest lists it');
      continue;
    }
    if (sha256Hex(bytes) !== digest) say(name, 'changed: not the index file manifest.json signed (the file was changed, or manifest.json was replaced by another, e.g. an older one)');
    const idx = parseJsonFile(IndexFileSchema, bytes.toString('utf8'), name);
    if (!idx.ok) {
      say(name, `not an index file: ${idx.message}`);
      continue;
    }
    addIndex(idx.value, name, listed, say);
    ballots += idx.value.ballots.length;
  }
  for (const n of [...indexOnDisk].sort()) say(`${INDEX_DIR}/${n}`, 'added: manifest.json does not list this index file');
  const fileCount = listed.size;
  if (m.ballots !== ballots) say(MANIFEST_FILE, `counts ${m.ballots} ballot(s), its index files list ${ballots}`);
  if (m.files !== fileCount) say(MANIFEST_FILE, `counts ${m.files} file(s), its index files list ${fileCount}`);

  // every listed file there with its SHA-256; nothing else in the folder
  let timed = 0;
  let firstTimed: string | undefined;
  for (const [name, want] of [...listed].sort()) {
    const bytes = readIf(at(name));
    if (bytes === undefined) say(name, `removed: listed for ballot ${want.leaf}`);
    else {
      if (sha256Hex(bytes) !== want.sha256) say(name, `changed: its SHA-256 is ${sha256Hex(bytes)}, the index lists ${want.sha256}`);
      // a FAT device keeps local time, so a reader in another time zone sees the fixed time shifted by hours
      if (Math.abs(fs.statSync(at(name)).mtimeMs - FIXED_MTIME.getTime()) > 15 * 3600_000) {
        timed++;
        firstTimed ??= name;
      }
    }
  }
  if (firstTimed !== undefined) {
    const when = fs.statSync(at(firstTimed)).mtime.toISOString();
    privacy.push({ file: firstTimed, problem: `${timed} ballot file(s) have a modification time far from the fixed ${FIXED_MTIME.toISOString()} (this one: ${when}): the device's file times may tell the order ballots were cast (copied without keeping times, or written by something other than the station)` });
  }
  for (const dir of [CVR_DIR, 'images']) {
    for (const n of list(at(dir)).sort()) if (!listed.has(`${dir}/${n}`)) say(`${dir}/${n}`, 'added: no index file lists it');
  }
  for (const n of list(folder).sort()) {
    if (![MANIFEST_FILE, REPORT_FILE, INDEX_DIR, CVR_DIR, 'images'].includes(n)) say(n, 'added: not a file of the export');
  }
  if (ledger === undefined) return report(m, ballots, fileCount, false);
  matchLedger(m, folder, listed, ledger, say);
  return report(m, ballots, fileCount, true);
}

function addIndex(idx: IndexFile, name: string, listed: Map<string, { sha256: string; leaf: string }>, say: (file: string, problem: string) => void): void {
  const bucket = path.basename(name, '.json');
  if (idx.bucket !== bucket) say(name, `holds bucket ${idx.bucket}`);
  for (const b of idx.ballots) {
    if (bucketOf(b.leaf) !== bucket) say(name, `lists ballot ${b.leaf}, which belongs in bucket ${bucketOf(b.leaf)}`);
    if (!b.files.some((f) => f.name === cvrFileName(b.leaf))) say(name, `ballot ${b.leaf} has no ${cvrFileName(b.leaf)}`);
    for (const f of b.files) {
      if (!f.name.includes(b.leaf)) say(name, `ballot ${b.leaf} lists ${f.name}, a file named for another ballot`);
      if (listed.has(f.name)) say(name, `lists ${f.name} twice`);
      listed.set(f.name, { sha256: f.sha256, leaf: b.leaf });
    }
  }
}

function matchLedger(m: Manifest, folder: string, listed: ReadonlyMap<string, { sha256: string; leaf: string }>, to: LedgerToMatch, say: (file: string, problem: string) => void): void {
  const file = to.ledgerFile(m.mode);
  if (!fs.existsSync(file)) {
    say(MANIFEST_FILE, `the export is of the ${m.mode} ledger, and there is no ${file} to match it with`);
    return;
  }
  const l = readLedgerForCounty(file, to.verify(m.mode));
  const g = l.genesis;
  if (g.station.publicKey !== m.station.publicKey || g.station.id !== m.station.id) say(MANIFEST_FILE, `signed by station ${m.station.id} (${m.station.publicKey.slice(0, 16)}…), the ledger is station ${g.station.id}'s (${g.station.publicKey.slice(0, 16)}…)`);
  if (g.election.hash !== m.election) say(MANIFEST_FILE, `names election ${m.election.slice(0, 16)}…, the ledger is for ${g.election.hash.slice(0, 16)}…`);
  const model = electionModelFor(to.electionFile, g);
  const ctx = cvrContextOf(model, l);
  const wantReport = exportReportHead(model, g);
  const rep = readIf(path.join(folder, REPORT_FILE));
  if (rep !== undefined && !rep.equals(wantReport)) say(REPORT_FILE, 'differs from the report the ledger and election give');
  const exported = new Set([...listed.values()].map((v) => v.leaf));
  const filesOf = new Map<string, string[]>();
  for (const [name, v] of listed) filesOf.set(v.leaf, [...(filesOf.get(v.leaf) ?? []), name]);
  const present = new Set<string>();
  let missing = 0;
  for (const b of l.ballots) {
    const leaf = b.leaf.toString('hex');
    // its sheet detail decoded once, for the images and the CVR, and let go with the ballot
    const ballot = cvrBallotOf(b);
    const images = keptImageFiles(leaf, ballot.detail, to.imagesDir);
    const built = ballotFiles(ctx, ballot, images.files);
    present.add(leaf);
    if (!exported.has(leaf)) {
      missing += 1;
      say(cvrFileName(leaf), `missing: ballot ${leaf} is cast in the ledger and not in the export`);
      continue;
    }
    for (const id of images.missing) say(`images/${leaf}`, `cannot be compared: the ledger says image ${id} was kept, and ${path.join(to.imagesDir, id)} is not there`);
    const builtNames = new Set(built.files.map((f) => f.name));
    for (const f of built.files) {
      if (!listed.has(f.name)) {
        say(f.name, `missing: the ledger says ballot ${leaf} has this ${f.name.startsWith('images/') ? 'kept image' : 'CVR'}, the export does not list it`);
        continue;
      }
      const bytes = readIf(path.join(folder, ...f.name.split('/')));
      if (bytes !== undefined && !bytes.equals(Buffer.from(f.data))) say(f.name, f.name.startsWith('images/') ? "differs from the station's encrypted image of this side" : 'differs from the CVR the ledger gives for this ballot');
    }
    for (const name of filesOf.get(leaf) ?? []) if (!builtNames.has(name) && images.missing.length === 0) say(name, `not a file the ledger gives for ballot ${leaf}`);
  }
  for (const leaf of [...exported].sort()) if (!present.has(leaf)) say(cvrFileName(leaf), 'not a ballot the ledger cast');
  if (m.ballots !== l.ballots.length) say(MANIFEST_FILE, `covers ${m.ballots} ballot(s), the ledger cast ${l.ballots.length}${m.ballots < l.ballots.length && missing > 0 ? ': an older manifest, or an export that stopped (the device was missing or full)' : ''}`);
}

export function verifyExport(dir: string, ledger?: LedgerToMatch, trusted?: TrustedStationKeys): ExportVerifyReport {
  const folders = exportFolders(dir);
  if (folders.length === 0) throw new Error(`${dir} holds no continuous export (no tallyproof-<station>-<mode>/manifest.json)`);
  const reports = folders.map((f) => verifyExportFolder(f, ledger, trusted));
  return { ok: reports.every((r) => r.problems.length === 0), folders: reports };
}
