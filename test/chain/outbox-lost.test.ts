import fs from 'node:fs';
import { PublicationSchema } from '../../app/formats/publication-formats';
import { publishLayout } from '../../app/chain/layout';
import { publishBatches } from '../../app/chain/publish';
import type { PublishReport } from '../../app/chain/publish';
import { StationData, outboxEvents, regtestChains, stationKeys, useFundedNode } from './helpers';

/*
 * The outbox deleted after a broadcast: the next pass must not sign a second set of transactions for a
 * batch the chain already holds. It finds the station's transactions from its address's coins, takes a
 * batch found complete into the fresh outbox, and refuses to sign while an unknown unconfirmed transaction
 * spends the station's coins. Counted on chain: OP_RETURN outputs carrying "TPA" (anchors) and "TPR"
 * (records fields) in every block. One node serves both roles.
 */
jest.setTimeout(180_000);

const { signer, wallet } = stationKeys(51);
let station: StationData;
// declared before useFundedNode's hooks, so the ledger is closed before its directory is removed (Jest runs afterAll hooks in order)
afterAll(() => station?.close());
const fixture = useFundedNode(wallet, { dataCarrierSize: 1100 }, 3);
beforeAll(() => {
  station = new StationData(fixture.dir, signer, 'official', 53);
});

const publish = (over: { offline?: boolean } = {}): Promise<PublishReport> =>
  publishBatches({ dataDir: fixture.dir, chains: regtestChains(fixture.node, fixture.node, { records: { confirmations: 2 }, anchor: { confirmations: 2 } }), wallet, ...over });

function deleteOutbox(): void {
  const file = publishLayout(fixture.dir, 'official').outbox;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
}

interface BlockV2 {
  tx: { txid: string; vout: { scriptPubKey: { hex: string } }[] }[];
}

/** Data outputs on the active chain (and in the mempool) whose payload starts with `magic`: txids. */
async function dataOutputs(magic: string): Promise<string[]> {
  const push = Buffer.from(magic).toString('hex');
  const out: string[] = [];
  const tip = await fixture.node.rpc<number>('getblockcount');
  const txs: BlockV2['tx'] = [];
  for (let h = 1; h <= tip; h++) txs.push(...(await fixture.node.rpc<BlockV2>('getblock', [await fixture.node.rpc<string>('getblockhash', [h]), 2])).tx);
  for (const id of await fixture.node.rpc<string[]>('getrawmempool')) txs.push(await fixture.node.rpc<BlockV2['tx'][number]>('getrawtransaction', [id, true]));
  for (const tx of txs) {
    const script = tx.vout[0]?.scriptPubKey.hex ?? '';
    // OP_RETURN, then a direct push, OP_PUSHDATA1 or OP_PUSHDATA2
    if (/^6a(?:[0-4][0-9a-f]|4c[0-9a-f]{2}|4d[0-9a-f]{4})/.test(script) && script.replace(/^6a(?:4c..|4d....|..)/, '').startsWith(push)) out.push(tx.txid);
  }
  return out;
}

test('outbox deleted after the batch was mined: the next pass finds its transactions on chain and takes them up; no second set is signed', async () => {
  station.addBatch(40);
  const first = await publish();
  expect(first.errors).toEqual([]);
  const b1 = first.batches[0];
  const txids = [...(b1?.recordsTxs ?? []).map((t) => t.txid), b1?.anchor?.txid as string];
  await fixture.node.mine(1);
  deleteOutbox();

  const again = await publish();
  expect(again.errors).toEqual([]);
  expect(again.batches).toHaveLength(1);
  const adopted = again.batches[0];
  expect(adopted?.state).toBe('mined');
  expect([...(adopted?.recordsTxs ?? []).map((t) => t.txid), adopted?.anchor?.txid]).toEqual(txids);
  const events = outboxEvents(fixture.dir, 1);
  expect(events.map((e) => e.kind)).toContain('adopted');
  expect(events.filter((e) => e.kind === 'sent' || e.kind === 'signed')).toEqual([]);

  await fixture.node.mine(1);
  const done = await publish();
  expect(done.errors).toEqual([]);
  expect(done.batches[0]?.state).toBe('published');
  const pub = PublicationSchema.parse(JSON.parse(fs.readFileSync(publishLayout(fixture.dir, 'official').publicationFile(1), 'utf8')));
  expect([...pub.records.txs.map((t) => t.txid), pub.anchor.tx.txid]).toEqual(txids);
  expect(await dataOutputs('TPA')).toEqual([txids[txids.length - 1]]);
  expect((await dataOutputs('TPR')).sort()).toEqual(txids.slice(0, -1).sort());
});

test('outbox deleted while the batch is in the mempool: the pass signs nothing and says to wait for a block; after it, the batch is taken up', async () => {
  station.addBatch(30);
  const first = await publish();
  expect(first.errors).toEqual([]);
  const b2 = first.batches.find((b) => b.batch === 2);
  expect(b2?.state).toBe('broadcast');
  const anchorsBefore = await dataOutputs('TPA');
  const recordsBefore = await dataOutputs('TPR');
  expect(anchorsBefore).toHaveLength(2);
  deleteOutbox();

  const refused = await publish();
  expect(refused.batches).toEqual([]);
  const err = refused.errors.filter((e) => e.kind === 'unknown-spend');
  expect(err.length).toBeGreaterThanOrEqual(1);
  expect(err[0]?.message).toMatch(/being spent by an unconfirmed transaction the outbox does not know .*wait until it is mined and run again/);
  expect(await dataOutputs('TPA')).toEqual(anchorsBefore);
  expect(await dataOutputs('TPR')).toEqual(recordsBefore);

  await fixture.node.mine(1);
  const adopted = await publish();
  expect(adopted.errors).toEqual([]);
  expect(adopted.batches.map((b) => b.batch)).toEqual([1, 2]);
  expect(adopted.batches.find((b) => b.batch === 2)?.anchor?.txid).toBe(b2?.anchor?.txid);
  await fixture.node.mine(1);
  const done = await publish();
  expect(done.errors).toEqual([]);
  expect(done.batches.map((b) => b.state)).toEqual(['published', 'published']);
  expect((await dataOutputs('TPA')).sort()).toEqual([...anchorsBefore].sort());
  expect((await dataOutputs('TPR')).sort()).toEqual([...recordsBefore].sort());

  // the taken-up outbox funds the next batch: its records spend batch 2's last change, as before the loss
  station.addBatch(5);
  const next = await publish();
  expect(next.errors).toEqual([]);
  const b3 = next.batches.find((b) => b.batch === 3);
  const raw = await fixture.node.rpc<{ vin: { txid: string }[] }>('getrawtransaction', [b3?.recordsTxs[0]?.txid, true]);
  expect(raw.vin[0]?.txid).toBe(b2?.recordsTxs[b2.recordsTxs.length - 1]?.txid);
  expect(await dataOutputs('TPA')).toHaveLength(3);
});

test('outbox deleted after offline signing: a batch with a signed file and no outbox row is not signed again, offline or online', async () => {
  // batch 3 confirmed: its anchor's change is a coin the offline pass can sign the next anchor from
  await fixture.node.mine(2);
  expect((await publish()).done).toBe(true);
  station.addBatch(5);
  const off = await publish({ offline: true });
  expect(off.errors).toEqual([]);
  deleteOutbox();
  const anchorsBefore = await dataOutputs('TPA');
  // offline, nothing can be looked up: the first batch with a signed file and no outbox row stops the pass
  const offline = await publish({ offline: true });
  expect(offline.errors.map((x) => [x.kind, x.batch])).toEqual([['signed-not-in-outbox', 1]]);
  expect(offline.errors[0]?.message).toContain('an offline pass cannot look for them on chain');
  expect(offline.batches).toEqual([]);
  // online, batches 1-3 are found on chain and taken up; batch 4's signed transactions are nowhere
  const online = await publish();
  expect(online.errors.map((x) => [x.kind, x.batch])).toEqual([['signed-not-in-outbox', 4]]);
  expect(online.errors[0]?.message).toContain(publishLayout(fixture.dir, 'official').signedFile(4));
  expect(online.batches.map((b) => [b.batch, b.state])).toEqual([
    [1, 'published'],
    [2, 'published'],
    [3, 'published'],
  ]);
  expect(await dataOutputs('TPA')).toEqual(anchorsBefore);
});
