import fs from 'node:fs';
import path from 'node:path';
import { NETWORKS } from '../../ballots/identity/networks';
import type { AuditReport } from '../../app/audit/audit-verify';
import { pendingPath } from '../../app/formats/bundle-pending';
import { publicationPath } from '../../app/formats/bundle-files';
import { publishLayout } from '../../app/chain/layout';
import { publishBatches } from '../../app/chain/publish';
import type { PublishReport } from '../../app/chain/publish';
import type { PublishStatusReport } from '../../app/chain/status-now';
import type { RegtestNode } from '../support/litecoind';
import { startRegtestNode } from '../support/litecoind';
import { runCli } from '../support/cli';
import { StationData, fund, outboxEvents, regtestChains, stationKeys, tempDir } from './helpers';

/*
 * Issue 14, items 7, 8 and 9, on two real litecoind -regtest nodes (records, anchor):
 *  9. the records node stopped mid-publish: the anchor waits until every records transaction of the batch
 *     is accepted by the records node, then goes out;
 *  8. an offline audit of a published bundle says the chain was not checked; with --rpc it is;
 *  7. after a reorg the publication is withdrawn: `publish --status --chains` shows what the chain shows
 *     now, `ledger export` ships only what the outbox holds as published (a pending statement instead),
 *     and the stale bundle fails against the node.
 * The tests run in order on one ledger and one pair of nodes.
 */
jest.setTimeout(240_000);

const FIELD_BYTES = 200;
/** four or more records fields of FIELD_BYTES (record v2 packs about 15 of these fixture ballots in one) */
const BALLOTS = 60;
const { signer, wallet } = stationKeys(41);
const net = NETWORKS['litecoin-regtest'];

let recNode: RegtestNode;
let ancNode: RegtestNode;
let dir: string;
let chainsFile: string;

const chains = (): ReturnType<typeof regtestChains> => regtestChains(recNode, ancNode, { records: { maxDataBytes: FIELD_BYTES, confirmations: 2 }, anchor: { confirmations: 3 } });
const publish = (over: Partial<Parameters<typeof publishBatches>[0]> = {}): Promise<PublishReport> => publishBatches({ dataDir: dir, chains: chains(), wallet, ...over });
const rpcUrl = (n: RegtestNode): string => `http://${n.rpcUser}:${n.rpcPassword}@127.0.0.1:${n.rpcPort}/`;
const mempool = (n: RegtestNode): Promise<string[]> => n.rpc<string[]>('getrawmempool');

async function audit(bundle: string, ...extra: string[]): Promise<{ code: number; text: string; report: AuditReport }> {
  const text = await runCli(['audit', 'verify', '--bundle', bundle, ...extra]);
  const json = await runCli(['audit', 'verify', '--bundle', bundle, '--json', ...extra]);
  expect(json.code).toBe(text.code);
  return { code: text.code, text: text.stdout, report: JSON.parse(json.stdout) as AuditReport };
}

beforeAll(async () => {
  [recNode, ancNode] = await Promise.all([startRegtestNode({ dataCarrierSize: 1100 }), startRegtestNode()]);
  await Promise.all([fund(recNode, wallet.address(net, 'p2wpkh')), fund(ancNode, wallet.address(net, 'p2wpkh'))]);
  dir = tempDir('tp-withdrawn-');
  const station = new StationData(dir, signer, 'official', 43);
  station.addBatch(BALLOTS);
  station.close();
  chainsFile = path.join(dir, 'chains.json');
  const c = chains();
  fs.writeFileSync(chainsFile, JSON.stringify({ format: 'tallyproof-chains/1', records: c.records, anchor: c.anchor }));
});
afterAll(async () => {
  await Promise.all([recNode?.destroy(), ancNode?.destroy()]);
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

test('9: the records node stopped mid-publish: the anchor is not sent until every records transaction is accepted, then it is', async () => {
  let stopped = false;
  const first = await publish({
    hooks: {
      afterBroadcast: async (t) => {
        if (t.role === 'records' && t.chunk === 1 && !stopped) {
          stopped = true;
          await recNode.stop();
        }
      },
    },
  });
  expect(stopped).toBe(true);
  const b = first.batches[0];
  const recs = b?.recordsTxs ?? [];
  expect(recs.length).toBeGreaterThanOrEqual(4);
  expect(recs.map((t) => t.state)).toEqual(recs.map((t) => (t.chunk <= 1 ? 'broadcast' : 'signed')));
  expect(first.errors.some((e) => e.role === 'records' && e.kind === 'rpc-unreachable')).toBe(true);
  // the anchor stays signed and unsent: the anchor node never saw it
  expect(b?.anchor?.state).toBe('signed');
  expect(await mempool(ancNode)).not.toContain(b?.anchor?.txid);
  expect(first.waiting.filter((w) => w.kind === 'records-not-sent')).toEqual([
    { role: 'anchor', batch: 1, kind: 'records-not-sent', message: `batch 1: the anchor is sent once ltc-records has accepted all ${recs.length} records transactions; ${recs.length - 2} not yet (from chunk 2)` },
  ]);
  expect(outboxEvents(dir, 1).filter((e) => e.txid === b?.anchor?.txid && e.kind === 'sent')).toEqual([]);

  // the records node back (its mempool kept chunks 0 and 1): the rest of the records go, then the anchor
  await recNode.start();
  const second = await publish();
  expect(second.errors).toEqual([]);
  expect(second.waiting).toEqual([]);
  const inRec = await mempool(recNode);
  for (const t of recs) expect(inRec).toContain(t.txid);
  expect(await mempool(ancNode)).toContain(b?.anchor?.txid);
  const events = outboxEvents(dir, 1);
  const sentOrder = events.filter((e) => e.kind === 'sent' || e.kind === 'found-on-node').map((e) => e.txid);
  expect(sentOrder[sentOrder.length - 1]).toBe(b?.anchor?.txid);

  await Promise.all([recNode.mine(2), ancNode.mine(3)]);
  const done = await publish();
  expect(done.errors).toEqual([]);
  expect(done.batches[0]?.state).toBe('published');
});

let staleBundle: string;

test('8: an offline audit of a published bundle passes what it checked and says the chain was not checked; --rpc checks it', async () => {
  staleBundle = path.join(dir, 'bundle-published');
  const exported = await runCli(['ledger', 'export', '--data', dir, '--out', staleBundle]);
  expect(JSON.parse(exported.stdout)).toMatchObject({ published: 1, pending: [], withheld: [] });
  const offline = await audit(staleBundle);
  expect(offline.code).toBe(0);
  expect(offline.text).toMatch(/ok {3}anchor-headers batch 1: \d+ headers .* meet the scrypt targets their own nBits state \(their own, not the network's difficulty: only a node ties them to the real chain\)/);
  expect(offline.text).toContain('not checked: chain not checked: give --rpc <url> for each chain (ltc-records (litecoin-regtest), ltc-anchor (litecoin-regtest))');
  expect(offline.text).toMatch(/audit: ok \(\d+ checks passed; 1 thing\(s\) not checked, listed above\)\n$/);
  expect(offline.report.notChecked.map((n) => n.what)).toEqual(['chain']);

  const online = await audit(staleBundle, '--rpc', rpcUrl(recNode), '--rpc', rpcUrl(ancNode));
  expect(online.code).toBe(0);
  expect(online.report.notChecked).toEqual([]);
  expect(online.report.checks.filter((c) => c.check === 'rpc' && c.ok)).toHaveLength(2);
  expect(online.text).not.toMatch(/^not checked/m);
});

test('7: after a reorg, --status --chains shows it, the publication is withdrawn and not exported, and the stale bundle fails against the node', async () => {
  const before = (await publish()).batches[0];
  const anchorBlock = before?.anchor?.block as string;
  expect(before?.state).toBe('published');
  await ancNode.rpc('invalidateblock', [anchorBlock]);
  expect(await mempool(ancNode)).toContain(before?.anchor?.txid);

  // --status alone says how old its view is; with --chains it looks now, without changing the outbox
  const stale = JSON.parse((await runCli(['publish', '--data', dir, '--status'])).stdout) as PublishStatusReport;
  expect(stale.batches[0]?.state).toBe('published');
  expect(stale.lastLooked.anchor?.tip).toBeGreaterThan(0);
  expect(stale.note).toMatch(/^states as the outbox last saw them: records chain looked at \S+ \(height \d+\), anchor chain \S+ \(height \d+\); a reorg since then is not shown: give --chains to look now$/);
  const now = await runCli(['publish', '--data', dir, '--status', '--chains', chainsFile]);
  expect(now.code).toBe(0);
  const looked = JSON.parse(now.stdout) as PublishStatusReport;
  expect(looked.batches[0]?.now?.state).toBe('broadcast');
  expect(looked.batches[0]?.now?.differs).toEqual([`anchor ${before?.anchor?.txid}: was in block ${anchorBlock} at ${before?.anchor?.height}, now back in the mempool`]);
  expect(outboxEvents(dir, 1).filter((e) => e.kind === 'publication-withdrawn')).toEqual([]);

  // the bundle exported before the reorg: offline it cannot know (and says so); against the node it fails
  const offline = await audit(staleBundle);
  expect(offline.text).toContain('not checked: chain not checked: give --rpc');
  const online = await audit(staleBundle, '--rpc', rpcUrl(recNode), '--rpc', rpcUrl(ancNode));
  expect(online.code).toBe(1);
  expect(online.report.failures.map((f) => [f.check, f.batch])).toEqual([['rpc', 1]]);

  // a pass withdraws the publication; the old file is moved aside
  const withdrawn = await publish();
  expect(withdrawn.errors).toEqual([]);
  expect(withdrawn.batches[0]?.state).toBe('broadcast');
  const layout = publishLayout(dir, 'official');
  expect(fs.existsSync(layout.publicationFile(1))).toBe(false);
  const aside = fs.readdirSync(path.join(layout.publicationDir, 'withdrawn'));
  expect(aside).toEqual([expect.stringMatching(/^batch-1-\d{8}T\d{9}Z\.json$/)]);
  // even if the stale file is put back (a copy, an older station version), export ships only what the outbox holds as published
  fs.copyFileSync(path.join(layout.publicationDir, 'withdrawn', aside[0] as string), layout.publicationFile(1));
  const fresh = path.join(dir, 'bundle-withdrawn');
  const exported = await runCli(['ledger', 'export', '--data', dir, '--out', fresh]);
  expect(exported.code).toBe(0);
  expect(JSON.parse(exported.stdout)).toMatchObject({
    published: 0,
    proofs: 0,
    pending: [{ batch: 1, state: 'broadcast' }],
    withheld: [{ file: layout.publicationFile(1), reason: 'the outbox does not hold this batch as published (withdrawn after a reorg?)' }],
  });
  expect(fs.existsSync(path.join(fresh, publicationPath(1)))).toBe(false);
  expect(fs.existsSync(path.join(fresh, 'ots'))).toBe(false);
  expect(fs.existsSync(path.join(fresh, pendingPath(1)))).toBe(true);
  const pending = await audit(fresh);
  expect(pending.code).toBe(0);
  expect(pending.text).toContain('ok   publication batch 1: broadcast, not yet in a block: its anchor is not on chain yet (its publication was withdrawn after a reorg); checked offline:');
  expect(pending.report.notChecked.map((n) => n.what)).toEqual(['publication', 'tx-signatures']);
  fs.rmSync(layout.publicationFile(1));

  // mined again: published again, exported with its proofs, and it checks against the nodes
  await ancNode.mine(3);
  expect((await publish()).batches[0]?.state).toBe('published');
  const again = path.join(dir, 'bundle-again');
  expect(JSON.parse((await runCli(['ledger', 'export', '--data', dir, '--out', again])).stdout)).toMatchObject({ published: 1, pending: [], withheld: [], proofs: BALLOTS });
  expect((await audit(again, '--rpc', rpcUrl(recNode), '--rpc', rpcUrl(ancNode))).code).toBe(0);
});
