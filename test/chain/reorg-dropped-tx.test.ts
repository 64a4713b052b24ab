import fs from 'node:fs';
import { NETWORKS } from '../../ballots/identity/networks';
import { PublicationSchema } from '../../app/formats/publication-formats';
import { publishLayout } from '../../app/chain/layout';
import { publishBatches, signerFor } from '../../app/chain/publish';
import type { PublishReport } from '../../app/chain/publish';
import { SEQUENCE_FINAL, buildDataTx } from '../../app/chain/tx-build';
import { Transaction } from 'bitcoinjs-lib';
import { StationData, outboxEvents, regtestChains, stationKeys, useFundedNode } from './helpers';

/*
 * A transaction that leaves the chain entirely after a reorg. On litecoind (0.21), `invalidateblock` puts
 * the disconnected block's transactions back into the mempool, so a reorg alone never loses them; they
 * leave the node when (1) it restarts without its saved mempool (-persistmempool=0): the block stays
 * invalid across the restart, and the transactions are nowhere, or (2) the new branch mines a conflicting
 * spend of their input, which evicts them from the mempool for good. One node serves both roles.
 */
jest.setTimeout(180_000);

const { signer, wallet } = stationKeys(21);
const net = NETWORKS['litecoin-regtest'];
let station: StationData;
// declared before useFundedNode's hooks, so the ledger is closed before its directory is removed (Jest runs afterAll hooks in order)
afterAll(() => station?.close());
const fixture = useFundedNode(wallet, { dataCarrierSize: 1100 }, 3);
beforeAll(() => {
  station = new StationData(fixture.dir, signer, 'official', 23);
});

const chains = (): ReturnType<typeof regtestChains> => regtestChains(fixture.node, fixture.node, { records: { confirmations: 2 }, anchor: { confirmations: 2 } });
const publish = (): Promise<PublishReport> => publishBatches({ dataDir: fixture.dir, chains: chains(), wallet });

async function inMempool(txid: string): Promise<boolean> {
  return (await fixture.node.rpc<string[]>('getrawmempool')).includes(txid);
}

test('transactions gone from chain and mempool (block invalidated, node restarted with -persistmempool=0) are sent again from the stored bytes and confirm', async () => {
  station.addBatch(80); // two records fields: about 49 fixture records fit one
  const first = await publish();
  expect(first.errors).toEqual([]);
  const b1 = first.batches[0];
  const txids = [...(b1?.recordsTxs ?? []).map((t) => t.txid), b1?.anchor?.txid as string];
  expect(txids.length).toBeGreaterThanOrEqual(3);
  const [block] = await fixture.node.mine(1);
  const mined = await publish();
  expect(mined.batches[0]?.state).toBe('mined');
  expect(mined.batches[0]?.anchor?.block).toBe(block);

  await fixture.node.rpc('invalidateblock', [block]);
  // litecoind keeps what a reorg disconnects: the transactions are back in its mempool ...
  for (const t of txids) expect(await inMempool(t)).toBe(true);
  // ... until it restarts without the saved mempool; the invalidated block stays invalid
  await fixture.node.stop();
  await fixture.node.start(['-persistmempool=0']);
  for (const t of txids) expect(await inMempool(t)).toBe(false);
  expect(await fixture.node.rpc<number>('getblockcount')).toBe((await fixture.node.rpc<{ height: number }>('getblockheader', [block])).height - 1);

  const resent = await publish();
  expect(resent.errors).toEqual([]);
  expect(resent.batches[0]?.state).toBe('broadcast');
  for (const t of txids) expect(await inMempool(t)).toBe(true);
  const events = outboxEvents(fixture.dir, 1);
  for (const t of txids) {
    expect(events.filter((e) => e.txid === t && e.kind === 'reorg')).toHaveLength(1);
    expect(events.filter((e) => e.txid === t && e.kind === 'rebroadcast')).toHaveLength(1);
  }

  await fixture.node.mine(2);
  const done = await publish();
  expect(done.errors).toEqual([]);
  expect(done.batches[0]?.state).toBe('published');
  const pub = PublicationSchema.parse(JSON.parse(fs.readFileSync(publishLayout(fixture.dir, 'official').publicationFile(1), 'utf8')));
  expect([...pub.records.txs.map((t) => t.txid), pub.anchor.tx.txid]).toEqual(txids);
  expect(pub.anchor.tx.blockHash).not.toBe(block);
});

test('a records transaction whose input the new branch spent elsewhere is reported as double-spent, by batch and txid, on every pass, and nothing of its chain is sent', async () => {
  station.addBatch(80); // two records fields: about 49 fixture records fit one
  const first = await publish();
  expect(first.errors).toEqual([]);
  const b2 = first.batches.find((b) => b.batch === 2);
  const recs = b2?.recordsTxs ?? [];
  expect(recs.length).toBeGreaterThanOrEqual(2);
  const head = recs[0]?.txid as string;
  const [block] = await fixture.node.mine(1);
  expect((await publish()).batches.find((b) => b.batch === 2)?.state).toBe('mined');

  await fixture.node.rpc('invalidateblock', [block]);
  expect(await inMempool(head)).toBe(true);
  // the station's coin the records chain starts from, spent by another transaction mined in the new branch
  const raw = await fixture.node.rpc<{ hex: string }>('getrawtransaction', [head, true]);
  const input = Transaction.fromHex(raw.hex).ins[0] as { hash: Uint8Array; index: number };
  const parentTxid = Buffer.from(input.hash).reverse().toString('hex');
  const parent = Transaction.fromHex((await fixture.node.rpc<{ hex: string }>('getrawtransaction', [parentTxid, true])).hex);
  const value = (parent.outs[input.index] as { value: bigint }).value;
  const conflict = buildDataTx(signerFor(chains().records, wallet), {
    inputs: [{ txid: parentTxid, vout: input.index, value }],
    data: Buffer.from('someone else spent the station coin'),
    carrier: 'op_return',
    feeRate: 5,
    sequence: SEQUENCE_FINAL,
  });
  await fixture.node.rpc('generateblock', [wallet.address(net, 'p2wpkh'), [conflict.hex]]);
  for (const t of recs) expect(await inMempool(t.txid)).toBe(false);

  for (let pass = 0; pass < 2; pass++) {
    const report = await publish();
    const ds = report.errors.filter((e) => e.kind === 'double-spent');
    expect(ds).toHaveLength(1);
    expect(ds[0]?.batch).toBe(2);
    expect(ds[0]?.role).toBe('records');
    expect(ds[0]?.message).toContain(head);
    expect(ds[0]?.message).toContain(`${parentTxid}:${input.index}`);
    expect(ds[0]?.message).toMatch(/batch 2: records transaction \w+ \(chunk 0\)/);
  }
  const events = outboxEvents(fixture.dir, 2);
  expect(events.filter((e) => e.kind === 'double-spent').map((e) => e.txid)).toEqual([head]);
  for (const t of recs) expect(events.filter((e) => e.txid === t.txid && e.kind === 'rebroadcast')).toHaveLength(0);
  // the anchor spends its own coin: it went back to the mempool and confirms; the batch is not published
  await fixture.node.mine(2);
  const after = await publish();
  const b2after = after.batches.find((b) => b.batch === 2);
  expect(b2after?.anchor?.state).toBe('confirmed');
  expect(b2after?.state).toBe('broadcast');
  expect(b2after?.publication).toBeNull();
  expect(after.batches.find((b) => b.batch === 1)?.state).toBe('published');
});
