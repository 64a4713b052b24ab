import fs from 'node:fs';
import path from 'node:path';
import { NETWORKS } from '../../ballots/identity/networks';
import type { AuditReport } from '../../app/audit/audit-verify';
import { PublicationSchema } from '../../app/formats/publication-formats';
import { publishLayout } from '../../app/chain/layout';
import { unlockStationWallet } from '../../app/chain/station-wallet';
import { dataLayout } from '../../app/ledger/layout';
import { runCli } from '../support/cli';
import type { RegtestNode } from '../support/litecoind';
import { startRegtestNode } from '../support/litecoind';
import { tempDir } from '../support/ballots';
import { fund } from '../chain/helpers';
import type { Rig } from './support/rig';
import { PASSPHRASE, PINS, captainDoes, startRig, waitForStatus, writeSheets } from './support/rig';

/*
 * The captain's "publish" on the station, against two real litecoind -regtest nodes: ballots counted through
 * the scanner, polls closed, the station's own key (sealed in its data directory) signs, the records and the
 * anchor go on chain, the polls move to "published" only once both are confirmed; the auditor's bundle then
 * passes `audit verify` against the same nodes.
 */
jest.setTimeout(240_000);

const net = NETWORKS['litecoin-regtest'];
let recordsNode: RegtestNode;
let anchorNode: RegtestNode;
let rig: Rig | undefined;

beforeAll(async () => {
  [recordsNode, anchorNode] = await Promise.all([startRegtestNode({ dataCarrierSize: 1100 }), startRegtestNode({ extraArgs: ['-mempoolreplacement=1'] })]);
});

afterAll(async () => {
  await rig?.stop();
  await Promise.all([recordsNode?.destroy(), anchorNode?.destroy()]);
});

function chainsFile(dir: string): string {
  const rpc = (n: RegtestNode) => ({ url: n.rpcUrl, user: n.rpcUser, password: n.rpcPassword, retries: 1, backoffMs: 50, timeoutMs: 20_000 });
  const file = path.join(dir, 'chains.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      format: 'tallyproof-chains/1',
      records: { name: 'ltc-records', network: 'litecoin-regtest', carrier: 'op_return', maxDataBytes: 1040, address: 'p2wpkh', confirmations: 2, rpc: rpc(recordsNode) },
      anchor: { name: 'ltc-anchor', network: 'litecoin-regtest', address: 'p2wpkh', confirmations: 3, rbf: { bumpAfterBlocks: 2, factor: 2, maxSatPerVb: 50 }, rpc: rpc(anchorNode) },
    }),
  );
  return file;
}

async function captainCommand(command: 'publish'): Promise<{ ok: boolean; message: string }> {
  const station = rig!.station;
  const l = await station.login({ role: 'captain', pin: PINS.captain });
  if (!l.ok) throw new Error(l.error.message);
  const r = await station.command({ command, confirm: true });
  await station.logout();
  return r.ok ? { ok: true, message: r.value.message } : { ok: false, message: r.error.message };
}

describe('publishing from the station', () => {
  it('is refused with the reason while the station key has no coins, then publishes once funded and confirmed; the bundle audits against the nodes', async () => {
    const work = tempDir('station-publish');
    const { dir, truth } = await writeSheets([{ kind: 'normal', n: 0 }, { kind: 'normal', n: 1 }, { kind: 'undervote', n: 0 }]);
    rig = await startRig({ deck: dir, chains: chainsFile(work) });
    await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
    await waitForStatus(rig.station, (s) => s.counts.public === 3);
    await captainDoes(rig.station, 'close-polls');
    expect(rig.station.status().polls).toBe('closed');

    // nothing to spend yet: refused, and the polls stay closed
    const broke = await captainCommand('publish');
    expect(broke.ok).toBe(false);
    expect(broke.message).toMatch(/no coin of at least \d+ sat at the station's (records|anchor) address \w+ on ltc-(records|anchor)/);
    expect(rig.station.status().polls).toBe('closed');

    const wallet = unlockStationWallet(dataLayout(rig.dataDir).stationKey, PASSPHRASE);
    await Promise.all([fund(recordsNode, wallet.address(net, 'p2wpkh')), fund(anchorNode, wallet.address(net, 'p2wpkh'))]);
    const sent = await captainCommand('publish');
    expect(sent).toMatchObject({ ok: true });
    expect(sent.message).toMatch(/under way/);
    expect(rig.station.status().polls).toBe('closed');

    await Promise.all([recordsNode.mine(2), anchorNode.mine(3)]);
    const done = await captainCommand('publish');
    expect(done).toEqual({ ok: true, message: 'Published 1 batch(es).' });
    expect(rig.station.status().polls).toBe('published');

    const dataDir = rig.dataDir;
    const publication = PublicationSchema.parse(JSON.parse(fs.readFileSync(publishLayout(dataDir, 'official').publicationFile(1), 'utf8')));
    const anchorTx = await anchorNode.rpc<{ confirmations: number }>('getrawtransaction', [publication.anchor.tx.txid, true, publication.anchor.tx.blockHash]);
    expect(anchorTx.confirmations).toBeGreaterThanOrEqual(3);

    await rig.stop();
    rig = undefined;
    // the auditor's path from the station's data directory: export, then verify against both nodes
    const bundle = path.join(work, 'bundle');
    const exported = await runCli(['ledger', 'export', '--data', dataDir, '--out', bundle]);
    expect(exported.stderr).toBe('');
    expect(JSON.parse(exported.stdout)).toMatchObject({ batches: 1, records: 3, published: 1, proofs: 3 });
    const url = (n: RegtestNode) => `http://${n.rpcUser}:${n.rpcPassword}@127.0.0.1:${n.rpcPort}/`;
    const audited = await runCli(['audit', 'verify', '--bundle', bundle, '--json', '--rpc', url(recordsNode), '--rpc', url(anchorNode), '--ballot-id', truth[2]!.serial]);
    const report = JSON.parse(audited.stdout) as AuditReport;
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(audited.code).toBe(0);
    expect(report.checks.some((c) => c.check === 'records-chain' && /exactly the batch's 3 records/.test(c.detail))).toBe(true);
  });
});
