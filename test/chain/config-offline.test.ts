import fs from 'node:fs';
import path from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { HDKey } from '@scure/bip32';
import { address as btcAddress } from 'bitcoinjs-lib';
import { deriveBallotAddress } from '../../ballots/identity/address';
import { NETWORKS } from '../../ballots/identity/networks';
import { decodeRecord } from '../../app/ledger/record';
import { assertModeAllowed, loadChainsConfig, parseChainsConfig } from '../../app/chain/chains-config';
import { ChainConfigError, PublishError } from '../../app/chain/errors';
import { parseFloTx, verifyFloP2pkhInput } from '../../app/chain/flo-tx';
import { anchorCommitment, decodeAnchor, decodeRecordsField, recordsDigest } from '../../app/formats/publication-formats';
import { publishLayout } from '../../app/chain/layout';
import { SignedFileSchema, closedBatches, publishBatches, publishStatus } from '../../app/chain/publish';
import { checkpointDigest } from '../../app/ledger/checkpoint';
import { unpackRecords } from '../../app/ledger/record-pack';
import { runCli } from '../support/cli';
import { StationData, stationKeys, tempDir } from './helpers';

const good = {
  format: 'tallyproof-chains/1',
  records: { name: 'florincoin', network: 'florincoin-main', carrier: 'flodata', maxDataBytes: 1040, address: 'p2pkh', rpc: { url: 'http://127.0.0.1:7313/', user: 'u', password: 'p' } },
  anchor: { name: 'bitcoin', network: 'bitcoin-main', rpc: { url: 'http://127.0.0.1:8332/' } },
};

function issuesOf(json: unknown): { path: string; message: string }[] {
  try {
    parseChainsConfig(json);
  } catch (e) {
    if (e instanceof ChainConfigError) return [...e.issues];
    throw e;
  }
  throw new Error('expected a ChainConfigError');
}

describe('chains.json', () => {
  test('a good file parses, with defaults filled in', () => {
    const c = parseChainsConfig(good);
    expect(c.anchor.confirmations).toBe(6);
    expect(c.anchor.rbf.bumpAfterBlocks).toBe(3);
    expect(c.anchor.address).toBe('p2wpkh');
    expect(c.records.feeFloorSatPerVb).toBe(1);
  });

  test('bad files get one readable error per problem, each with its JSON path', () => {
    const bad = {
      ...good,
      records: { ...good.records, network: 'dogecoin-main', maxDataBytes: 'big', rpc: { url: 'ftp://x' } },
      anchor: { ...good.anchor, confirmations: 0, rbf: { factor: 0.5 }, extra: 1 },
    };
    const issues = issuesOf(bad);
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['records.network', 'records.maxDataBytes', 'records.rpc.url', 'anchor.confirmations', 'anchor.rbf.factor', 'anchor']));
    expect(issues.find((i) => i.path === 'records.network')?.message).toContain('florincoin-main');
    expect(issues.find((i) => i.path === 'records.rpc.url')?.message).toContain('http');
    expect(issuesOf({ ...good, records: { ...good.records, network: 'bitcoin-main', carrier: 'flodata' } })).toEqual([{ path: 'records.carrier', message: 'floData exists only on Florincoin, not on bitcoin-main' }]);
    expect(issuesOf({ ...good, records: { ...good.records, maxDataBytes: 2000 } }).map((i) => i.path)).toEqual(['records.maxDataBytes']);
    expect(issuesOf({ ...good, format: 'chains/2' }).map((i) => i.path)).toEqual(['format']);
  });

  test('file errors name the file', () => {
    const dir = tempDir();
    const file = path.join(dir, 'chains.json');
    fs.writeFileSync(file, '{ "format": ');
    expect(() => loadChainsConfig(file)).toThrow(new RegExp(`${file}: \\(top level\\): not JSON`));
    expect(() => loadChainsConfig(path.join(dir, 'none.json'))).toThrow(/cannot read the file/);
  });

  test('invariant 5: a test-mode ledger is refused a mainnet profile, with the reason', () => {
    const c = parseChainsConfig(good);
    expect(() => assertModeAllowed('official', c)).not.toThrow();
    expect(() => assertModeAllowed('test', c)).toThrow(PublishError);
    expect(() => assertModeAllowed('test', c)).toThrow(/test-mode ledger and the records profile "florincoin" is Florincoin \(florincoin-main\), a live chain/);
    const testnets = parseChainsConfig({ ...good, records: { ...good.records, network: 'florincoin-test' }, anchor: { ...good.anchor, network: 'bitcoin-test' } });
    expect(() => assertModeAllowed('test', testnets)).not.toThrow();
    const mixed = parseChainsConfig({ ...good, records: { ...good.records, network: 'florincoin-test' } });
    expect(() => assertModeAllowed('test', mixed)).toThrow(/anchor profile "bitcoin" is Bitcoin \(bitcoin-main\)/);
  });
});

describe('offline signing (no node): Florincoin floData records and a Bitcoin anchor', () => {
  const { signer, wallet } = stationKeys(3);
  const offlineChains = parseChainsConfig({
    format: 'tallyproof-chains/1',
    records: { name: 'flo-regtest', network: 'florincoin-regtest', carrier: 'flodata', maxDataBytes: 1040, address: 'p2pkh', feeFloorSatPerVb: 2 },
    anchor: { name: 'btc-regtest', network: 'bitcoin-regtest', feeFloorSatPerVb: 3 },
  });
  let dir: string;
  let station: StationData;
  beforeAll(() => {
    dir = tempDir();
    station = new StationData(dir, signer);
  });
  afterAll(() => {
    station.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a test-mode ledger is refused before anything is signed or written', async () => {
    const tdir = tempDir();
    const t = new StationData(tdir, signer, 'test');
    t.addBatch(2);
    t.close();
    await expect(publishBatches({ dataDir: tdir, mode: 'test', chains: parseChainsConfig(good), wallet, offline: true })).rejects.toThrow(/test ballots never reach a live chain/);
    expect(fs.existsSync(publishLayout(tdir, 'test').root)).toBe(false);
  });

  test('with no coins it says which address to fund', async () => {
    station.addBatch(70);
    const r = await publishBatches({ dataDir: dir, chains: offlineChains, wallet, offline: true });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]?.kind).toBe('funds');
    expect(r.errors[0]?.message).toContain(wallet.address(NETWORKS['florincoin-regtest'], 'p2pkh'));
    expect(r.batches).toEqual([]);
  });

  test('signs from a funding file: valid floData transactions chained on one coin, an anchor committing to them, all in the signed file', async () => {
    const funding = path.join(dir, 'funding.json');
    fs.writeFileSync(
      funding,
      JSON.stringify({
        format: 'tallyproof-funding/1',
        coins: [
          { role: 'records', txid: 'aa'.repeat(32), vout: 1, valueSat: '100000000' },
          { role: 'anchor', txid: 'bb'.repeat(32), vout: 0, valueSat: '5000000' },
        ],
      }),
    );
    const r = await publishBatches({ dataDir: dir, chains: offlineChains, wallet, offline: true, fundingFile: funding });
    expect(r.errors).toEqual([]);
    expect(r.batches[0]?.state).toBe('signed');
    const signed = SignedFileSchema.parse(JSON.parse(fs.readFileSync(publishLayout(dir, 'official').signedFile(1), 'utf8')));
    const [view] = closedBatches(dir, 'official', wallet);
    if (view === undefined) throw new Error('no batch');
    const prev = wallet.outputScript(NETWORKS['florincoin-regtest'], 'p2pkh');
    const fields: Uint8Array[] = [];
    let spends = 'aa'.repeat(32);
    for (const t of signed.records.txs) {
      const tx = parseFloTx(Uint8Array.from(Buffer.from(t.hex, 'hex')));
      expect(tx.version).toBe(2);
      expect(tx.inputs[0]?.txid).toBe(spends);
      expect(verifyFloP2pkhInput(tx, 0, prev)).toBe(true);
      expect(tx.floData.length).toBeLessThanOrEqual(1040);
      fields.push(tx.floData);
      spends = t.txid;
    }
    expect(fields.flatMap((f) => unpackRecords(decodeRecordsField(f).pack).map((b) => Buffer.from(b).toString('hex')))).toEqual(view.records.map((b) => Buffer.from(b).toString('hex')));
    const anchor = Transaction.fromHex(signed.anchor.hex);
    expect(anchor.ins[0]?.sequence).toBeLessThan(0xfffffffe);
    const script = anchor.outs[0]?.script as Uint8Array;
    const { root, commitment } = decodeAnchor(script.subarray(2));
    expect(Buffer.from(root).toString('hex')).toBe(Buffer.from(view.checkpoint.root).toString('hex'));
    expect(Buffer.from(commitment).toString('hex')).toBe(Buffer.from(anchorCommitment(checkpointDigest(view.body), recordsDigest(fields))).toString('hex'));
    // fee at least the floor on the upper-bound size
    const o = publishStatus(dir);
    expect(o[0]?.anchor?.feeRate).toBeGreaterThanOrEqual(3);
  });

  test('the next batch chains its records on the last change, but needs its own anchor coin', async () => {
    station.addBatch(5);
    const r = await publishBatches({ dataDir: dir, chains: offlineChains, wallet, offline: true });
    expect(r.errors.map((e) => [e.role, e.kind])).toEqual([['anchor', 'funds']]);
    expect(r.errors[0]?.message).toContain(wallet.address(NETWORKS['bitcoin-regtest'], 'p2wpkh'));
    // nothing of batch 2 was recorded: it is signed whole or not at all
    expect(r.batches.map((b) => b.batch)).toEqual([1]);
  });

  test('the CLI: --status prints the outbox, bad chains.json exits 1 naming the JSON path', async () => {
    const status = await runCli(['publish', '--data', dir, '--status']);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { batches: { batch: number; state: string }[] };
    expect(parsed.batches.map((b) => [b.batch, b.state])).toEqual([[1, 'signed']]);
    const bad = path.join(dir, 'bad-chains.json');
    fs.writeFileSync(bad, JSON.stringify({ ...good, anchor: { ...good.anchor, confirmations: -1 } }));
    const r = await runCli(['publish', '--data', dir, '--chains', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('anchor.confirmations');
    const noChains = await runCli(['publish', '--data', dir]);
    expect(noChains.code).toBe(2);
  });
});

describe('optional dust output to each ballot address', () => {
  test("each records transaction pays dust to the printed address of every ballot in its field", async () => {
    const { signer, wallet } = stationKeys(4);
    const dir = tempDir();
    const station = new StationData(dir, signer, 'official', 5);
    try {
      station.addBatch(40);
      const xpub = HDKey.fromMasterSeed(new Uint8Array(32).fill(1), NETWORKS['florincoin-regtest'].bip32).publicExtendedKey;
      const chains = parseChainsConfig({
        format: 'tallyproof-chains/1',
        records: { name: 'flo-regtest', network: 'florincoin-regtest', carrier: 'flodata', maxDataBytes: 1040, address: 'p2pkh', dustToBallotAddress: { amountSat: 1000, xpub } },
        anchor: { name: 'btc-regtest', network: 'bitcoin-regtest' },
      });
      const funding = path.join(dir, 'funding.json');
      fs.writeFileSync(
        funding,
        JSON.stringify({
          format: 'tallyproof-funding/1',
          coins: [
            { role: 'records', txid: 'cc'.repeat(32), vout: 0, valueSat: '10000000' },
            { role: 'anchor', txid: 'dd'.repeat(32), vout: 0, valueSat: '1000000' },
          ],
        }),
      );
      const r = await publishBatches({ dataDir: dir, chains, wallet, offline: true, fundingFile: funding });
      expect(r.errors).toEqual([]);
      const signed = SignedFileSchema.parse(JSON.parse(fs.readFileSync(publishLayout(dir, 'official').signedFile(1), 'utf8')));
      const net = NETWORKS['florincoin-regtest'];
      let paid = 0;
      for (const t of signed.records.txs) {
        const tx = parseFloTx(Uint8Array.from(Buffer.from(t.hex, 'hex')));
        const records = unpackRecords(decodeRecordsField(tx.floData).pack);
        const want = records.map((rec) => deriveBallotAddress({ network: 'florincoin-regtest', xpub }, decodeRecord(rec).ballotId));
        const got = tx.outputs.slice(0, -1).map((o) => btcAddress.fromOutputScript(o.script, net));
        expect(got).toEqual(want);
        for (const o of tx.outputs.slice(0, -1)) expect(o.value).toBe(1000n);
        paid += got.length;
      }
      expect(paid).toBe(40);
    } finally {
      station.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
