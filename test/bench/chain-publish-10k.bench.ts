/**
 * A batch of 10,000 ballots published and anchored on two real `litecoind -regtest` nodes: records node
 * (-datacarriersize=1100, 1,040-byte fields as OP_RETURN) and anchor node. Publishing passes alternate with
 * one block mined on each node, as a chain would confirm them; the records chain waits at the node's
 * mempool ancestor limit (25 unconfirmed) between blocks. Reports wall time (total, signing pass), passes,
 * blocks, transactions, records per field, bytes on chain, and checks the records read back from the node;
 * then the auditor's path: `ledger export` (a .ots per ballot) and `audit verify` offline and with --rpc.
 * Baseline, same run: the time to merely verify the ledger (what every pass does first).
 *   node scripts/run-ts.js test/bench/chain-publish-10k.bench.ts [ballots=10000]
 */
import fs from 'node:fs';
import { publishLayout } from '../../app/chain/layout';
import { PublicationSchema, decodeRecordsField } from '../../app/formats/publication-formats';
import { closedBatches, publishBatches } from '../../app/chain/publish';
import { dataLayout } from '../../app/ledger/layout';
import { unpackRecords } from '../../app/ledger/record-pack';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { StationData, fund, regtestChains, stationKeys, tempDir } from '../chain/helpers';
import { auditBundle } from '../../app/audit/audit-verify';
import { runCli } from '../support/cli';
import type { RegtestNode } from '../support/litecoind';
import { startRegtestNode } from '../support/litecoind';
import { NETWORKS } from '../../ballots/identity/networks';
import { machine } from './support/machine';

const N = Number(process.argv[2] ?? 10_000);

async function main(): Promise<void> {
  const { signer, wallet } = stationKeys(5);
  const net = NETWORKS['litecoin-regtest'];
  const [rec, anc] = await Promise.all([startRegtestNode({ dataCarrierSize: 1100 }), startRegtestNode({ extraArgs: ['-mempoolreplacement=1'] })]);
  const dir = tempDir('bench-publish-');
  try {
    await Promise.all([fund(rec, wallet.address(net, 'p2wpkh')), fund(anc, wallet.address(net, 'p2wpkh'))]);
    const station = new StationData(dir, signer);
    const tLedger = Date.now();
    station.addBatch(N);
    station.close();
    const ledgerMs = Date.now() - tLedger;
    const tVerify = Date.now();
    verifyLedgerFile(dataLayout(dir).ledger('official'), {}, { keepBatches: true });
    const verifyMs = Date.now() - tVerify;

    const chains = regtestChains(rec, anc);
    const t0 = Date.now();
    let passes = 0;
    let blocks = 0;
    let firstPassMs = 0;
    let done = false;
    while (!done) {
      const tp = Date.now();
      const r = await publishBatches({ dataDir: dir, chains, wallet });
      if (passes === 0) firstPassMs = Date.now() - tp;
      passes += 1;
      if (r.errors.length > 0) throw new Error(JSON.stringify(r.errors));
      done = r.done;
      if (!done) {
        await Promise.all([rec.mine(1), anc.mine(1)]);
        blocks += 1;
      }
      if (passes > 200) throw new Error('no progress after 200 passes');
    }
    const wallMs = Date.now() - t0;

    const pub = PublicationSchema.parse(JSON.parse(fs.readFileSync(publishLayout(dir, 'official').publicationFile(1), 'utf8')));
    const [view] = closedBatches(dir, 'official', wallet);
    if (view === undefined) throw new Error('no batch');
    const perField: number[] = [];
    const onChain: string[] = [];
    let fieldBytes = 0;
    for (const t of pub.records.txs) {
      const tx = await rec.rpc<{ vout: { scriptPubKey: { hex: string } }[] }>('getrawtransaction', [t.txid, true]);
      const s = Buffer.from(tx.vout[0]?.scriptPubKey.hex ?? '', 'hex');
      const field = s[1] === 0x4d ? s.subarray(4, 4 + s.readUInt16LE(2)) : s.subarray(3, 3 + (s[2] as number));
      fieldBytes += field.length;
      const rs = unpackRecords(decodeRecordsField(field).pack);
      perField.push(rs.length);
      for (const r of rs) onChain.push(Buffer.from(r).toString('hex'));
    }
    const same = onChain.length === view.records.length && onChain.every((h, i) => h === Buffer.from(view.records[i] as Uint8Array).toString('hex'));
    const recordsTxBytes = pub.records.txs.reduce((a, t) => a + t.hex.length / 2, 0);

    // the auditor's whole path: the bundle with a .ots per ballot, then audit verify offline and against both nodes
    const bundle = `${dir}/bundle`;
    const tExport = Date.now();
    const exported = await runCli(['ledger', 'export', '--data', dir, '--out', bundle]);
    if (exported.code !== 0) throw new Error(`ledger export: ${exported.stderr}`);
    const exportMs = Date.now() - tExport;
    const tAudit = Date.now();
    const offline = await auditBundle(bundle);
    const auditOfflineMs = Date.now() - tAudit;
    const url = (n: RegtestNode) => `http://${n.rpcUser}:${n.rpcPassword}@127.0.0.1:${n.rpcPort}/`;
    const tRpc = Date.now();
    const online = await auditBundle(bundle, { rpc: [url(rec), url(anc)] });
    const auditRpcMs = Date.now() - tRpc;
    const otsFiles = fs.readdirSync(`${bundle}/ots`).filter((f) => f.endsWith('.ots')).length;
    const proofsChecked = (r: typeof offline): string[] => r.checks.filter((c) => c.ok && (c.check === 'inclusion' || c.check === 'ots')).map((c) => c.detail);
    const full = perField.slice(0, -1);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'chain-publish-10k',
        ballots: N,
        wallMs,
        firstPassMs,
        passes,
        blocksMinedPerNode: blocks,
        txs: { records: pub.records.txs.length, anchor: 1, total: pub.records.txs.length + 1 },
        recordsPerField: { min: Math.min(...full), mean: Number((N / perField.length).toFixed(2)), last: perField[perField.length - 1] },
        bytes: { recordsFields: fieldBytes, recordsTxs: recordsTxBytes, anchorTx: pub.anchor.tx.hex.length / 2, perBallotOnChain: Number(((recordsTxBytes + pub.anchor.tx.hex.length / 2) / N).toFixed(1)) },
        recordsOnChainEqualBatch: same,
        recordsBlocks: pub.records.blocks.length,
        audit: {
          exportMs,
          otsFiles,
          offline: { ms: auditOfflineMs, ok: offline.ok, failures: offline.failures.length, proofs: proofsChecked(offline) },
          rpc: { ms: auditRpcMs, ok: online.ok, failures: online.failures.length },
        },
        baseline: { ledgerBuildMs: ledgerMs, ledgerVerifyMs: verifyMs },
        budget: { anchorTxsPerCheckpoint: 1, recordsPerField: 25 },
        pass: same && Math.min(...full) >= 25 && offline.ok && online.ok && otsFiles === N,
        machine: machine(),
      })}\n`,
    );
  } finally {
    await Promise.all([rec.destroy(), anc.destroy()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
