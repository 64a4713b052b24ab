import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { replaceFileAtomically } from '../../../lib/durable-fs';
import type { AnchorProfile } from '../../chain/chains-config';
import { Outbox } from '../../chain/outbox';
import { RpcClient } from '../../chain/rpc';
import type { StationWallet } from '../../chain/station-wallet';
import { buildCountyOts, countyProofInputs, type CountyAnchorFile, type CountyProofManifest } from '../../formats/county-anchor';
import { leafFile } from '../../formats/ots-ballot';
import { parseCheckpoint as parseStationCheckpoint } from '../../ledger/checkpoint';
import type { LedgerMode } from '../../ledger/record';
import { verifyInclusion } from '../../ledger/merkle';
import { leafHash } from '../../ledger/merkle';
import { TileStore } from '../log/tile-store';
import { parseCheckpoint } from '../tlog/checkpoint';
import { openNote, type Verifier } from '../tlog/note';
import { formatTlogProof } from '../tlog/proof';
import { proveRecord, TlogError } from '../tlog/stored-hashes';
import { TILE_WIDTH } from '../tlog/tile';
import { anchorRound, countyAnchorLayout, publishedRounds } from './county-anchor';

/**
 * `county proof`: one station checkpoint's proof, from its entry in the county log to a Bitcoin block
 * header, as files an auditor checks with no trust in the county:
 *
 *   <station>-batch-<B>.entry              the log entry: the station's checkpoint and its BIP-340 signature
 *   <station>-batch-<B>.tlog-proof         C2SP tlog-proof: index, inclusion proof, the cosigned checkpoint
 *   <station>-batch-<B>.leaf               0x00 || entry (RFC 6962 leaf input): the file the .ots timestamps
 *   <station>-batch-<B>.leaf.ots           OpenTimestamps: leaf → county root → anchor txid → block header
 *   round-<N>.json                         where the round's anchor landed (formats/county-anchor.ts)
 *   <station>-batch-<B>.county-proof.json  which files these are
 *
 * The round is the earliest confirmed one whose tree holds the entry (the earliest time the chain proves).
 * Before anything is written the publisher tracks the anchors (a reorg withdraws a round's file) and the
 * node is asked whether the round's anchor is still in its block on the active chain: a proof is never
 * written for an anchor a reorg took out.
 */

export class CountyProofError extends Error {
  override readonly name = 'CountyProofError';
}

export type ProofTarget = { readonly index: number } | { readonly station: string; readonly batch: number };

export interface CountyProofRequest {
  readonly logDir: string;
  readonly logKey: Verifier;
  readonly mode: LedgerMode;
  readonly chain: AnchorProfile;
  readonly wallet: StationWallet;
  readonly target: ProofTarget;
  readonly outDir: string;
}

export interface WrittenProof {
  readonly manifest: CountyProofManifest;
  readonly files: readonly string[];
}

function treeOf(note: string, key: Verifier): { size: number; root: Uint8Array } {
  const opened = openNote(note, [key]);
  const cp = opened instanceof TlogError ? opened : parseCheckpoint(opened.text);
  if (cp instanceof TlogError) throw new CountyProofError(`a round's checkpoint is not the log's: ${cp.message}`);
  return { size: cp.size, root: cp.root };
}

function entryAt(store: TileStore, size: number, index: number): Uint8Array {
  return store.readEntries(size, Math.floor(index / TILE_WIDTH))[index % TILE_WIDTH] as Uint8Array;
}

/** The station checkpoint an entry holds (its signature was checked when the log took it). */
function stationOf(entry: Uint8Array): { station: string; batch: number } | undefined {
  const text = Buffer.from(entry).toString('utf8');
  const at = text.lastIndexOf('signature ');
  if (at < 0) return undefined;
  try {
    const cp = parseStationCheckpoint(text.slice(0, at));
    return { station: cp.station, batch: cp.batch };
  } catch {
    return undefined;
  }
}

function findEntry(store: TileStore, size: number, target: ProofTarget): { index: number; entry: Uint8Array; station: string; batch: number } {
  if ('index' in target) {
    if (target.index >= size) throw new CountyProofError(`entry ${target.index} is not in any confirmed anchor's tree yet (the latest holds ${size} entries)`);
    const entry = entryAt(store, size, target.index);
    const who = stationOf(entry);
    if (who === undefined) throw new CountyProofError(`entry ${target.index} is not a station checkpoint`);
    return { index: target.index, entry, ...who };
  }
  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const entries = store.readEntries(size, n);
    for (let k = 0; k < entries.length; k++) {
      const who = stationOf(entries[k] as Uint8Array);
      if (who?.station === target.station && who.batch === target.batch) return { index: n * TILE_WIDTH + k, entry: entries[k] as Uint8Array, ...who };
    }
  }
  throw new CountyProofError(`no checkpoint of station ${target.station} batch ${target.batch} in the log's ${size} anchored entries (not reported yet, or in no confirmed anchor's tree yet)`);
}

/** Whether the round's anchor is still in the block its file names, on the node's active chain. */
async function stillAnchored(client: RpcClient, anchor: CountyAnchorFile): Promise<string | undefined> {
  const raw = await client.getRawTransaction(anchor.anchor.tx.txid);
  if (raw === undefined) return `the anchor ${anchor.anchor.tx.txid} is not known to ${client.name}`;
  if (raw.blockhash !== anchor.anchor.tx.blockHash) return `the anchor ${anchor.anchor.tx.txid} is ${raw.blockhash === undefined ? 'back in the mempool' : `in block ${raw.blockhash}`}, not in block ${anchor.anchor.tx.blockHash}`;
  const header = await client.call('getblockheader', [raw.blockhash, true], z.object({ confirmations: z.number().int() }));
  if (header.confirmations < 1) return `block ${raw.blockhash} holding the anchor is no longer on ${client.name}'s active chain`;
  return undefined;
}

export async function writeCountyProof(req: CountyProofRequest): Promise<WrittenProof> {
  if (req.chain.rpc === undefined) throw new CountyProofError('a county proof is written only after asking the anchor node: the anchor profile has no rpc');
  const layout = countyAnchorLayout(req.logDir);
  if (!fs.existsSync(layout.outbox)) throw new CountyProofError(`${layout.outbox}: this log has never been anchored`);
  // a pass of the publisher first: a reorg since the last round withdraws the round's file before it is used
  const pass = (await anchorRound({ logDir: req.logDir, logKey: req.logKey, mode: req.mode, chain: req.chain, wallet: req.wallet, published: () => undefined }, { sign: false })).publish;
  const unreachable = pass.errors.find((e) => e.kind.startsWith('rpc-'));
  if (unreachable !== undefined) throw new CountyProofError(`the anchor node did not answer, so no proof is written: ${unreachable.message}`);
  const outbox = Outbox.open(layout.outbox, req.mode);
  let rounds: ReturnType<typeof publishedRounds>;
  try {
    rounds = publishedRounds(req.logDir, outbox);
  } finally {
    outbox.close();
  }
  if (rounds.length === 0) throw new CountyProofError('no round of this log has a confirmed anchor yet (or a reorg took it out): run `county anchor` and wait for its confirmations');
  const store = new TileStore(req.logDir);
  const trees = rounds.map((r) => ({ ...r, tree: treeOf(r.anchor.checkpoint, req.logKey) }));
  const largest = Math.max(...trees.map((t) => t.tree.size));
  const found = findEntry(store, largest, req.target);
  const chosen = trees.find((t) => t.tree.size > found.index);
  if (chosen === undefined) throw new CountyProofError(`entry ${found.index} is in no confirmed round's tree yet`);
  const client = new RpcClient({ name: `anchor:${req.chain.name}`, ...req.chain.rpc });
  const gone = await stillAnchored(client, chosen.anchor);
  if (gone !== undefined) throw new CountyProofError(`round ${chosen.round}: ${gone}; no proof is written for it (run again once it is confirmed again)`);

  const proof = proveRecord(chosen.tree.size, found.index, store.hashReader(chosen.tree.size));
  verifyInclusion(found.index, chosen.tree.size, leafHash(found.entry), proof, chosen.tree.root);
  const ots = buildCountyOts(countyProofInputs(chosen.anchor, chosen.tree, found.entry, found.index, proof));

  const base = `${found.station}-batch-${found.batch}`;
  const names = { entry: `${base}.entry`, leaf: `${base}.leaf`, ots: `${base}.leaf.ots`, tlogProof: `${base}.tlog-proof`, anchor: `round-${chosen.round}.json` };
  const manifest: CountyProofManifest = { format: 'tallyproof-county-proof/1', station: found.station, batch: found.batch, index: found.index, round: chosen.round, origin: req.logKey.name, files: names };
  fs.mkdirSync(req.outDir, { recursive: true });
  const write = (name: string, data: Uint8Array | string): string => {
    const file = path.join(req.outDir, name);
    // a proof written again (a later round, after a reorg) replaces the old files whole
    replaceFileAtomically(file, data, { mode: 0o644 });
    return file;
  };
  const files = [
    write(names.entry, found.entry),
    write(names.leaf, leafFile(found.entry)),
    write(names.ots, ots),
    write(names.tlogProof, formatTlogProof({ index: found.index, proof, note: chosen.anchor.checkpoint })),
    write(names.anchor, fs.readFileSync(chosen.file)),
    write(`${base}.county-proof.json`, `${JSON.stringify(manifest, null, 1)}\n`),
  ];
  return { manifest, files };
}
