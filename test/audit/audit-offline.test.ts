import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { auditBundle } from '../../app/chain/audit-verify';
import { parseTx } from '../../app/chain/audit-tx';
import { blockMerkleRoot, displayFromInternal, sha256d } from '../../app/chain/block-proof';
import { completeBundle } from '../../app/chain/bundle-complete';
import { ManifestSchema, readJson } from '../../app/chain/bundle-files';
import type { CarriedBlock, Publication } from '../../app/chain/formats';
import { RECORDS_HEADER_BYTES, anchorCommitment, encodeAnchor, encodeRecordsField, recordsDigest } from '../../app/chain/formats';
import { checkpointDigest } from '../../app/ledger/checkpoint';
import { exportBundle } from '../../app/ledger/export';
import { Ledger } from '../../app/ledger/ledger';
import { decodeRecord } from '../../app/ledger/record';
import { packRecords } from '../../app/ledger/record-pack';
import { runCli } from '../support/cli';
import { mineHeader } from './regtest-header';
import { TAMPER_CASES, failedLines, tampered } from './tamper';
import { genesisFor, mulberry32, randomCapture, tempDir, testSigner } from '../ledger/fixtures';

/*
 * audit verify with no node: a publication whose blocks are mined here at Bitcoin regtest difficulty
 * (sha256d, nBits 0x207fffff), whose transactions are built byte by byte. The regtest-node test runs the
 * same checks against what the real publisher put on real nodes; this one keeps them fast and exact.
 */

const BITCOIN_REGTEST_GENESIS = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206';

function push(data: Uint8Array): Buffer {
  if (data.length <= 75) return Buffer.concat([Buffer.from([data.length]), data]);
  if (data.length <= 255) return Buffer.concat([Buffer.from([0x4c, data.length]), data]);
  return Buffer.concat([Buffer.from([0x4d, data.length & 0xff, data.length >> 8]), data]);
}

function compact(n: number): Buffer {
  return n < 0xfd ? Buffer.from([n]) : Buffer.from([0xfd, n & 0xff, n >> 8]);
}

/** One input, an OP_RETURN carrying `data`, a change output; segwit with a dummy witness. */
function dataTx(data: Uint8Array): { txid: string; hex: string } {
  const script = Buffer.concat([Buffer.from([0x6a]), push(data)]);
  const opReturn = Buffer.concat([Buffer.alloc(8), compact(script.length), script]);
  const change = Buffer.concat([Buffer.from('a086010000000000', 'hex'), Buffer.from([22, 0x00, 0x14]), crypto.randomBytes(20)]);
  const input = Buffer.concat([crypto.randomBytes(32), Buffer.alloc(4), Buffer.from([0]), Buffer.from('fdffffff', 'hex')]);
  const witness = Buffer.concat([Buffer.from([2, 71]), crypto.randomBytes(71), Buffer.from([33]), crypto.randomBytes(33)]);
  const hex = Buffer.concat([Buffer.from('020000000001', 'hex'), Buffer.from([1]), input, Buffer.from([2]), opReturn, change, witness, Buffer.alloc(4)]).toString('hex');
  return { txid: parseTx(hex, { floData: false }).txid, hex };
}

/** A chain from height `from`: first a block holding `txs` (after a coinbase stand-in), then `after` empty blocks. */
function minedChain(from: number, txs: readonly string[], after: number) {
  let prev: Uint8Array = crypto.randomBytes(32);
  const txids = [displayFromInternal(crypto.randomBytes(32)), ...txs];
  const header = mineHeader(prev, blockMerkleRoot(txids.map((t) => Buffer.from(t, 'hex').reverse())), 1_700_000_000);
  prev = sha256d(header);
  const block: CarriedBlock = { hash: displayFromInternal(prev), height: from, header: header.toString('hex'), txids };
  const headersAfter: { height: number; header: string }[] = [];
  for (let i = 1; i <= after; i++) {
    const h = mineHeader(prev, crypto.randomBytes(32), 1_700_000_000 + i);
    prev = sha256d(h);
    headersAfter.push({ height: from + i, header: h.toString('hex') });
  }
  return { block, headersAfter };
}

let work: string;
let bundle: string;

beforeAll(() => {
  work = tempDir('audit-offline-');
  const file = path.join(work, 'official.sqlite');
  const signer = testSigner(3);
  const l = Ledger.create(file, genesisFor('official', signer));
  const rand = mulberry32(77);
  for (const n of [6, 0, 11]) {
    for (let i = 0; i < n; i++) {
      const p = l.appendPending(randomCapture(rand));
      if (!p.ok) throw new Error('append refused');
      l.confirmCast(p.value.seq);
    }
    if (!l.closeBatch(signer).ok) throw new Error('close refused');
  }
  l.close();
  bundle = path.join(work, 'bundle');
  exportBundle(file, bundle);

  const cps = JSON.parse(fs.readFileSync(path.join(bundle, 'checkpoints.json'), 'utf8')) as { batch: number; file: string; root: string }[];
  const pubs: Publication[] = [];
  for (const cp of cps) {
    const b = JSON.parse(fs.readFileSync(path.join(bundle, 'batches', `batch-${String(cp.batch).padStart(6, '0')}.json`), 'utf8')) as { records: { record: string }[] };
    if (b.records.length === 0) continue;
    const digest = checkpointDigest(fs.readFileSync(path.join(bundle, cp.file), 'utf8'));
    const packs = packRecords(
      b.records.map((r) => Buffer.from(r.record, 'hex')),
      180 - RECORDS_HEADER_BYTES,
    );
    const fields = packs.map((p, i) => encodeRecordsField(digest, i, packs.length, p));
    const recTxs = fields.map(dataTx);
    const anchor = dataTx(encodeAnchor(Buffer.from(cp.root, 'hex'), anchorCommitment(digest, recordsDigest(fields))));
    const rc = minedChain(500 + cp.batch * 10, recTxs.map((t) => t.txid), 1);
    const ac = minedChain(200 + cp.batch * 10, [anchor.txid], 5);
    const common = { network: 'bitcoin-regtest', genesisHash: BITCOIN_REGTEST_GENESIS };
    pubs.push({
      format: 'tallyproof-publication/1',
      batch: cp.batch,
      checkpointDigest: Buffer.from(digest).toString('hex'),
      records: { chain: 'btc-records', ...common, blocks: [rc.block], headersAfter: rc.headersAfter, carrier: 'op_return', txs: recTxs.map((t, i) => ({ ...t, blockHash: rc.block.hash, chunk: i })) },
      anchor: { chain: 'btc-anchor', ...common, blocks: [ac.block], headersAfter: ac.headersAfter, tx: { ...anchor, blockHash: ac.block.hash }, confirmations: 6 },
    });
  }
  const done = completeBundle(bundle, pubs);
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
