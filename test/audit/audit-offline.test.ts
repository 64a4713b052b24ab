import fs from 'node:fs';
import path from 'node:path';
import { auditBundle } from '../../app/audit/audit-verify';
import { ManifestSchema, readJson } from '../../app/formats/bundle-files';
import { completeBundle } from '../../app/chain/bundle-complete';
import type { Publication } from '../../app/formats/publication-formats';
import { exportBundle } from '../../app/ledger/export';
import { decodeRecord } from '../../app/ledger/record';
import { runCli } from '../support/cli';
import { publishOffline } from './offline-publication';
import { TAMPER_CASES, failedLines, tampered } from './tamper';
import { ledgerWithBatches, tempDir } from '../ledger/fixtures';

/*
 * audit verify with no node: a publication whose blocks are mined here at Bitcoin regtest difficulty
 * (sha256d, nBits 0x207fffff), whose transactions are built byte by byte (./offline-publication.ts). The
 * regtest-node test runs the same checks against what the real publisher put on real nodes; this one keeps
 * them fast and exact.
 */

let work: string;
let bundle: string;

beforeAll(() => {
  work = tempDir('audit-offline-');
  const file = path.join(work, 'official.sqlite');
  ledgerWithBatches(file, [6, 0, 11], { signer: 3, ballots: 77 });
  bundle = path.join(work, 'bundle');
  exportBundle(file, bundle);

  const done = publishOffline(bundle);
  expect(done).toMatchObject({ publications: 2, proofs: 17 });
  expect(done.largestProofBytes).toBeLessThanOrEqual(2048);
});

afterAll(() => {
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

describe('audit verify with no node', () => {
  it('passes a completed bundle and lists what it checked', async () => {
    const r = await auditBundle(bundle);
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.check === 'publication' && c.batch === 2)?.detail).toMatch(/empty batch/);
    expect(r.checks.filter((c) => c.check === 'ots' && c.ok).map((c) => c.batch)).toEqual([1, 3]);
    const m = readJson(bundle, 'manifest.json', ManifestSchema);
    expect(m.files.filter((f) => f.path.startsWith('ots/') && f.path.endsWith('.ots'))).toHaveLength(17);
  });

  it('prints one ballot, and names a missing publication', async () => {
    const b3 = JSON.parse(fs.readFileSync(path.join(bundle, 'batches', 'batch-000003.json'), 'utf8')) as { records: { record: string }[] };
    const id = decodeRecord(Buffer.from(b3.records[5]?.record ?? '', 'hex')).ballotId;
    const out = await runCli(['audit', 'verify', '--bundle', bundle, '--ballot-id', id]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`ballot ${id}: ok`);
    expect(out.stdout).toMatch(/records tx: btc-records \w{64} \(chunk \d+, block 53\d/);
    expect(out.stdout).toMatch(/anchor tx: {2}btc-anchor \w{64} \(block 230 /);

    const copy = path.join(work, 'no-pub');
    fs.cpSync(bundle, copy, { recursive: true });
    fs.rmSync(path.join(copy, 'publication', 'batch-000003.json'));
    const r = await auditBundle(copy);
    expect(r.ok).toBe(false);
    expect(r.failures.map((f) => `${f.check} ${f.batch}: ${f.detail}`)).toEqual([
      'manifest undefined: publication/batch-000003.json: missing from the bundle',
      "publication 3: publication/batch-000003.json is missing: the batch's 11 records are not shown to be published or anchored",
    ]);
  });

  it.each(TAMPER_CASES.map((c) => [c.name, c] as const))('fails naming the check on %s', async (name, c) => {
    const b1 = JSON.parse(fs.readFileSync(path.join(bundle, 'batches', 'batch-000001.json'), 'utf8')) as { records: { record: string }[] };
    const ctx = { firstBallot: decodeRecord(Buffer.from(b1.records[0]?.record ?? '', 'hex')).ballotId, batch3Start: 6 };
    const dir = tampered(bundle, path.join(work, `tamper-${name.replace(/\W+/g, '-')}`), (d) => c.mutate(d, ctx), c.remanifest ?? true);
    const r = await auditBundle(dir);
    expect(r.ok).toBe(false);
    expect(failedLines(r).join('\n')).toMatch(c.expected(ctx));
  });

  it('fails (exit 1) on a directory that is not a bundle, naming the file', async () => {
    const none = await runCli(['audit', 'verify', '--bundle', path.join(work, 'nowhere')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no such bundle directory/);
    const empty = path.join(work, 'empty');
    fs.mkdirSync(empty);
    const r = await runCli(['audit', 'verify', '--bundle', empty, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { failures: { check: string; detail: string }[] };
    expect(report.failures.map((f) => `${f.check}: ${f.detail}`)).toEqual(['manifest: manifest.json: missing from the bundle', 'bundle: station-key.json: missing from the bundle']);
  });

  it('refuses publications that do not belong to the bundle', () => {
    const pub = JSON.parse(fs.readFileSync(path.join(bundle, 'publication', 'batch-000001.json'), 'utf8')) as Publication;
    expect(() => completeBundle(bundle, [{ ...pub, checkpointDigest: '00'.repeat(32) }])).toThrow(/checkpoint digest 0{64} is not the bundle's batch 1 checkpoint/);
    expect(() => completeBundle(bundle, [{ ...pub, batch: 9 }])).toThrow(/no checkpoint for batch 9/);
  });
});
