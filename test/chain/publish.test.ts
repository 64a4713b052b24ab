import fs from 'node:fs';
import { sha256 } from '@noble/hashes/sha256';
import { NETWORKS } from '../../ballots/identity/networks';
import { PublicationSchema, anchorCommitment, decodeAnchor, decodeRecordsField, recordsDigest } from '../../app/formats/publication-formats';
import type { Publication } from '../../app/formats/publication-formats';
import { publishLayout } from '../../app/chain/layout';
import { Outbox } from '../../app/chain/outbox';
import { SignedFileSchema, closedBatches, publishBatches } from '../../app/chain/publish';
import type { PublishReport } from '../../app/chain/publish';
import { checkpointDigest } from '../../app/ledger/checkpoint';
import { unpackRecords } from '../../app/ledger/record-pack';
import type { RegtestNode } from '../support/litecoind';
import { startRegtestNode } from '../support/litecoind';
import { dataLayout } from '../../app/ledger/layout';
import { loadOrCreateStationKey } from '../../app/ledger/station-key';
import { unlockStationWallet } from '../../app/chain/station-wallet';
import { runCli } from '../support/cli';
import { StationData, fund, regtestChains, stationKeys, tempDir } from './helpers';

/*
 * The publisher against two real `litecoind -regtest` nodes: the records chain (-datacarriersize=1100, so
 * 1,040-byte fields fit an OP_RETURN) and the anchor chain. One station data directory; each test closes
 * a new batch in the same ledger.
 */
jest.setTimeout(120_000);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const { signer, wallet } = stationKeys();
const net = NETWORKS['litecoin-regtest'];

let recNode: RegtestNode;
let ancNode: RegtestNode;
let station: StationData;
let dir: string;

interface VerboseTx {
  txid: string;
  vout: { scriptPubKey: { hex: string } }[];
  vin: { txid: string; vout: number }[];
  blockhash?: string;
}

function opReturnData(scriptHex: string): Uint8Array {
  const s = Buffer.from(scriptHex, 'hex');
  expect(s[0]).toBe(0x6a);
  const op = s[1] as number;
  if (op <= 75) return s.subarray(2, 2 + op);
  if (op === 0x4c) return s.subarray(3, 3 + (s[2] as number));
  if (op === 0x4d) return s.subarray(4, 4 + s.readUInt16LE(2));
  throw new Error(`unexpected push ${op}`);
}

async function publish(over: Partial<Parameters<typeof publishBatches>[0]> = {}): Promise<PublishReport> {
  return publishBatches({ dataDir: dir, chains: regtestChains(recNode, ancNode), wallet, ...over });
}

function sentEvents(txid: string): number {
  const o = Outbox.open(publishLayout(dir, 'official').outbox, 'official');
  try {
    return o.events().filter((e) => e.txid === txid && e.kind === 'sent').length;
  } finally {
    o.close();
  }
}

beforeAll(async () => {
  // the anchor node stands in for Bitcoin, which relays opt-in replacements (BIP 125); litecoind does not by default
  [recNode, ancNode] = await Promise.all([startRegtestNode({ dataCarrierSize: 1100 }), startRegtestNode({ extraArgs: ['-mempoolreplacement=1'] })]);
  await Promise.all([fund(recNode, wallet.address(net, 'p2wpkh'), 2), fund(ancNode, wallet.address(net, 'p2wpkh'), 3)]);
  dir = tempDir();
  station = new StationData(dir, signer);
});

afterAll(async () => {
  station?.close();
  await Promise.all([recNode?.destroy(), ancNode?.destroy()]);
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

describe('publishing a closed batch on real regtest nodes', () => {
  test('records on chain decode to exactly the batch, the anchor commits to it, confirmations are tracked, the publication is written', async () => {
    station.addBatch(60);
    const first = await publish();
    expect(first.errors).toEqual([]);
    const b1 = first.batches.find((b) => b.batch === 1);
    expect(b1?.state).toBe('broadcast');
    expect(b1?.fields).toBeGreaterThanOrEqual(2);
    expect(b1?.records).toBe(60);

    await recNode.mine(1);
    await ancNode.mine(1);
    const mined = await publish();
    expect(mined.batches[0]?.state).toBe('mined');
    expect(mined.publications).toEqual([]);

    await recNode.mine(1);
    await ancNode.mine(2);
    const done = await publish();
    expect(done.errors).toEqual([]);
    expect(done.batches[0]?.state).toBe('published');
    expect(done.publications).toHaveLength(1);

    const pub: Publication = PublicationSchema.parse(JSON.parse(fs.readFileSync(publishLayout(dir, 'official').publicationFile(1), 'utf8')));
    const [view] = closedBatches(dir, 'official', wallet);
    if (view === undefined) throw new Error('no batch');
    expect(pub.checkpointDigest).toBe(hex(checkpointDigest(view.body)));

    // the records, read back from the node, are exactly the batch's records in tree order
    const fields: Uint8Array[] = [];
    for (const t of pub.records.txs) {
      const tx = await recNode.rpc<VerboseTx>('getrawtransaction', [t.txid, true]);
      expect(tx.blockhash).toBe(t.blockHash);
      const field = opReturnData((tx.vout[0] as { scriptPubKey: { hex: string } }).scriptPubKey.hex);
      const { header } = decodeRecordsField(field);
      expect(header.chunk).toBe(t.chunk);
      expect(header.chunks).toBe(pub.records.txs.length);
      expect(hex(header.checkpointPrefix)).toBe(pub.checkpointDigest.slice(0, 32));
      fields.push(field);
    }
    const perField = fields.map((f) => unpackRecords(decodeRecordsField(f).pack).map(hex));
    // ≥ 25 records in each 1,040-byte field but the last
    for (const f of perField.slice(0, -1)) expect(f.length).toBeGreaterThanOrEqual(25);
    for (const f of fields) expect(f.length).toBeLessThanOrEqual(1040);
    const onChain = perField.flat();
    expect(onChain).toEqual(view.records.map(hex));

    // the records transactions chain: each spends the previous one's change
    for (let i = 1; i < pub.records.txs.length; i++) {
      const tx = await recNode.rpc<VerboseTx>('getrawtransaction', [pub.records.txs[i]?.txid, true]);
      expect(tx.vin[0]?.txid).toBe(pub.records.txs[i - 1]?.txid);
    }

    // one anchor; its OP_RETURN carries the batch root and the commitment to checkpoint and records
    const anc = await ancNode.rpc<VerboseTx>('getrawtransaction', [pub.anchor.tx.txid, true]);
    const { root, commitment } = decodeAnchor(opReturnData((anc.vout[0] as { scriptPubKey: { hex: string } }).scriptPubKey.hex));
    expect(hex(root)).toBe(hex(view.checkpoint.root));
    expect(hex(commitment)).toBe(hex(anchorCommitment(checkpointDigest(view.body), recordsDigest(fields))));

    // carried blocks: each header hashes to its block, holds the tx; headers run unbroken to the depth
    for (const chain of [pub.records, pub.anchor]) {
      for (const b of chain.blocks) expect(Buffer.from(sha256(sha256(Buffer.from(b.header, 'hex')))).reverse().toString('hex')).toBe(b.hash);
      const heights = [...chain.blocks.map((b) => b.height), ...chain.headersAfter.map((h) => h.height)].sort((a, b) => a - b);
      heights.forEach((h, i) => expect(h).toBe((heights[0] as number) + i));
      expect(chain.genesisHash).toBe('530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9');
    }
    expect(pub.anchor.blocks[0]?.txids).toContain(pub.anchor.tx.txid);
    expect(pub.anchor.confirmations).toBe(3);

    // another pass sends nothing: every transaction went out exactly once
    const again = await publish();
    expect(again.errors).toEqual([]);
    for (const t of [...pub.records.txs, pub.anchor.tx]) expect(sentEvents(t.txid)).toBe(1);
  });

  test('a node stopped mid-publish: the pass reports it by name, and the next pass resumes without sending anything twice', async () => {
    station.addBatch(130);
    let sent = 0;
    const report = await publish({
      hooks: {
        afterBroadcast: async (t) => {
          if (t.role === 'records' && ++sent === 2) await recNode.stop();
        },
      },
    });
    const err = report.errors.find((e) => e.role === 'records');
    expect(err?.kind).toBe('rpc-unreachable');
    expect(err?.message).toMatch(/node "records:ltc-records" \(http:\/\/127\.0\.0\.1:\d+\/\) (getrawtransaction|sendrawtransaction|getblockchaininfo): unreachable/);
    const b2 = report.batches.find((b) => b.batch === 2);
    expect(b2?.recordsTxs.filter((t) => t.state === 'broadcast')).toHaveLength(2);
    expect(b2?.recordsTxs.some((t) => t.state === 'signed')).toBe(true);

    await recNode.start();
    const resumed = await publish();
    expect(resumed.errors).toEqual([]);
    await recNode.mine(2);
    await ancNode.mine(3);
    const done = await publish();
    expect(done.errors).toEqual([]);
    const b2done = done.batches.find((b) => b.batch === 2);
    expect(b2done?.state).toBe('published');
    for (const t of b2done?.recordsTxs ?? []) {
      expect(sentEvents(t.txid)).toBe(1);
      expect(t.state).toBe('confirmed');
    }
  });

  test('a transaction the node already has (a crash after sending, before recording it) is found, not sent again', async () => {
    station.addBatch(10);
    const offline = await publish({ offline: true });
    expect(offline.offline).toBe(true);
    const b3 = offline.batches.find((b) => b.batch === 3);
    expect(b3?.state).toBe('signed');
    const signedFile = SignedFileSchema.parse(JSON.parse(fs.readFileSync(publishLayout(dir, 'official').signedFile(3), 'utf8')));
    // someone broadcast the anchor from the signed file (or the station crashed right after sending it)
    await ancNode.rpc('sendrawtransaction', [signedFile.anchor.hex]);
    const online = await publish();
    expect(online.errors).toEqual([]);
    expect(sentEvents(signedFile.anchor.txid)).toBe(0);
    const o = Outbox.open(publishLayout(dir, 'official').outbox, 'official');
    try {
      expect(o.events(3).some((e) => e.kind === 'found-on-node' && e.txid === signedFile.anchor.txid)).toBe(true);
    } finally {
      o.close();
    }
    await recNode.mine(2);
    await ancNode.mine(3);
    expect((await publish()).batches.find((b) => b.batch === 3)?.state).toBe('published');
  });

  test('a reorg under a confirmed anchor is noticed, the publication withdrawn, and the anchor re-confirmed in the new block', async () => {
    const before = (await publish()).batches.find((b) => b.batch === 1);
    const oldBlock = before?.anchor?.block as string;
    const oldHeight = before?.anchor?.height as number;
    expect(before?.state).toBe('published');
    await ancNode.rpc('invalidateblock', [oldBlock]);
    const noticed = await publish();
    const b1 = noticed.batches.find((b) => b.batch === 1);
    expect(b1?.anchor?.state).toBe('broadcast');
    expect(b1?.publication).toBeNull();
    const o = Outbox.open(publishLayout(dir, 'official').outbox, 'official');
    try {
      const reorg = o.events(1).find((e) => e.kind === 'reorg');
      expect(reorg?.detail).toContain(oldBlock);
    } finally {
      o.close();
    }
    await ancNode.mine(3);
    const again = await publish();
    const b1again = again.batches.find((b) => b.batch === 1);
    expect(b1again?.state).toBe('published');
    expect(b1again?.anchor?.block).not.toBe(oldBlock);
    expect(b1again?.anchor?.height).toBe(oldHeight);
    const pub = PublicationSchema.parse(JSON.parse(fs.readFileSync(publishLayout(dir, 'official').publicationFile(1), 'utf8')));
    expect(pub.anchor.tx.blockHash).toBe(b1again?.anchor?.block);
  });

  test('an anchor left unconfirmed is replaced at a higher fee (RBF); the replacement confirms and the outbox records it', async () => {
    station.addBatch(5);
    const first = await publish();
    const b4 = first.batches.find((b) => b.batch === 4);
    const oldTxid = b4?.anchor?.txid as string;
    const oldRate = b4?.anchor?.feeRate as number;
    // two blocks that leave the anchor out
    const addr = wallet.address(net, 'p2wpkh');
    await ancNode.rpc('generateblock', [addr, []]);
    await ancNode.rpc('generateblock', [addr, []]);
    const bumped = await publish();
    expect(bumped.errors).toEqual([]);
    const b4b = bumped.batches.find((b) => b.batch === 4);
    expect(b4b?.anchor?.txid).not.toBe(oldTxid);
    expect(b4b?.anchor?.replaced).toEqual([oldTxid]);
    expect(b4b?.anchor?.feeRate).toBeGreaterThanOrEqual(oldRate * 2 - 0.01);
    const mempool = await ancNode.rpc<string[]>('getrawmempool');
    expect(mempool).toContain(b4b?.anchor?.txid);
    expect(mempool).not.toContain(oldTxid);
    await recNode.mine(2);
    await ancNode.mine(3);
    const done = await publish();
    const b4c = done.batches.find((b) => b.batch === 4);
    expect(b4c?.state).toBe('published');
    expect(b4c?.anchor?.txid).toBe(b4b?.anchor?.txid);
    const o = Outbox.open(publishLayout(dir, 'official').outbox, 'official');
    try {
      expect(o.txByid(oldTxid)?.replacedBy).toBe(b4b?.anchor?.txid);
      expect(o.events(4).some((e) => e.kind === 'fee-bumped')).toBe(true);
    } finally {
      o.close();
    }
    const signed = SignedFileSchema.parse(JSON.parse(fs.readFileSync(publishLayout(dir, 'official').signedFile(4), 'utf8')));
    expect(signed.anchor.txid).toBe(b4b?.anchor?.txid);
    expect(signed.anchor.replaces).toEqual([oldTxid]);
  });

  test('a signed file broadcast from elsewhere (no key, no outbox); the next pass finds every transaction on the nodes and sends none', async () => {
    station.addBatch(35);
    const off = await publish({ offline: true });
    const n = Math.max(...off.batches.map((b) => b.batch));
    expect(off.batches.find((b) => b.batch === n)?.state).toBe('signed');
    const chainsFile = `${dir}/chains-for-broadcast.json`;
    const c = regtestChains(recNode, ancNode);
    fs.writeFileSync(chainsFile, JSON.stringify({ format: 'tallyproof-chains/1', records: c.records, anchor: c.anchor }));
    const signedFile = publishLayout(dir, 'official').signedFile(n);
    const first = await runCli(['publish', '--data', dir, '--chains', chainsFile, '--broadcast', signedFile]);
    expect(first.stderr).toBe('');
    const sent = (JSON.parse(first.stdout) as { broadcast: { role: string; outcome: string }[] }).broadcast;
    expect(sent.map((s) => s.outcome)).toEqual(sent.map(() => 'sent'));
    expect(sent.filter((s) => s.role === 'anchor')).toHaveLength(1);
    const again = await runCli(['publish', '--data', dir, '--chains', chainsFile, '--broadcast', signedFile]);
    expect((JSON.parse(again.stdout) as { broadcast: { outcome: string }[] }).broadcast.every((s) => s.outcome === 'already-known')).toBe(true);
    const pass = await publish();
    expect(pass.errors).toEqual([]);
    const b = pass.batches.find((x) => x.batch === n);
    expect(b?.state).toBe('broadcast');
    for (const t of [...(b?.recordsTxs ?? []), b?.anchor]) expect(sentEvents(t?.txid as string)).toBe(0);
    await recNode.mine(2);
    await ancNode.mine(3);
    expect((await publish()).batches.find((x) => x.batch === n)?.state).toBe('published');
  });

  test('the CLI publishes with the station key file and its passphrase, and prints the state per batch', async () => {
    const cdir = tempDir();
    try {
      const passFile = `${cdir}/pass.txt`;
      fs.writeFileSync(passFile, 'correct horse battery\n');
      const key = loadOrCreateStationKey(dataLayout(cdir).stationKey, 'station-7', 'correct horse battery', { N: 1 << 10, r: 8, p: 1 });
      const s = new StationData(cdir, key, 'official', 99);
      s.addBatch(30);
      s.close();
      const w = unlockStationWallet(dataLayout(cdir).stationKey, 'correct horse battery');
      expect(() => unlockStationWallet(dataLayout(cdir).stationKey, 'wrong passphrase')).toThrow(/wrong passphrase/);
      await recNode.mine(1, w.address(net, 'p2wpkh'));
      await ancNode.mine(1, w.address(net, 'p2wpkh'));
      await Promise.all([recNode.mine(100), ancNode.mine(100)]);
      const chainsFile = `${cdir}/chains.json`;
      fs.writeFileSync(chainsFile, JSON.stringify({ format: 'tallyproof-chains/1', records: { ...regtestChains(recNode, ancNode).records }, anchor: { ...regtestChains(recNode, ancNode).anchor } }));
      const r = await runCli(['publish', '--data', cdir, '--chains', chainsFile, '--passphrase-file', passFile]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { batches: { batch: number; state: string; fields: number }[]; errors: unknown[] };
      expect(out.errors).toEqual([]);
      expect(out.batches.map((b) => [b.batch, b.state])).toEqual([[1, 'broadcast']]);
      await recNode.mine(2);
      await ancNode.mine(3);
      const again = await runCli(['publish', '--data', cdir, '--chains', chainsFile, '--passphrase-file', passFile]);
      expect(JSON.parse(again.stdout).batches[0].state).toBe('published');
      const status = await runCli(['publish', '--data', cdir, '--status']);
      expect(JSON.parse(status.stdout).batches[0].publication).toBe(publishLayout(cdir, 'official').publicationFile(1));
    } finally {
      fs.rmSync(cdir, { recursive: true, force: true });
    }
  });
});
