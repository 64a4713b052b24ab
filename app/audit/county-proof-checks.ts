import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { checkpointSignatureValid } from '../ledger/checkpoint';
import { leafHash, verifyInclusion } from '../ledger/merkle';
import { parseCheckpoint } from '../county/tlog/checkpoint';
import { openNote, type Verifier } from '../county/tlog/note';
import { parseTlogProof } from '../county/tlog/proof';
import { TlogError } from '../county/tlog/stored-hashes';
import { CountyAnchorFileSchema, CountyProofManifestSchema, checkCountyOts, countyProofInputs, type CountyAnchorFile, type CountyProofInput, type CountyProofManifest } from '../formats/county-anchor';
import { checkHeaderChain, networkFor } from '../formats/headers';
import { leafFile } from '../formats/ots-ballot';
import { auditNode } from './audit-rpc';
import type { Findings, LoadedBatch } from './report';
import { errMsg } from './report';

/**
 * `audit verify --county-proof DIR --county-trust trust.json`: a station checkpoint of the bundle proved
 * through the county log to a block header (app/county/README.md, "County proofs"). Every link is checked
 * and a broken one is named: `entry` (the log's entry is this bundle's checkpoint, signed by the station
 * key), `checkpoint` (the county checkpoint is the log's), `quorum` (cosigned by enough of the trusted
 * witnesses), `inclusion` (the entry at its index under the checkpoint's root), `anchor` (the round's
 * transaction commits to this very note, root and size), `headers` (the carried headers link and meet their
 * nBits; the block holds the transaction), `ots` (the .ots is exactly this path to the header), and with
 * --rpc `node` (the block is on the node's best chain at its height, the transaction in it).
 */

export interface CountyTrust {
  readonly log: Verifier;
  readonly witnesses: readonly Verifier[];
  readonly quorum: number;
}

class Broken extends Error {
  constructor(
    readonly link: string,
    message: string,
  ) {
    super(message);
  }
}

function readManifests(dir: string): { file: string; manifest?: CountyProofManifest; problem?: string }[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.county-proof.json'));
  } catch (e) {
    return [{ file: dir, problem: `cannot read the county proof directory: ${errMsg(e)}` }];
  }
  return names.map((n) => {
    const file = path.join(dir, n);
    try {
      return { file, manifest: CountyProofManifestSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8'))) };
    } catch (e) {
      return { file, problem: `not a county proof manifest: ${errMsg(e)}` };
    }
  });
}

const read = (dir: string, name: string): Buffer => {
  if (path.basename(name) !== name) throw new Broken('files', `${name}: a proof's files sit beside its manifest`);
  try {
    return fs.readFileSync(path.join(dir, name));
  } catch (e) {
    throw new Broken('files', `cannot read ${name}: ${errMsg(e)}`);
  }
};

/** Every link but the node's; returns what the node check needs. */
function checkOffline(dir: string, m: CountyProofManifest, lb: LoadedBatch, stationKey: Uint8Array, trust: CountyTrust): { anchor: CountyAnchorFile; input: CountyProofInput; cosigners: string[] } {
  const entry = read(dir, m.files.entry);
  const parts = /^([\s\S]*\n)signature ([0-9a-f]{128})\n$/.exec(entry.toString('utf8'));
  if (parts === null) throw new Broken('entry', `${m.files.entry} is not a station checkpoint entry`);
  if (parts[1] !== lb.body) throw new Broken('entry', `the county log's entry ${m.index} is not this bundle's checkpoint of batch ${lb.checkpoint.batch} (a proof for another checkpoint)`);
  if (!checkpointSignatureValid(parts[1] as string, Buffer.from(parts[2] as string, 'hex'), stationKey)) throw new Broken('entry', "the entry's signature is not the station key's");

  const proof = parseTlogProof(read(dir, m.files.tlogProof).toString('utf8'));
  if (proof instanceof TlogError) throw new Broken('checkpoint', `${m.files.tlogProof}: ${proof.message}`);
  if (proof.index !== m.index) throw new Broken('inclusion', `the tlog-proof is for entry ${proof.index}, the manifest says ${m.index}`);
  const byLog = openNote(proof.note, [trust.log]);
  if (byLog instanceof TlogError) throw new Broken('checkpoint', `the county checkpoint is not signed by the trusted log key ${trust.log.name}: ${byLog.message}`);
  const cp = parseCheckpoint(byLog.text);
  if (cp instanceof TlogError) throw new Broken('checkpoint', cp.message);
  if (cp.origin !== trust.log.name) throw new Broken('checkpoint', `the checkpoint is of ${cp.origin}, not ${trust.log.name}`);
  const byWitnesses = trust.witnesses.length === 0 ? undefined : openNote(proof.note, trust.witnesses);
  const cosigners = byWitnesses === undefined || byWitnesses instanceof TlogError ? [] : [...new Set(byWitnesses.verified.map((s) => s.name))];
  if (cosigners.length < trust.quorum) throw new Broken('quorum', `the county checkpoint of size ${cp.size} is cosigned by ${cosigners.length} trusted witness(es) (${cosigners.join(', ') || 'none'}); the trust policy needs ${trust.quorum}`);
  if (m.index >= cp.size) throw new Broken('inclusion', `entry ${m.index} is beyond the checkpoint's ${cp.size} entries`);
  try {
    verifyInclusion(m.index, cp.size, leafHash(entry), proof.proof, cp.root);
  } catch (e) {
    throw new Broken('inclusion', `the entry is not at index ${m.index} under the county checkpoint's root: ${errMsg(e)}`);
  }

  let anchor: CountyAnchorFile;
  try {
    anchor = CountyAnchorFileSchema.parse(JSON.parse(read(dir, m.files.anchor).toString('utf8')));
  } catch (e) {
    if (e instanceof Broken) throw e;
    throw new Broken('anchor', `${m.files.anchor}: ${errMsg(e)}`);
  }
  if (anchor.checkpoint !== proof.note) throw new Broken('anchor', `round ${anchor.round} anchors another county checkpoint than the tlog-proof's`);
  let input: CountyProofInput;
  try {
    input = countyProofInputs(anchor, { size: cp.size, root: cp.root }, new Uint8Array(entry), m.index, proof.proof);
  } catch (e) {
    throw new Broken('anchor', errMsg(e));
  }

  const pub = anchor.anchor;
  try {
    const net = networkFor(pub.chain, pub.network, pub.genesisHash);
    const chain = checkHeaderChain([...pub.blocks, ...pub.headersAfter].map((x) => ({ height: x.height, header: Buffer.from(x.header, 'hex') })), net.pow);
    const blk = chain.headers.find((h) => h.height === input.height);
    if (blk === undefined || blk.hash !== pub.tx.blockHash) throw new Error(`no carried header of block ${pub.tx.blockHash} at height ${input.height}`);
    if (chain.tipHeight - input.height + 1 !== pub.confirmations) throw new Error(`the headers give ${chain.tipHeight - input.height + 1} confirmations, the file says ${pub.confirmations}`);
  } catch (e) {
    throw new Broken('headers', errMsg(e));
  }

  const leaf = read(dir, m.files.leaf);
  if (!leaf.equals(Buffer.from(leafFile(new Uint8Array(entry))))) throw new Broken('ots', `${m.files.leaf} is not 0x00 followed by the entry`);
  const ots = checkCountyOts(new Uint8Array(read(dir, m.files.ots)), input);
  if (!ots.ok) throw new Broken('ots', `${m.files.ots}: ${ots.problem}`);
  return { anchor, input, cosigners };
}

async function checkOnNodes(urls: readonly string[], anchor: CountyAnchorFile, height: number): Promise<string> {
  const answers: string[] = [];
  for (const u of urls) {
    try {
      const node = auditNode(u);
      if ((await node.call('getblockhash', [0], z.string())) !== anchor.anchor.genesisHash) continue;
      const tip = await node.call('getblockcount', [], z.number().int());
      if (tip < height) throw new Error(`its best chain ends at height ${tip}, below the anchor's block ${anchor.anchor.tx.blockHash} at ${height} (reorged away?)`);
      const atHeight = await node.call('getblockhash', [height], z.string());
      if (atHeight !== anchor.anchor.tx.blockHash) throw new Error(`its best chain has ${atHeight} at height ${height}, not the anchor's block ${anchor.anchor.tx.blockHash} (reorged away?)`);
      const info = await node.call('getblockheader', [atHeight, true], z.object({ confirmations: z.number() }));
      const raw = await node.call('getrawtransaction', [anchor.anchor.tx.txid, false, atHeight], z.string());
      if (raw !== anchor.anchor.tx.hex) throw new Error(`transaction ${anchor.anchor.tx.txid}: the node's bytes differ`);
      return `node ${node.url}: block ${atHeight} at height ${height} on its best chain, ${info.confirmations} confirmations`;
    } catch (e) {
      const msg = errMsg(e);
      answers.push(msg.startsWith('node ') ? msg : `node ${u.replace(/\/\/[^@/]*@/, '//')}: ${msg}`);
    }
  }
  throw new Broken('node', answers.length === 0 ? `no --rpc node has the anchor chain's genesis ${anchor.anchor.genesisHash}` : answers.join('; '));
}

/**
 * Checks every county proof in `dir` of the bundle's station (proofs of other stations may sit there too);
 * a batch whose proof checks out is marked (`countyProof`), which stands in for the station's own
 * publication of it. A ballot's batch without one is failed by `requireCountyProof`.
 */
export async function checkCountyProofs(dir: string, trust: CountyTrust, batches: readonly LoadedBatch[], stationKey: Uint8Array, rpc: readonly string[] | undefined, { pass, fail, notChecked }: Findings): Promise<void> {
  const station = batches[0]?.checkpoint.station;
  if (station === undefined) return;
  const found = readManifests(dir);
  for (const f of found) if (f.problem !== undefined) fail('county-proof', `${f.file}: ${f.problem}`);
  const mine = found.filter((f): f is { file: string; manifest: CountyProofManifest } => f.manifest !== undefined && f.manifest.station === station);
  if (mine.length === 0) fail('county-proof', `no county proof of station ${station} in ${dir}`);
  for (const { file, manifest: m } of mine) {
    const where = { batch: m.batch };
    const lb = batches.find((x) => x.checkpoint.batch === m.batch);
    if (lb === undefined) {
      fail('county-proof', `${path.basename(file)}: the bundle has no batch ${m.batch}`, where);
      continue;
    }
    try {
      const { anchor, input, cosigners } = checkOffline(dir, m, lb, stationKey, trust);
      const onNode = rpc !== undefined && rpc.length > 0 ? `; ${await checkOnNodes(rpc, anchor, input.height)}` : '';
      lb.countyProof = { round: anchor.round, txid: input.anchorTxid, height: input.height };
      if (onNode === '') notChecked.push({ what: 'chain', batch: m.batch, detail: `county anchor chain ${anchor.anchor.chain} (${anchor.anchor.network}) not checked: give --rpc <url>; offline the carried headers only link and meet their own nBits` });
      pass(
        'county-proof',
        `station ${m.station} batch ${m.batch}: entry ${m.index} of county log ${trust.log.name} (checkpoint size ${input.treeSize}, cosigned by ${cosigners.join(', ') || 'no witness'}), anchored in round ${anchor.round} by ${input.anchorTxid} in block ${anchor.anchor.tx.blockHash} at height ${input.height}; the .ots reaches its header${onNode}`,
        where,
      );
    } catch (e) {
      if (!(e instanceof Broken)) throw e;
      fail('county-proof', `station ${m.station} batch ${m.batch}: link ${e.link}: ${e.message}`, where);
    }
  }
}

/** A ballot's batch must have a county proof that checked out when the auditor gave --county-proof. */
export function requireCountyProof(dir: string, lb: LoadedBatch | undefined, batch: number, { fail }: Findings): string | undefined {
  if (lb?.countyProof !== undefined) return undefined;
  const detail = `no county proof of station ${String(lb?.checkpoint.station)} batch ${batch} in ${dir} checks out`;
  fail('county-proof', detail, { batch });
  return detail;
}
