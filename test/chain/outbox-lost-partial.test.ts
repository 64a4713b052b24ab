import fs from 'node:fs';
import { broadcastSignedFile } from '../../app/chain/broadcast';
import { publishLayout } from '../../app/chain/layout';
import { publishBatches } from '../../app/chain/publish';
import type { PublishReport } from '../../app/chain/publish';
import { StationData, outboxEvents, regtestChains, stationKeys, useFundedNode } from './helpers';

/*
 * The outbox lost while a batch was only partly sent (its records chain held back at the node's mempool
 * chain limit, lowered to 3 here): the pass refuses to sign that batch again and says what to do; doing it
 * (sending the rest from the signed file, with no key and no outbox) lets the next pass find the batch
 * complete and take it up. One node serves both roles.
 */
jest.setTimeout(180_000);

const { signer, wallet } = stationKeys(71);
const fixture = useFundedNode(wallet, { dataCarrierSize: 1100, extraArgs: ['-limitancestorcount=3', '-limitdescendantcount=3'] }, 2);

const chains = (): ReturnType<typeof regtestChains> => regtestChains(fixture.node, fixture.node, { records: { confirmations: 1 }, anchor: { confirmations: 1 } });
const publish = (): Promise<PublishReport> => publishBatches({ dataDir: fixture.dir, chains: chains(), wallet });

test('a batch partly on chain and missing from the outbox is not signed again; after the rest is sent from the signed file it is found complete and taken up', async () => {
  const station = new StationData(fixture.dir, signer, 'official', 73);
  // at least 4 records fields (about 49 fixture records fit one)
  station.addBatch(200);
  station.close();
  const first = await publish();
  expect(first.errors).toEqual([]);
  const b1 = first.batches[0];
  const recs = (b1?.recordsTxs ?? []).map((t) => t.txid);
  expect(recs.length).toBeGreaterThanOrEqual(4);
  expect(b1?.recordsTxs.filter((t) => t.state === 'broadcast')).toHaveLength(3);
  // the anchor waits until the whole records chain is accepted (issue 14 item 9)
  expect(b1?.anchor?.state).toBe('signed');
  await fixture.node.mine(1);
  const file = publishLayout(fixture.dir, 'official').outbox;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });

  const refused = await publish();
  expect(refused.batches).toEqual([]);
  expect(refused.errors.map((e) => [e.kind, e.batch])).toEqual([['already-on-chain', 1]]);
  const msg = refused.errors[0]?.message ?? '';
  for (const t of recs.slice(0, 3)) expect(msg).toContain(t);
  expect(msg).not.toContain(b1?.anchor?.txid as string);
  expect(msg).toContain(`publish --broadcast ${publishLayout(fixture.dir, 'official').signedFile(1)}`);
  expect(await fixture.node.rpc<string[]>('getrawmempool')).toEqual([]);

  // what the message says: send the rest from the signed file, and run again once it is mined
  const sent = await broadcastSignedFile(publishLayout(fixture.dir, 'official').signedFile(1), chains());
  expect(sent.filter((s) => s.outcome === 'sent').map((s) => s.txid)).toEqual([...recs.slice(3), b1?.anchor?.txid]);
  await fixture.node.mine(1);
  const adopted = await publish();
  expect(adopted.errors).toEqual([]);
  expect(adopted.batches[0]?.state).toBe('published');
  expect(adopted.batches[0]?.recordsTxs.map((t) => t.txid)).toEqual(recs);
  expect(outboxEvents(fixture.dir, 1).map((e) => e.kind)).toEqual(expect.arrayContaining(['adopted', 'published']));
});
