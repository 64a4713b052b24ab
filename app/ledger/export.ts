import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { toHex } from '../../lib/bytes';
import { canonicalJson } from './canonical-json';
import { fsyncDir, siblingPath, writeTreeSynced } from '../../lib/durable-fs';
import { LedgerError } from './errors';
import { MerkleTree } from './merkle';
import type { ClosedBatchView } from './replay';
import type { Tally } from './tally';
import { TallyCollector } from './tally';
import type { VerifyOptions } from './verify';
import { verifyLedgerFile } from './verify';
import { parseElectionText } from '../../ballots/election';
import { BUNDLE_FORMAT } from './bundle-format';

/**
 * The auditor's bundle: everything needed to check the published records without trusting the station,
 * and nothing that tells casting order or a time finer than the batch. Records appear per batch in leaf
 * (hash) order; entries, sequence numbers and event times stay home.
 */
export interface ExportOptions extends VerifyOptions {
  /** the election definition file; its election hash (the one in every ballot's voting ID) must be the ledger's */
  readonly electionDefinition?: string;
}

export interface ExportResult {
  readonly dir: string;
  readonly files: readonly { path: string; bytes: number; sha256: string }[];
  readonly tally: Tally;
  readonly batches: number;
  readonly records: number;
}

export { BUNDLE_FORMAT };

export function exportBundle(ledgerFile: string, outDir: string, opts: ExportOptions = {}): ExportResult {
  const out = path.resolve(outDir);
  if (fs.existsSync(out)) throw new LedgerError('exists', out, 'the export directory already exists; choose another --out or remove it');
  let definition: Buffer | undefined;
  let definitionHash: string | undefined;
  if (opts.electionDefinition !== undefined) {
    try {
      definition = fs.readFileSync(opts.electionDefinition);
    } catch (e) {
      throw new LedgerError('not-found', opts.electionDefinition, `cannot read the election definition: ${(e as Error).message}`);
    }
    const parsed = parseElectionText(definition.toString('utf8'), opts.electionDefinition);
    if (!parsed.ok) {
      const first = parsed.error[0];
      throw new LedgerError('wrong-ledger', opts.electionDefinition, `not a valid election definition${first ? ` (${first.path}: ${first.message})` : ''}`);
    }
    definitionHash = parsed.value.hash;
  }
  const tally = new TallyCollector();
  const report = verifyLedgerFile(ledgerFile, opts, { ...tally.visitor, keepBatches: true });
  if (!report.ok || report.summary === undefined) {
    const p = report.problem;
    throw new LedgerError('corrupt', ledgerFile, `the ledger does not verify, so nothing was exported: entry ${p?.seq}: ${p?.message}`);
  }
  const s = report.summary;
  const g = s.genesis;
  if (definitionHash !== undefined && definitionHash !== g.election.hash) {
    throw new LedgerError('wrong-ledger', opts.electionDefinition as string, `this election definition has election hash ${definitionHash}, the ledger is for ${g.election.hash}`);
  }

  const files = new Map<string, Uint8Array>();
  const put = (rel: string, data: string | Uint8Array): void => {
    files.set(rel, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  };
  const json = (v: unknown): string => `${JSON.stringify(v, null, 1)}\n`;

  put('election.json', json({ hash: g.election.hash, title: g.election.title, contests: g.election.contests }));
  if (definition !== undefined) put('election-definition.json', definition);
  put('station-key.json', json({ stationId: g.station.id, stationNumber: g.station.number, algorithm: 'secp256k1-schnorr-bip340', publicKey: g.station.publicKey }));

  const allLeaves: Buffer[] = s.batches.flatMap((b) => [...b.leaves]);
  const checkpoints: unknown[] = [];
  const consistency: unknown[] = [];
  let prev: ClosedBatchView | undefined;
  let records = 0;
  for (const b of s.batches) {
    const c = b.checkpoint;
    const name = `batch-${String(c.batch).padStart(6, '0')}`;
    put(`checkpoints/${name}.txt`, b.body);
    checkpoints.push({ batch: c.batch, file: `checkpoints/${name}.txt`, signature: toHex(b.signature), treeSize: c.treeSize, root: toHex(c.root) });
    const tree = new MerkleTree(allLeaves.slice(0, c.treeSize));
    put(
      `batches/${name}.json`,
      json({
        batch: c.batch,
        batchStart: c.batchStart,
        treeSize: c.treeSize,
        root: toHex(c.root),
        records: b.records.map((r, i) => ({ leafIndex: c.batchStart + i, record: toHex(r), inclusionProof: tree.inclusionProof(c.batchStart + i).map(toHex) })),
      }),
    );
    records += b.records.length;
    if (prev !== undefined && prev.checkpoint.treeSize > 0) {
      consistency.push({
        fromBatch: prev.checkpoint.batch,
        toBatch: c.batch,
        size1: prev.checkpoint.treeSize,
        size2: c.treeSize,
        proof: prev.checkpoint.treeSize === c.treeSize ? [] : tree.consistencyProof(prev.checkpoint.treeSize).map(toHex),
      });
    }
    prev = b;
  }
  put('checkpoints.json', json(checkpoints));
  put('consistency.json', json(consistency));
  const result = tally.result(s.pending);
  put('tally.json', json(result));
  // ballots cast since the last closed batch are counted in the tally but are in no published batch yet
  put('status.json', json({ batches: s.batches.length, publishedRecords: records, castNotYetBatched: s.openBatchCast, pending: s.pending }));

  const listed = [...files.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([rel, data]) => ({ path: rel, bytes: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') }));
  const manifest = canonicalJson({ format: BUNDLE_FORMAT, mode: g.mode, election: g.election.hash, station: g.station.id, files: listed });
  files.set('manifest.json', Buffer.from(`${manifest}\n`, 'utf8'));

  writeAtomically(out, files);
  return { dir: out, files: listed, tally: result, batches: s.batches.length, records };
}

/** Writes every file into a temporary sibling, flushes it all, then renames it into place in one step. */
function writeAtomically(out: string, files: ReadonlyMap<string, Uint8Array>): void {
  const parent = path.dirname(out);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = siblingPath(out, 'tmp');
  try {
    writeTreeSynced(tmp, files);
    fs.renameSync(tmp, out);
    fsyncDir(parent);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new LedgerError('exists', out, 'the export directory appeared while exporting; nothing was replaced');
    if (code === 'ENOSPC') throw new LedgerError('disk-full', out, 'the disk filled while exporting; nothing was written');
    throw e;
  }
}
