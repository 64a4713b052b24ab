import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NETWORKS } from '../../ballots/identity/networks';
import { AnchorProfileSchema, type AnchorProfile } from '../../app/chain/chains-config';
import { walletFromSecret } from '../../app/chain/station-wallet';
import { anchorRound, countyAnchorLayout } from '../../app/county/anchor/county-anchor';
import { CountyProofError, writeCountyProof } from '../../app/county/anchor/county-proof';
import { verifyTlogProof } from '../../app/county/client/tlog-proof-verify';
import { CountyLog } from '../../app/county/log/county-log';
import { serveWitness, type WitnessServer } from '../../app/county/witness/witness-server';
import { WitnessDb } from '../../app/county/witness/witness-db';
import { ALG_COSIGNATURE_V1, ALG_ED25519, generateSigner, type Signer } from '../../app/county/tlog/note';
import { decodeCountyAnchor } from '../../app/formats/county-anchor';
import { opReturnPayloads, parseTx } from '../../app/formats/raw-tx';
import { leafHash } from '../../app/ledger/merkle';
import { fund } from '../chain/helpers';
import { startRegtestNode, type RegtestNode } from '../support/litecoind';
import { makeStations, registryOf, stationEntry } from './support';

/*
 * The county's anchor rounds against a real litecoind -regtest standing in for Bitcoin: the log on disk with
 * three witness servers, one anchor transaction per round through the station's publisher and outbox, and
 * each station checkpoint's proof (tlog-proof and .ots) read by python-opentimestamps to the block header.
 */

const ORIGIN = 'county.test/anchor';
const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(31));
const witnessKeys = [1, 2, 3].map((i) => generateSigner(`observer-${i}.test/w`, ALG_COSIGNATURE_V1, new Uint8Array(32).fill(40 + i)));
const trust = { log: logKey, witnesses: witnessKeys, quorum: 2 };
const stations = makeStations(3);
const wallet = walletFromSecret(new Uint8Array(32).fill(0x5a));
const PYTHON = '/usr/bin/python3';
const READER = path.join(__dirname, '..', 'audit', 'ots-reference.py');

let node: RegtestNode;
let work: string;
let chain: AnchorProfile;
let county: CountyLog;
const dbs: WitnessDb[] = [];
const witnesses: WitnessServer[] = [];

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'county-anchor-'));
  node = await startRegtestNode();
  await fund(node, wallet.address(NETWORKS['litecoin-regtest'], 'p2wpkh'), 6);
  chain = AnchorProfileSchema.parse({ name: 'ltc-anchor', network: 'litecoin-regtest', confirmations: 2, rpc: { url: node.rpcUrl, user: node.rpcUser, password: node.rpcPassword, retries: 1, backoffMs: 50 } });
  for (const [i, k] of witnessKeys.entries()) {
    const db = new WitnessDb(path.join(work, `w${i}`, 'witness.sqlite'));
    dbs.push(db);
    witnesses.push(await serveWitness({ signers: [k], logs: [{ origin: ORIGIN, keys: [logKey] }], now: () => BigInt(Math.floor(Date.now() / 1000)) }, db, { port: 0, host: '127.0.0.1' }));
  }
  county = new CountyLog({ dir: path.join(work, 'log'), origin: ORIGIN, signer: logKey, registry: registryOf(stations), witnesses: witnesses.map((w, i) => ({ url: w.url, key: witnessKeys[i] as Signer })), quorum: 2, intervalMs: 10 });
}, 120_000);

afterAll(async () => {
  await county?.stop();
  await Promise.all(witnesses.map((w) => w.close()));
  dbs.forEach((d) => d.close());
  await node?.destroy();
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

const opts = (county: CountyLog) => ({ logDir: county.log.dir, logKey, mode: 'official' as const, chain, wallet, published: () => county.log.published() });

/** The county anchors in the node's mempool (txids). */
async function mempoolAnchors(): Promise<string[]> {
  const txids = await node.rpc<string[]>('getrawmempool');
  const out: string[] = [];
  for (const t of txids) {
    const hex = await node.rpc<string>('getrawtransaction', [t]);
    if (opReturnPayloads(parseTx(hex, { floData: false })).some((p) => Buffer.from(p.subarray(0, 4)).toString('latin1') === 'TPC\u0001')) out.push(t);
  }
  return out;
}

interface Reading {
  fileHashOp?: string;
  digest?: string;
  attestations?: { kind: string; height?: number; msg: string }[];
  error?: string;
}

function readWithPython(files: string[]): Reading[] {
  const r = spawnSync(PYTHON, [READER, ...files], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python-opentimestamps could not run: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Reading);
}

async function headerMerkleRootAt(height: number): Promise<string> {
  const hex = await node.rpc<string>('getblockheader', [await node.rpc<string>('getblockhash', [height]), false]);
  return hex.slice(72, 136);
}

test('one anchor transaction per round, only when the cosigned checkpoint grew; every station checkpoint gets a tlog-proof and an .ots python-opentimestamps reads to the block header', async () => {
  {
    const first = stations.map((s) => stationEntry(s, 1));
    await Promise.all(first.map((e) => county.submit(e)));
    await county.round();
    expect(county.publishedTreeSize).toBe(3);

    const r1 = await anchorRound(opts(county));
    expect(r1.publish.errors).toEqual([]);
    expect(r1.signed).toEqual({ round: 1, treeSize: 3 });
    expect(await mempoolAnchors()).toHaveLength(1);
    // nothing new published: no second transaction
    const again = await anchorRound(opts(county));
    expect(again.signed).toBeUndefined();
    expect(await mempoolAnchors()).toHaveLength(1);
    const [txid] = await mempoolAnchors();
    const payload = decodeCountyAnchor(opReturnPayloads(parseTx(await node.rpc<string>('getrawtransaction', [txid]), { floData: false }))[0] as Uint8Array);
    expect(payload.size).toBe(3);

    await node.mine(2);
    const confirmed = await anchorRound(opts(county));
    expect(confirmed.publish.publications).toEqual([countyAnchorLayout(county.log.dir).publicationFile(1)]);

    const second = stations.map((s) => stationEntry(s, 2));
    await Promise.all(second.map((e) => county.submit(e)));
    await county.round();
    const r2 = await anchorRound(opts(county));
    expect(r2.signed).toEqual({ round: 2, treeSize: 6 });
    expect(await mempoolAnchors()).toHaveLength(1);
    await node.mine(2);
    expect((await anchorRound(opts(county))).publish.batches.map((b) => b.state)).toEqual(['published', 'published']);

    const out = path.join(work, 'proofs');
    const written = [];
    for (const s of stations) for (const batch of [1, 2]) written.push(await writeCountyProof({ ...opts(county), target: { station: s.id, batch }, outDir: out }));
    // the earliest round whose tree holds the entry
    expect(written.map((w) => w.manifest.round)).toEqual([1, 2, 1, 2, 1, 2]);
    const byIndex = await writeCountyProof({ ...opts(county), target: { index: 4 }, outDir: path.join(work, 'by-index') });
    expect(byIndex.manifest).toMatchObject({ index: 4, round: 2 });

    for (const w of written) {
      const entry = fs.readFileSync(path.join(out, w.manifest.files.entry));
      const checked = verifyTlogProof(fs.readFileSync(path.join(out, w.manifest.files.tlogProof), 'utf8'), entry, trust);
      if (checked instanceof Error) throw checked;
      expect(checked.proof.index).toBe(w.manifest.index);
      expect(entry.equals(Buffer.from((w.manifest.batch === 1 ? first : second)[stations.findIndex((s) => s.id === w.manifest.station)] as Uint8Array))).toBe(true);
    }
    const readings = readWithPython(written.map((w) => path.join(out, w.manifest.files.ots)));
    for (const [i, w] of written.entries()) {
      const r = readings[i] as Reading;
      const entry = fs.readFileSync(path.join(out, w.manifest.files.entry));
      const anchorFile = JSON.parse(fs.readFileSync(path.join(out, w.manifest.files.anchor), 'utf8')) as { anchor: { blocks: { height: number }[] } };
      const height = (anchorFile.anchor.blocks[0] as { height: number }).height;
      expect(r.error).toBeUndefined();
      expect(r.fileHashOp).toBe('sha256');
      expect(r.digest).toBe(leafHash(entry).toString('hex'));
      expect(r.attestations).toEqual([{ kind: 'bitcoin', height, msg: await headerMerkleRootAt(height) }]);
      // the .leaf file is what the .ots timestamps: 0x00 || entry
      expect(fs.readFileSync(path.join(out, w.manifest.files.leaf)).equals(Buffer.concat([Buffer.from([0]), entry]))).toBe(true);
    }
  }
}, 120_000);

test('a reorg that takes the anchor out withdraws the round, and no proof is written for it until it is confirmed again', async () => {
  {
    await Promise.all(stations.map((s) => county.submit(stationEntry(s, 3))));
    await county.round();
    expect((await anchorRound(opts(county))).signed).toEqual({ round: 3, treeSize: 9 });
    const [block] = await node.mine(2);
    const layout = countyAnchorLayout(county.log.dir);
    expect((await anchorRound(opts(county))).publish.publications).toEqual([layout.publicationFile(3)]);
    const out = path.join(work, 'reorg-proof');
    expect((await writeCountyProof({ ...opts(county), target: { index: 6 }, outDir: out })).manifest.round).toBe(3);

    await node.rpc('invalidateblock', [block]);
    const stale = path.join(work, 'reorg-stale');
    await expect(writeCountyProof({ ...opts(county), target: { index: 6 }, outDir: stale })).rejects.toThrow(CountyProofError);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(layout.publicationFile(3))).toBe(false);
    // earlier rounds are in blocks the reorg did not touch: their entries are still proved
    expect((await writeCountyProof({ ...opts(county), target: { index: 0 }, outDir: path.join(work, 'reorg-earlier') })).manifest.round).toBe(1);
    expect(fs.readdirSync(path.join(layout.publicationDir, 'withdrawn'))).toHaveLength(1);

    // the anchor is mined again on the new branch: confirmed again, the round is republished and proved there
    await node.mine(2);
    await anchorRound(opts(county));
    const again = await writeCountyProof({ ...opts(county), target: { index: 6 }, outDir: path.join(work, 'reorg-again') });
    const anchorFile = JSON.parse(fs.readFileSync(path.join(work, 'reorg-again', again.manifest.files.anchor), 'utf8')) as { anchor: { tx: { blockHash: string } } };
    expect(anchorFile.anchor.tx.blockHash).not.toBe(block);
    expect(await node.rpc<{ confirmations: number }>('getblockheader', [anchorFile.anchor.tx.blockHash])).toMatchObject({ confirmations: 2 });
  }
}, 120_000);

test("two rounds racing for the same number (the serve timer and `county anchor`), each with another published note: one transaction is signed, the loser fails in the outbox, and the winner's round is published", async () => {
  await Promise.all(stations.map((s) => county.submit(stationEntry(s, 4))));
  await county.round();
  const noteA = county.log.published() as string;
  await Promise.all(stations.map((s) => county.submit(stationEntry(s, 5))));
  await county.round();
  const noteB = county.log.published() as string;
  expect(noteA).not.toBe(noteB);
  const before = await mempoolAnchors();
  const raced = await Promise.allSettled([anchorRound({ ...opts(county), published: () => noteA }), anchorRound({ ...opts(county), published: () => noteB })]);
  const signed = raced.filter((r) => r.status === 'fulfilled' && r.value.signed !== undefined);
  expect(signed).toHaveLength(1);
  for (const r of raced) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/batch 4 was signed by another publisher meanwhile/);
  expect((await mempoolAnchors()).filter((t) => !before.includes(t))).toHaveLength(1);
  await node.mine(2);
  const next = await anchorRound(opts(county));
  expect(next.publish.errors).toEqual([]);
  expect(next.publish.publications).toEqual([countyAnchorLayout(county.log.dir).publicationFile(4)]);
  expect((await writeCountyProof({ ...opts(county), target: { station: stations[0]?.id as string, batch: 4 }, outDir: path.join(work, 'raced') })).manifest.round).toBe(4);
}, 60_000);
