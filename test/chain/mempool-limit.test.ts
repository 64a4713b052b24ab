import fs from 'node:fs';
import { NETWORKS } from '../../ballots/identity/networks';
import { publishLayout } from '../../app/chain/layout';
import { Outbox } from '../../app/chain/outbox';
import { publishBatches } from '../../app/chain/publish';
import type { RegtestNode } from '../support/litecoind';
import { startRegtestNode } from '../support/litecoind';
import { StationData, fund, regtestChains, stationKeys, tempDir } from './helpers';

/*
 * A records chain longer than the node's unconfirmed-ancestor limit: sent up to the limit, reported as
 * waiting, and finished as blocks confirm. One node serves both roles here; its limit is lowered to 3 so a
 * small batch meets it (real nodes: 25, met by batches of ~650+ ballots).
 */
jest.setTimeout(120_000);

let node: RegtestNode;
let dir: string;
beforeAll(async () => {
  node = await startRegtestNode({ dataCarrierSize: 1100, extraArgs: ['-limitancestorcount=3', '-limitdescendantcount=3'] });
  dir = tempDir();
});
afterAll(async () => {
  await node?.destroy();
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

test('a records chain over the mempool limit waits for blocks and completes, each transaction sent once', async () => {
  const { signer, wallet } = stationKeys(8);
  await fund(node, wallet.address(NETWORKS['litecoin-regtest'], 'p2wpkh'), 2);
  const station = new StationData(dir, signer);
  station.addBatch(200);
  station.close();
  const chains = regtestChains(node, node, { records: { confirmations: 1 }, anchor: { confirmations: 1 } });
  const first = await publishBatches({ dataDir: dir, chains, wallet });
  expect(first.errors).toEqual([]);
  const fields = first.batches[0]?.fields ?? 0;
  expect(fields).toBeGreaterThanOrEqual(7);
  expect(first.batches[0]?.recordsTxs.filter((t) => t.state === 'broadcast')).toHaveLength(3);
  // the anchor waits for the whole records chain to be accepted (issue 14 item 9): it commits to every field
  expect(first.waiting.map((w) => w.kind)).toEqual(['mempool-limit', 'records-not-sent']);
  expect(first.batches[0]?.anchor?.state).toBe('signed');
  let passes = 1;
  let done = first.done;
  while (!done && passes < 10) {
    await node.mine(1);
    const r = await publishBatches({ dataDir: dir, chains, wallet });
    expect(r.errors).toEqual([]);
    done = r.done;
    passes += 1;
  }
  expect(done).toBe(true);
  expect(passes).toBeGreaterThanOrEqual(Math.ceil(fields / 3));
  const outbox = Outbox.open(publishLayout(dir, 'official').outbox, 'official');
  try {
    const txs = outbox.txsOf(1);
    expect(txs).toHaveLength(fields + 1);
    const sent = outbox.events(1).filter((e) => e.kind === 'sent');
    expect(sent.map((e) => e.txid).sort()).toEqual(txs.map((t) => t.txid).sort());
  } finally {
    outbox.close();
  }
});
