import fs from 'node:fs';
import { NETWORKS } from '../../ballots/identity/networks';
import { PublicationSchema } from '../../app/formats/publication-formats';
import { publishLayout } from '../../app/chain/layout';
import { SignedFileSchema, publishBatches } from '../../app/chain/publish';
import type { PublishReport } from '../../app/chain/publish';
import { StationData, outboxEvents, outboxTx, regtestChains, stationKeys, useFundedNode } from './helpers';

/*
 * A node that refuses the anchor's fee bump: litecoind's default (-mempoolreplacement=0) relays no
 * replacement at all, and says "txn-mempool-conflict". The refusal is recorded, the original anchor stays
 * the one tracked (and confirms), and the bump is tried again only `bumpAfterBlocks` blocks later.
 */
jest.setTimeout(180_000);

const { signer, wallet } = stationKeys(41);
const net = NETWORKS['litecoin-regtest'];
const fixture = useFundedNode(wallet, { dataCarrierSize: 1100 }, 2);

const publish = (): Promise<PublishReport> =>
  publishBatches({ dataDir: fixture.dir, chains: regtestChains(fixture.node, fixture.node, { records: { confirmations: 2 }, anchor: { confirmations: 2 } }), wallet });

test('a refused fee bump is recorded, the original anchor keeps being tracked and confirms, and the bump waits before it is tried again', async () => {
  const station = new StationData(fixture.dir, signer, 'official', 43);
  station.addBatch(5);
  station.close();
  const first = await publish();
  expect(first.errors).toEqual([]);
  const original = first.batches[0]?.anchor?.txid as string;

  const addr = wallet.address(net, 'p2wpkh');
  await fixture.node.rpc('generateblock', [addr, []]);
  await fixture.node.rpc('generateblock', [addr, []]);
  const refused = await publish();
  expect(refused.errors).toEqual([]);
  const w = refused.waiting.filter((x) => x.kind === 'replacement-refused');
  expect(w).toHaveLength(1);
  expect(w[0]?.batch).toBe(1);
  expect(w[0]?.message).toContain(original);
  expect(w[0]?.message).toMatch(/txn-mempool-conflict/);
  const b1 = refused.batches[0];
  expect(b1?.anchor?.txid).toBe(original);
  expect(b1?.anchor?.state).toBe('broadcast');
  expect(b1?.anchor?.replaced).toEqual([]);
  expect(b1?.anchor?.abandoned).toHaveLength(1);
  const bump = b1?.anchor?.abandoned[0] as string;
  expect(outboxTx(fixture.dir, bump)?.replaces).toBe(original);
  expect(await fixture.node.rpc<string[]>('getrawmempool')).toContain(original);
  expect(await fixture.node.rpc<string[]>('getrawmempool')).not.toContain(bump);
  expect(SignedFileSchema.parse(JSON.parse(fs.readFileSync(publishLayout(fixture.dir, 'official').signedFile(1), 'utf8'))).anchor.txid).toBe(original);
  const refusals = (): number => outboxEvents(fixture.dir, 1).filter((e) => e.kind === 'replacement-refused').length;
  expect(refusals()).toBe(1);

  // no new block: the bump is not tried again
  const same = await publish();
  expect(same.errors).toEqual([]);
  expect(same.waiting.map((x) => x.kind)).toContain('replacement-refused');
  expect(refusals()).toBe(1);

  // bumpAfterBlocks later it is tried again: the same signed bytes (deterministic signing), refused again
  await fixture.node.rpc('generateblock', [addr, []]);
  await fixture.node.rpc('generateblock', [addr, []]);
  const retried = await publish();
  expect(retried.errors).toEqual([]);
  expect(refusals()).toBe(2);
  expect(retried.batches[0]?.anchor?.txid).toBe(original);
  expect(retried.batches[0]?.anchor?.abandoned).toEqual([bump]);

  await fixture.node.mine(2);
  const done = await publish();
  expect(done.errors).toEqual([]);
  expect(done.batches[0]?.state).toBe('published');
  expect(done.batches[0]?.anchor?.txid).toBe(original);
  const pub = PublicationSchema.parse(JSON.parse(fs.readFileSync(publishLayout(fixture.dir, 'official').publicationFile(1), 'utf8')));
  expect(pub.anchor.tx.txid).toBe(original);
});
