import fs from 'node:fs';
import { Transaction } from 'bitcoinjs-lib';
import { NETWORKS } from '../../ballots/identity/networks';
import { publishBatches } from '../../app/chain/publish';
import type { PublishReport } from '../../app/chain/publish';
import type { RegtestNode } from '../support/litecoind';
import { startRegtestNode } from '../support/litecoind';
import { StationData, regtestChains, stationKeys, tempDir } from './helpers';

/*
 * Coins found by the UTXO scan include coinbase outputs, which the node refuses to spend until they are
 * 100 blocks deep. Here the station's address holds two mature coinbases (50 LTC) and a fresh one of 25 LTC
 * (regtest halves the subsidy every 150 blocks), the smallest coin and so the first pick unless immature
 * coinbases are left out. One node serves both roles.
 */
jest.setTimeout(180_000);

const { signer, wallet } = stationKeys(61);
const net = NETWORKS['litecoin-regtest'];
let node: RegtestNode;
let dir: string;
let station: StationData;
let fresh: string | undefined;
let mature: string[];

const publish = (): Promise<PublishReport> =>
  publishBatches({ dataDir: dir, chains: regtestChains(node, node, { records: { confirmations: 2 }, anchor: { confirmations: 2 } }), wallet });

async function spentBy(txid: string): Promise<string[]> {
  const hex = (await node.rpc<{ hex: string }>('getrawtransaction', [txid, true])).hex;
  return Transaction.fromHex(hex).ins.map((i) => Buffer.from(i.hash).reverse().toString('hex'));
}

beforeAll(async () => {
  node = await startRegtestNode({ dataCarrierSize: 1100 });
  const addr = wallet.address(net, 'p2wpkh');
  mature = await node.mine(2, addr);
  await node.mine(149);
  [fresh] = await node.mine(1, addr);
  dir = tempDir();
  station = new StationData(dir, signer, 'official', 63);
});

afterAll(async () => {
  station?.close();
  await node?.destroy();
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

test('a coinbase less than 100 blocks deep is never picked, though it is the smallest coin that suffices; when it is all that is left, the error says when it matures', async () => {
  const coinbaseTxid = async (block: string): Promise<string> => (await node.rpc<{ tx: string[] }>('getblock', [block, 1])).tx[0] as string;
  const freshTx = await coinbaseTxid(fresh as string);
  const matureTxs = await Promise.all(mature.map(coinbaseTxid));
  const scan = await node.rpc<{ unspents: { txid: string; amount: number; height: number }[] }>('scantxoutset', ['start', [`addr(${wallet.address(net, 'p2wpkh')})`]]);
  const amount = (txid: string): number => scan.unspents.find((u) => u.txid === txid)?.amount ?? NaN;
  // the premise: the fresh coinbase is the smallest coin at the address
  for (const m of matureTxs) expect(amount(freshTx)).toBeLessThan(amount(m));

  station.addBatch(30);
  const first = await publish();
  expect(first.errors).toEqual([]);
  const b1 = first.batches[0];
  const inputs = [...(await spentBy(b1?.recordsTxs[0]?.txid as string)), ...(await spentBy(b1?.anchor?.txid as string))];
  expect(inputs.sort()).toEqual([...matureTxs].sort());
  expect(await node.rpc<string[]>('getrawmempool')).toContain(b1?.anchor?.txid);

  // batch 2's records spend batch 1's change; its anchor needs a new coin, and only the young coinbase is left
  station.addBatch(5);
  const second = await publish();
  const funds = second.errors.filter((e) => e.kind === 'funds');
  expect(funds.map((e) => [e.role, e.batch])).toEqual([['anchor', 2]]);
  const height = scan.unspents.find((u) => u.txid === freshTx)?.height as number;
  expect(funds[0]?.message).toContain(`a coinbase coin there is not spendable yet: ${freshTx}:0 (mined at height ${height}, spendable from height ${height + 100})`);
  expect(second.errors.filter((e) => e.kind === 'rejected')).toEqual([]);
  expect(second.batches.map((b) => b.batch)).toEqual([1]);
});
