import fs from 'node:fs';
import path from 'node:path';
import { NETWORKS } from '../../ballots/identity/networks';
import { otsPath } from '../../app/formats/bundle-files';
import { TAMPER_CASES, failedLines, tampered } from './tamper';
import type { AuditReport } from '../../app/audit/audit-verify';
import { PublicationSchema } from '../../app/formats/publication-formats';
import type { Publication } from '../../app/formats/publication-formats';
import { KNOWN_GENESIS } from '../../app/formats/headers';
import { publishLayout } from '../../app/chain/layout';
import { publishBatches } from '../../app/chain/publish';
import { decodeRecord } from '../../app/ledger/record';
import { runCli } from '../support/cli';
import { startRegtestNode } from '../support/litecoind';
import type { RegtestNode } from '../support/litecoind';
import { StationData, fund, regtestChains, stationKeys } from '../chain/helpers';
import { tempDir } from '../ledger/fixtures';

/*
 * The whole path on two real litecoind -regtest nodes: a station ledger, the real publisher
 * (app/chain/publish.ts) putting its batches on the records chain and anchoring them, the auditor's
 * bundle exported and completed with the publication files, then `audit verify`; and a forger's copies
 * of that bundle, each changed in one place, which must fail naming what was changed.
 */
jest.setTimeout(300_000);

const CONFIRMATIONS = 6;
/** small fields so a batch spreads over several records transactions (chunks) */
const FIELD_BYTES = 200;
const { signer, wallet } = stationKeys(9);

let recordsNode: RegtestNode;
let anchorNode: RegtestNode;
let work: string;
let bundle: string;
let publications: Publication[];
let firstBallot: string;

function rpcUrl(n: RegtestNode): string {
  return `http://${n.rpcUser}:${n.rpcPassword}@127.0.0.1:${n.rpcPort}/`;
}

async function audit(dir: string, ...extra: string[]): Promise<{ code: number; report: AuditReport; stderr: string }> {
  const r = await runCli(['audit', 'verify', '--bundle', dir, '--json', ...extra]);
  return { code: r.code, report: JSON.parse(r.stdout) as AuditReport, stderr: r.stderr };
}

interface BatchJson {
  records: { leafIndex: number; record: string; inclusionProof: string[] }[];
}

beforeAll(async () => {
  const net = NETWORKS['litecoin-regtest'];
  [recordsNode, anchorNode] = await Promise.all([startRegtestNode({ dataCarrierSize: 1100 }), startRegtestNode({ extraArgs: ['-mempoolreplacement=1'] })]);
  // one coin per batch on each chain: the publisher spends a batch's transactions from its own coin
  await Promise.all([fund(recordsNode, wallet.address(net, 'p2wpkh'), 4), fund(anchorNode, wallet.address(net, 'p2wpkh'), 4)]);
  work = tempDir('audit-');
  const station = new StationData(work, signer, 'official', 21);
  station.addBatch(9);
  station.addBatch(0);
  station.addBatch(14);
  station.close();

  const chains = regtestChains(recordsNode, anchorNode, { records: { maxDataBytes: FIELD_BYTES, confirmations: 2 }, anchor: { confirmations: CONFIRMATIONS } });
  const sent = await publishBatches({ dataDir: work, chains, wallet });
  expect(sent.errors).toEqual([]);
  await Promise.all([recordsNode.mine(2), anchorNode.mine(CONFIRMATIONS)]);
  for (let pass = 0; pass < 3; pass++) {
    const r = await publishBatches({ dataDir: work, chains, wallet });
    expect(r.errors).toEqual([]);
    if (r.batches.every((b) => b.state === 'published')) break;
  }
  publications = [1, 2, 3].map((n) => PublicationSchema.parse(JSON.parse(fs.readFileSync(publishLayout(work, 'official').publicationFile(n), 'utf8'))));

  bundle = path.join(work, 'bundle');
  // the auditor's path: `ledger export` finds the publication files and adds them and a .ots per ballot
  const exported = await runCli(['ledger', 'export', '--data', work, '--out', bundle]);
  expect(exported.stderr).toBe('');
  expect(JSON.parse(exported.stdout)).toMatchObject({ batches: 3, records: 23, published: 3, proofs: 23 });
  const b1 = JSON.parse(fs.readFileSync(path.join(bundle, 'batches', 'batch-000001.json'), 'utf8')) as BatchJson;
  firstBallot = decodeRecord(Buffer.from(b1.records[0]?.record ?? '', 'hex')).ballotId;
});

afterAll(async () => {
  await Promise.all([recordsNode?.destroy(), anchorNode?.destroy()]);
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

describe('audit verify on a bundle published to real litecoind regtest nodes', () => {
  it('knows the real Litecoin regtest genesis', async () => {
    const g = await anchorNode.rpc<string>('getblockhash', [0]);
    expect(KNOWN_GENESIS.get(g)).toEqual({ family: 'litecoin', kind: 'regtest', pow: 'scrypt' });
  });

  it('passes offline: manifest, signatures, proofs, anchors, records on chain, .ots files, tally', async () => {
    const { code, report, stderr } = await audit(bundle);
    expect(failedLines(report)).toEqual([]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const names = new Set(report.checks.map((c) => c.check));
    for (const c of ['manifest', 'checkpoint', 'inclusion', 'consistency', 'anchor', 'anchor-headers', 'anchor-block', 'records-chain', 'genesis', 'ots', 'tally']) expect(names).toContain(c);
    // the publisher anchors an empty batch too: one field with no records
    expect(report.checks.find((c) => c.check === 'records-chain' && c.batch === 2)?.detail).toMatch(/exactly the batch's 0 records/);
    // the records spread over several chunks, which is what the chunk tampering below needs
    expect(publications[2]?.records.txs.length).toBeGreaterThan(1);
    // the timestamped file beside each proof is 0x00 || record, whose SHA-256 is the leaf hash
    const ots = fs.readFileSync(path.join(bundle, otsPath(firstBallot)));
    expect(ots.length).toBeLessThanOrEqual(2048);
  });

  it('passes against the nodes with --rpc, and prints one ballot with --ballot-id', async () => {
    const { code, report } = await audit(bundle, '--rpc', rpcUrl(recordsNode), '--rpc', rpcUrl(anchorNode), '--ballot-id', firstBallot.toLowerCase());
    expect(failedLines(report)).toEqual([]);
    expect(code).toBe(0);
    expect(report.checks.filter((c) => c.check === 'rpc' && c.ok && /best chain/.test(c.detail))).toHaveLength(6);
    expect(report.ballot).toMatchObject({ ballotId: firstBallot, found: true, ok: true, batch: 1, ots: otsPath(firstBallot) });
    expect(report.ballot?.anchorTx?.txid).toBe(publications[0]?.anchor.tx.txid);
    expect(publications[0]?.records.txs.map((t) => t.txid)).toContain(report.ballot?.recordsTx?.txid);
    const text = await runCli(['audit', 'verify', '--bundle', bundle, '--ballot-id', firstBallot]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`ballot ${firstBallot}: ok`);
    expect(text.stdout).toMatch(/mayor: /);
    const missing = await audit(bundle, '--ballot-id', '000000000000');
    expect(missing.code).toBe(1);
    expect(missing.report.ballot?.problems[0]).toMatch(/not in any batch/);
  });

  // the whole list runs offline (audit-offline.test.ts); here the edits to what the real publisher and nodes produced
  const onChain = TAMPER_CASES.filter((c) => /anchor commitment|header|chunk|corrupt \.ots/.test(c.name));
  it.each(onChain.map((c) => [c.name, c] as const))('fails naming the check on %s', async (name, c) => {
    const ctx = { firstBallot, batch3Start: 9 };
    const dir = tampered(bundle, path.join(work, `tamper-${name.replace(/\W+/g, '-')}`), (d) => c.mutate(d, ctx), c.remanifest ?? true);
    const { code, report, stderr } = await audit(dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/audit failed/);
    expect(failedLines(report).join('\n')).toMatch(c.expected(ctx));
  });

  it('fails --rpc when the anchor block is no longer in the best chain', async () => {
    const pub = publications[0] as Publication;
    // a reorg: the anchor block is replaced by a longer branch (the anchor transaction is mined again elsewhere)
    await anchorNode.rpc('invalidateblock', [pub.anchor.tx.blockHash]);
    await anchorNode.mine(CONFIRMATIONS + 2);
    const offline = await audit(bundle);
    expect(offline.code).toBe(0);
    const { code, report } = await audit(bundle, '--rpc', rpcUrl(anchorNode));
    expect(code).toBe(1);
    expect(failedLines(report).join('\n')).toMatch(/^rpc b1: anchor chain ltc-anchor: node http:\/\/127\.0\.0\.1:\d+\/: its best chain has \w+ at height \d+, the bundle says/m);
  });
});
