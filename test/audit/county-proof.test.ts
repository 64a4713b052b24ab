import fs from 'node:fs';
import path from 'node:path';
import { NETWORKS } from '../../ballots/identity/networks';
import { AnchorProfileSchema, type AnchorProfile } from '../../app/chain/chains-config';
import { walletFromSecret } from '../../app/chain/station-wallet';
import { auditBundle } from '../../app/audit/audit-verify';
import type { AuditReport } from '../../app/audit/audit-verify';
import { formatReport } from '../../app/cli/commands/audit';
import { anchorRound } from '../../app/county/anchor/county-anchor';
import { writeCountyProof } from '../../app/county/anchor/county-proof';
import { CountyLog } from '../../app/county/log/county-log';
import { formatStationEntry } from '../../app/county/log/station-entry';
import { serveWitness, type WitnessServer } from '../../app/county/witness/witness-server';
import { WitnessDb } from '../../app/county/witness/witness-db';
import { ALG_COSIGNATURE_V1, ALG_ED25519, generateSigner, type Signer } from '../../app/county/tlog/note';
import { CheckpointListSchema } from '../../app/formats/bundle-files';
import { parseCheckpoint } from '../../app/ledger/checkpoint';
import { exportBundle } from '../../app/ledger/export';
import { decodeRecord } from '../../app/ledger/record';
import { fund } from '../chain/helpers';
import { ledgerWithBatches, tempDir, testSigner } from '../ledger/fixtures';
import { startRegtestNode, type RegtestNode } from '../support/litecoind';
import { publishOffline } from './offline-publication';

/*
 * `audit verify` with a county proof: a real station ledger exported as a bundle, its two checkpoints
 * reported to a county log witnessed by three witness servers, the log anchored on litecoind -regtest,
 * `county proof` files for each checkpoint; then a paper ballot's ID is followed record → station
 * checkpoint → county log → cosigned checkpoint → anchor transaction → block header (on the node), and
 * each attack breaks the link it names.
 */

const ORIGIN = 'county.test/audit';
const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(61));
const witnessKeys = [1, 2, 3].map((i) => generateSigner(`auditor-${i}.test/w`, ALG_COSIGNATURE_V1, new Uint8Array(32).fill(70 + i)));
const trust = { log: logKey, witnesses: witnessKeys, quorum: 2 };
const wallet = walletFromSecret(new Uint8Array(32).fill(0x6b));

let node: RegtestNode;
let work: string;
let bundle: string;
/** the same ledger exported with no station publication: the county anchors it instead */
let bareBundle: string;
let proofs: string;
let chain: AnchorProfile;
let rpcUrl: string;
const ballotOfBatch = new Map<number, string>();
const dbs: WitnessDb[] = [];
const witnesses: WitnessServer[] = [];
let county: CountyLog;

beforeAll(async () => {
  work = tempDir('county-audit-');
  const ledger = path.join(work, 'official.sqlite');
  ledgerWithBatches(ledger, [5, 3], { signer: 9, ballots: 313 });
  bundle = path.join(work, 'bundle');
  exportBundle(ledger, bundle);
  bareBundle = path.join(work, 'bare-bundle');
  exportBundle(ledger, bareBundle);
  publishOffline(bundle);
  const list = CheckpointListSchema.parse(JSON.parse(fs.readFileSync(path.join(bundle, 'checkpoints.json'), 'utf8')));
  const bodies = list.map((c) => fs.readFileSync(path.join(bundle, c.file), 'utf8'));
  const first = parseCheckpoint(bodies[0] as string);
  for (const c of list) {
    const b = JSON.parse(fs.readFileSync(path.join(bundle, 'batches', `batch-${String(c.batch).padStart(6, '0')}.json`), 'utf8')) as { records: { record: string }[] };
    ballotOfBatch.set(c.batch, decodeRecord(Buffer.from((b.records[0] as { record: string }).record, 'hex')).ballotId);
  }

  node = await startRegtestNode();
  await fund(node, wallet.address(NETWORKS['litecoin-regtest'], 'p2wpkh'), 3);
  rpcUrl = node.rpcUrl.replace('http://', `http://${node.rpcUser}:${node.rpcPassword}@`);
  chain = AnchorProfileSchema.parse({ name: 'ltc-anchor', network: 'litecoin-regtest', confirmations: 2, rpc: { url: node.rpcUrl, user: node.rpcUser, password: node.rpcPassword, retries: 1, backoffMs: 50 } });
  for (const [i, k] of witnessKeys.entries()) {
    const db = new WitnessDb(path.join(work, `w${i}`, 'witness.sqlite'));
    dbs.push(db);
    witnesses.push(await serveWitness({ signers: [k], logs: [{ origin: ORIGIN, keys: [logKey] }], now: () => BigInt(Math.floor(Date.now() / 1000)) }, db, { port: 0, host: '127.0.0.1' }));
  }
  const registry = { format: 'tallyproof-county-stations/1' as const, election: first.election, mode: 'official' as const, stations: [{ station: first.station, publicKey: Buffer.from(testSigner(9).publicKey).toString('hex') }] };
  county = new CountyLog({ dir: path.join(work, 'log'), origin: ORIGIN, signer: logKey, registry, witnesses: witnesses.map((w, i) => ({ url: w.url, key: witnessKeys[i] as Signer })), quorum: 2, intervalMs: 10 });
  const answers = await Promise.all(list.map((c, i) => county.submit(formatStationEntry(bodies[i] as string, Buffer.from(c.signature, 'hex')))));
  expect(answers.every((a) => a.ok)).toBe(true);
  await county.round();
  const o = { logDir: county.log.dir, logKey, mode: 'official' as const, chain, wallet, published: () => county.log.published() };
  expect((await anchorRound(o)).signed).toEqual({ round: 1, treeSize: 2 });
  await node.mine(2);
  await anchorRound(o);
  proofs = path.join(work, 'proofs');
  for (const c of list) await writeCountyProof({ ...o, target: { station: first.station, batch: c.batch }, outDir: proofs });
}, 120_000);

afterAll(async () => {
  await county?.stop();
  await Promise.all(witnesses.map((w) => w.close()));
  dbs.forEach((d) => d.close());
  await node?.destroy();
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

function copyProofs(name: string): string {
  const dir = path.join(work, name);
  fs.cpSync(proofs, dir, { recursive: true });
  return dir;
}

const countyChecks = (r: AuditReport, batch?: number) => r.checks.filter((c) => c.check === 'county-proof' && (batch === undefined || c.batch === batch));
const station = () => parseCheckpoint(fs.readFileSync(path.join(bundle, 'checkpoints', fs.readdirSync(path.join(bundle, 'checkpoints'))[0] as string), 'utf8')).station;

test('a paper ballot is followed from its record through its station checkpoint, the county log and the cosigned checkpoint to the anchor in a block on the node', async () => {
  for (const batch of [1, 2]) {
    const r = await auditBundle(bundle, { ballotId: ballotOfBatch.get(batch) as string, rpc: [rpcUrl], countyProof: { dir: proofs, trust } });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(countyChecks(r, batch)).toEqual([
      { check: 'county-proof', ok: true, batch, detail: expect.stringMatching(new RegExp(`^station ${station()} batch ${batch}: entry ${batch - 1} of county log ${ORIGIN} \\(checkpoint size 2, cosigned by auditor-1.test/w, auditor-2.test/w, auditor-3.test/w\\), anchored in round 1 .* on its best chain`)) },
    ]);
    // the ballot's own lines name the county anchor transaction the county-proof line followed to its block
    const anchorTxid = /anchored in round 1 by (\w{64}) in block/.exec(countyChecks(r, batch)[0]?.detail ?? '')?.[1];
    expect(r.ballot?.countyAnchor).toEqual({ round: 1, txid: anchorTxid, height: expect.any(Number) });
    expect(formatReport(r)).toContain(`  county anchor: round 1, tx ${anchorTxid as string} (block ${r.ballot?.countyAnchor?.height ?? -1})`);
  }
  // with no ballot, every proof of the bundle's station is checked; offline the chain is listed as not checked
  const all = await auditBundle(bundle, { countyProof: { dir: proofs, trust } });
  expect(countyChecks(all).map((c) => [c.batch, c.ok])).toEqual([
    [1, true],
    [2, true],
  ]);
  expect(all.notChecked.some((n) => n.what === 'chain' && /county anchor chain ltc-anchor/.test(n.detail))).toBe(true);
}, 60_000);

test("a station that does not anchor itself: the county proof stands in for its publications, and without it the batches are not shown anchored", async () => {
  const r = await auditBundle(bareBundle, { ballotId: ballotOfBatch.get(2) as string, rpc: [rpcUrl], countyProof: { dir: proofs, trust } });
  expect(r.failures).toEqual([]);
  expect(r.checks.filter((c) => c.check === 'publication')).toEqual([1, 2].map((batch) => ({ check: 'publication', ok: true, batch, detail: expect.stringMatching(/^not anchored by the station: anchored through the county log in round 1 \(\w{64}, block \d+\)/) })));
  expect(r.ballot).toMatchObject({ ok: true, batch: 2, problems: [] });
  const without = await auditBundle(bareBundle, { ballotId: ballotOfBatch.get(2) as string });
  expect(without.ok).toBe(false);
  expect(without.failures.map((f) => f.check)).toEqual(['publication', 'publication']);
}, 60_000);

test('a proof for another checkpoint breaks the entry link', async () => {
  const dir = copyProofs('other-checkpoint');
  const name = `${station()}-batch-1.county-proof.json`;
  const m = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { files: Record<string, string> };
  const other = JSON.parse(fs.readFileSync(path.join(dir, `${station()}-batch-2.county-proof.json`), 'utf8')) as { files: Record<string, string>; index: number };
  fs.writeFileSync(path.join(dir, name), JSON.stringify({ ...m, index: other.index, files: other.files }));
  const r = await auditBundle(bundle, { ballotId: ballotOfBatch.get(1) as string, countyProof: { dir, trust } });
  expect(r.ok).toBe(false);
  expect(countyChecks(r, 1)).toEqual([
    { check: 'county-proof', ok: false, batch: 1, detail: expect.stringMatching(/batch 1: link entry: the county log's entry 1 is not this bundle's checkpoint of batch 1/) },
    { check: 'county-proof', ok: false, batch: 1, detail: expect.stringMatching(/no county proof of station .* batch 1 in .* checks out/) },
  ]);
  expect(r.ballot?.problems).toEqual(expect.arrayContaining([expect.stringMatching(/link entry/)]));
});

test('a tampered inclusion path breaks the inclusion link', async () => {
  const dir = copyProofs('tampered-inclusion');
  const file = path.join(dir, `${station()}-batch-2.tlog-proof`);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith('index ')) + 1;
  const hash = Buffer.from(lines[at] as string, 'base64');
  hash[0] = (hash[0] as number) ^ 1;
  lines[at] = hash.toString('base64');
  fs.writeFileSync(file, lines.join('\n'));
  const r = await auditBundle(bundle, { ballotId: ballotOfBatch.get(2) as string, countyProof: { dir, trust } });
  expect(countyChecks(r, 2)[0]).toEqual({ check: 'county-proof', ok: false, batch: 2, detail: expect.stringMatching(/batch 2: link inclusion: the entry is not at index 1 under the county checkpoint's root/) });
  expect(r.ballot?.ok).toBe(false);
});

test("a county checkpoint without a quorum of the trusted witnesses' cosignatures breaks the quorum link", async () => {
  const dir = copyProofs('no-quorum');
  const file = path.join(dir, `${station()}-batch-2.tlog-proof`);
  // the log's own signature kept, the witnesses' cosignatures dropped
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.split('\n').filter((l) => !l.startsWith('\u2014 auditor-')).join('\n'));
  const r = await auditBundle(bundle, { ballotId: ballotOfBatch.get(2) as string, countyProof: { dir, trust } });
  expect(countyChecks(r, 2)[0]).toEqual({ check: 'county-proof', ok: false, batch: 2, detail: expect.stringMatching(/link quorum: the county checkpoint of size 2 is cosigned by 0 trusted witness\(es\) \(none\); the trust policy needs 2/) });
  // and witnesses the auditor does not trust do not count towards it
  const strangers = { ...trust, witnesses: [generateSigner('stranger.test/w', ALG_COSIGNATURE_V1, new Uint8Array(32).fill(99))], quorum: 1 };
  const r2 = await auditBundle(bundle, { ballotId: ballotOfBatch.get(2) as string, countyProof: { dir: proofs, trust: strangers } });
  expect(countyChecks(r2, 2)[0]?.detail).toMatch(/link quorum: .* cosigned by 0 trusted witness/);
});

test('a ballot whose batch has no county proof fails, naming the batch', async () => {
  const dir = copyProofs('missing');
  for (const n of fs.readdirSync(dir)) if (n.includes('-batch-1.')) fs.rmSync(path.join(dir, n));
  const r = await auditBundle(bundle, { ballotId: ballotOfBatch.get(1) as string, countyProof: { dir, trust } });
  expect(countyChecks(r, 1)).toEqual([{ check: 'county-proof', ok: false, batch: 1, detail: expect.stringMatching(/no county proof of station .* batch 1 in .* checks out/) }]);
  expect(r.ballot?.problems).toEqual(expect.arrayContaining([expect.stringMatching(/county-proof batch 1: no county proof/)]));
});

test('an anchor transaction a reorg took away breaks the node link', async () => {
  const anchorFile = JSON.parse(fs.readFileSync(path.join(proofs, 'round-1.json'), 'utf8')) as { anchor: { tx: { blockHash: string } } };
  await node.rpc('invalidateblock', [anchorFile.anchor.tx.blockHash]);
  const r = await auditBundle(bundle, { ballotId: ballotOfBatch.get(2) as string, rpc: [rpcUrl], countyProof: { dir: proofs, trust } });
  expect(r.ok).toBe(false);
  expect(countyChecks(r, 2)[0]).toEqual({ check: 'county-proof', ok: false, batch: 2, detail: expect.stringMatching(/link node: node .*: its best chain ends at height \d+, below the anchor's block .* \(reorged away\?\)/) });
  // another branch grows past that height: the block there is not the anchor's
  await node.mine(3);
  const r2 = await auditBundle(bundle, { ballotId: ballotOfBatch.get(2) as string, rpc: [rpcUrl], countyProof: { dir: proofs, trust } });
  expect(countyChecks(r2, 2)[0]).toEqual({ check: 'county-proof', ok: false, batch: 2, detail: expect.stringMatching(/link node: node .*: its best chain has \w+ at height \d+, not the anchor's block .* \(reorged away\?\)/) });
});

test('a cut .ots breaks the ots link; an anchor file whose transaction was swapped breaks the anchor link', async () => {
  const cut = copyProofs('cut-ots');
  const ots = path.join(cut, `${station()}-batch-2.leaf.ots`);
  fs.writeFileSync(ots, fs.readFileSync(ots).subarray(0, 60));
  const r = await auditBundle(bundle, { ballotId: ballotOfBatch.get(2) as string, countyProof: { dir: cut, trust } });
  expect(countyChecks(r, 2)[0]?.detail).toMatch(/batch 2: link ots: station-\S+-batch-2\.leaf\.ots: not a readable \.ots/);

  const swapped = copyProofs('swapped-tx');
  const file = path.join(swapped, 'round-1.json');
  const anchor = JSON.parse(fs.readFileSync(file, 'utf8')) as { anchor: { tx: { hex: string } } };
  // the same transaction with its OP_RETURN root altered: its bytes no longer hash to the txid the file names
  anchor.anchor.tx.hex = anchor.anchor.tx.hex.replace(/54504301([0-9a-f]{2})/, (_m, b: string) => `54504301${((parseInt(b, 16) + 1) % 256).toString(16).padStart(2, '0')}`);
  fs.writeFileSync(file, JSON.stringify(anchor));
  const r2 = await auditBundle(bundle, { ballotId: ballotOfBatch.get(2) as string, countyProof: { dir: swapped, trust } });
  expect(countyChecks(r2, 2)[0]?.detail).toMatch(/batch 2: link anchor: round 1: the anchor transaction's bytes hash to \w+, not \w+/);
});
