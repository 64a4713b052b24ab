import fs from 'node:fs';
import { NETWORKS } from '../../ballots/identity/networks';
import { PublicationSchema } from '../../app/formats/publication-formats';
import { publishLayout } from '../../app/chain/layout';
import { SignedFileSchema, publishBatches } from '../../app/chain/publish';
import type { PublishReport } from '../../app/chain/publish';
import { StationData, outboxEvents, outboxTx, regtestChains, stationKeys, useFundedNode } from './helpers';

/*
 * An anchor bumped by RBF, and then a miner includes the older version anyway (it still had it, or got it
 * from a peer that never saw the replacement). The older one is the anchor of record; the replacement
 * spends the same coin and can never confirm. One node with replacement relay on (as Bitcoin's default).
 */
jest.setTimeout(180_000);

const { signer, wallet } = stationKeys(31);
const net = NETWORKS['litecoin-regtest'];
const fixture = useFundedNode(wallet, { dataCarrierSize: 1100, extraArgs: ['-mempoolreplacement=1'] }, 2);

const publish = (): Promise<PublishReport> =>
  publishBatches({ dataDir: fixture.dir, chains: regtestChains(fixture.node, fixture.node, { records: { confirmations: 2 }, anchor: { confirmations: 2 } }), wallet });

test('the older anchor mined after its replacement went out is the anchor of record; the replacement is abandoned; the publication names the mined one', async () => {
  const station = new StationData(fixture.dir, signer, 'official', 33);
  station.addBatch(5);
  station.close();
  const first = await publish();
  expect(first.errors).toEqual([]);
  const older = first.batches[0]?.anchor?.txid as string;
  const olderHex = outboxTx(fixture.dir, older)?.hex as string;

  const addr = wallet.address(net, 'p2wpkh');
  await fixture.node.rpc('generateblock', [addr, []]);
  await fixture.node.rpc('generateblock', [addr, []]);
  const bumped = await publish();
  expect(bumped.errors).toEqual([]);
  const newer = bumped.batches[0]?.anchor?.txid as string;
  expect(newer).not.toBe(older);
  expect(bumped.batches[0]?.anchor?.replaced).toEqual([older]);
  const mempool = await fixture.node.rpc<string[]>('getrawmempool');
  expect(mempool).toContain(newer);
  expect(mempool).not.toContain(older);

  // a miner puts the older version in a block: the node drops the replacement, which conflicts with it
  const mined = await fixture.node.rpc<{ hash: string }>('generateblock', [addr, [olderHex]]);
  expect(await fixture.node.rpc<string[]>('getrawmempool')).not.toContain(newer);
  await fixture.node.mine(2);

  const after = await publish();
  expect(after.errors).toEqual([]);
  const b1 = after.batches[0];
  expect(b1?.state).toBe('published');
  expect(b1?.anchor?.txid).toBe(older);
  expect(b1?.anchor?.block).toBe(mined.hash);
  expect(b1?.anchor?.replaced).toEqual([]);
  expect(b1?.anchor?.abandoned).toEqual([newer]);
  expect(outboxTx(fixture.dir, newer)?.state).toBe('replaced');

  const pub = PublicationSchema.parse(JSON.parse(fs.readFileSync(publishLayout(fixture.dir, 'official').publicationFile(1), 'utf8')));
  expect(pub.anchor.tx.txid).toBe(older);
  expect(pub.anchor.tx.blockHash).toBe(mined.hash);
  const signed = SignedFileSchema.parse(JSON.parse(fs.readFileSync(publishLayout(fixture.dir, 'official').signedFile(1), 'utf8')));
  // the signed file (for broadcasting elsewhere) now carries the anchor of record too
  expect(signed.anchor.txid).toBe(older);
  expect(signed.anchor.replaces).toEqual([]);

  const events = outboxEvents(fixture.dir, 1);
  expect(events.filter((e) => e.kind === 'replaced-anchor-mined').map((e) => e.txid)).toEqual([older]);
  expect(events.filter((e) => e.kind === 'replacement-abandoned').map((e) => e.txid)).toEqual([newer]);
  // the abandoned replacement is never pushed at the node again
  expect(events.filter((e) => e.txid === newer && /rebroadcast|rejected/.test(e.kind))).toEqual([]);

  // a later pass changes nothing
  const again = await publish();
  expect(again.errors).toEqual([]);
  expect(again.batches[0]?.anchor?.txid).toBe(older);
});
