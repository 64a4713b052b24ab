import fs from 'node:fs';
import path from 'node:path';
import type { AuditReport } from '../../app/audit/audit-verify';
import { auditBundle } from '../../app/audit/audit-verify';
import type { PendingFile } from '../../app/formats/bundle-pending';
import { pendingPath } from '../../app/formats/bundle-pending';
import { publishLayout } from '../../app/chain/layout';
import { publishBatches } from '../../app/chain/publish';
import { decodeRecord } from '../../app/ledger/record';
import { runCli } from '../support/cli';
import { StationData, regtestChains, stationKeys, tempDir } from '../chain/helpers';
import { publishOffline } from './offline-publication';
import { editJson, failedLines, tampered } from './tamper';

/*
 * Issue 13: a batch signed offline and never broadcast is the expected state of an offline station. The
 * export carries it as pending/batch-N.json with its signed transactions; `audit verify` checks those
 * against the batch, says the batch is signed and not broadcast, lists what it could not check, and passes.
 * Signed transactions that do not carry the batch still fail, and so does a batch with neither a
 * publication nor a pending statement.
 */

const { signer, wallet } = stationKeys(31);
let dir: string;
let bundle: string;
let station: StationData;

beforeAll(async () => {
  dir = tempDir('tp-pending-');
  station = new StationData(dir, signer, 'official', 37);
  station.addBatch(60);
  station.close();
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
  const report = await publishBatches({ dataDir: dir, chains: regtestChains(undefined, undefined, { records: { maxDataBytes: 400 } }), wallet, offline: true, fundingFile: funding });
  expect(report.errors).toEqual([]);
  expect(report.summary).toEqual(['batch 1: signed, not broadcast (offline): its anchor is not on any chain yet']);
  bundle = path.join(dir, 'bundle');
  const exported = await runCli(['ledger', 'export', '--data', dir, '--out', bundle]);
  expect(exported.stderr).toBe('');
  expect(JSON.parse(exported.stdout)).toMatchObject({ published: 0, pending: [{ batch: 1, state: 'signed' }], withheld: [] });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the offline state passes, said as what it is: signed, not broadcast, what was checked and what was not', async () => {
  const r = await runCli(['audit', 'verify', '--bundle', bundle]);
  expect(r.code).toBe(0);
  expect(r.stdout).not.toContain('FAIL');
  expect(r.stdout).toMatch(
    /ok {3}publication batch 1: signed, not broadcast \(offline\): its anchor is not on any chain yet; checked offline: its \d+ signed records transaction\(s\) on ltc-records hold exactly the batch's 60 records in hash order, and its signed anchor [0-9a-f]{64} on ltc-anchor commits to the checkpoint root and those records/,
  );
  for (const c of ['manifest', 'checkpoint batch 1', 'inclusion batch 1', 'tally']) expect(r.stdout).toContain(`ok   ${c}`);
  expect(r.stdout).toContain('not checked batch 1: on no chain as far as this bundle shows (signed; the station never looked at the anchor chain)');
  expect(r.stdout).toContain("not checked batch 1: the signed transactions' input signatures need the coins they spend");
  expect(r.stdout).toMatch(/audit: ok \(\d+ checks passed; 2 thing\(s\) not checked, listed above\)\n$/);
  // one ballot of the batch: found, its record shown, and said not to be on chain yet
  const first = (JSON.parse(fs.readFileSync(path.join(bundle, 'batches', 'batch-000001.json'), 'utf8')) as { records: { record: string }[] }).records[0]?.record as string;
  const serial = decodeRecord(Buffer.from(first, 'hex')).ballotId;
  const one = await runCli(['audit', 'verify', '--bundle', bundle, '--ballot-id', serial]);
  expect(one.code).toBe(0);
  expect(one.stdout).toContain(`ballot ${serial}: ok: recorded and proven in its signed batch; NOT YET ON CHAIN`);
  expect(one.stdout).toContain('  not on chain: batch 1 is not published: signed, not broadcast (offline): its anchor is not on any chain yet');
  expect(one.stdout).not.toContain('problem:');
  const json = JSON.parse((await runCli(['audit', 'verify', '--bundle', bundle, '--json'])).stdout) as AuditReport;
  expect(json.notChecked.map((n) => [n.what, n.batch])).toEqual([
    ['publication', 1],
    ['tx-signatures', 1],
  ]);
});

test('signed transactions that do not carry the batch fail, naming what is wrong', async () => {
  const pending = (d: string): string => path.join(d, pendingPath(1));
  // the anchor swapped for a records transaction: no anchor output
  const noAnchor = tampered(bundle, path.join(dir, 't-anchor'), (d) =>
    editJson<PendingFile>(pending(d), (p) => {
      const first = p.records.txs[0] as PendingFile['records']['txs'][number];
      p.anchor = { ...p.anchor, txid: first.txid, hex: first.hex };
    }),
  );
  // one records chunk left out: the signed records do not hold the batch
  const chunkGone = tampered(bundle, path.join(dir, 't-chunk'), (d) => editJson<PendingFile>(pending(d), (p) => void p.records.txs.splice(1, 1)));
  // a txid that is not its bytes' hash
  const badTxid = tampered(bundle, path.join(dir, 't-txid'), (d) => editJson<PendingFile>(pending(d), (p) => void ((p.records.txs[0] as { txid: string }).txid = 'cd'.repeat(32))));
  // neither a publication nor a pending statement: the records are not shown published (as before)
  const neither = tampered(bundle, path.join(dir, 't-none'), (d) => {
    fs.rmSync(pending(d));
    editJson<{ files: { path: string }[] }>(path.join(d, 'manifest.json'), (m) => void (m.files = m.files.filter((f) => f.path !== pendingPath(1))));
  });
  // signed for another checkpoint (a ledger rewritten after signing)
  const otherCp = tampered(bundle, path.join(dir, 't-cp'), (d) => editJson<PendingFile>(pending(d), (p) => void (p.checkpointDigest = 'ab'.repeat(32))));
  // a publication added beside the pending statement: the batch cannot be both
  const both = tampered(bundle, path.join(dir, 't-both'), () => undefined, false);
  publishOffline(both);
  const cases: [string, RegExp][] = [
    [otherCp, /^publication b1: .*: signed for checkpoint (ab){32}, the batch's checkpoint is [0-9a-f]{64}$/],
    [both, /^publication b1: publication\/batch-000001\.json and pending\/batch-000001\.json both present: the batch cannot be both published and pending$/],
    [noAnchor, /^publication b1: pending\/batch-000001\.json \(signed, not broadcast \(offline\).*\): signed anchor tx [0-9a-f]{64}: no "TPA" v1 OP_RETURN$/],
    [chunkGone, /^publication b1: .*chunk 1 of \d+ is not signed/],
    [badTxid, /^publication b1: .*signed records tx cdcd[0-9a-f]{60}: its bytes hash to [0-9a-f]{64}/],
    [neither, /^publication b1: publication\/batch-000001\.json is missing: the batch's 60 records are not shown to be published or anchored$/],
  ];
  for (const [b, want] of cases) {
    const report = await auditBundle(b);
    expect(report.ok).toBe(false);
    expect(failedLines(report)).toEqual([expect.stringMatching(want)]);
  }
});

test('export refuses, naming the file and writing nothing, when a batch the outbox holds as signed has no signed file', async () => {
  const signedFile = publishLayout(dir, 'official').signedFile(1);
  const aside = `${signedFile}.aside`;
  fs.renameSync(signedFile, aside);
  try {
    const out = path.join(dir, 'bundle-refused');
    const r = await runCli(['ledger', 'export', '--data', dir, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${signedFile}: missing; the outbox holds batch 1 as signed, and its signed transactions belong in the bundle`);
    expect(fs.existsSync(out)).toBe(false);
  } finally {
    fs.renameSync(aside, signedFile);
  }
});
