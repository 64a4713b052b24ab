import fs from 'node:fs';
import path from 'node:path';
import { NETWORKS } from '../../ballots/identity/networks';
import { publishLayout } from '../../app/chain/layout';
import { SignedFileSchema, publishBatches } from '../../app/chain/publish';
import type { SignedFile } from '../../app/chain/signed-qr';
import { encodeSignedTxParts, reassembleSignedTxs } from '../../app/chain/signed-qr';
import { checkpointDigest } from '../../app/ledger/checkpoint';
import { signedTxsForTape } from '../../app/reports/signed-tape';
import { runCli } from '../support/cli';
import { outputDir, rasterisePdf, zbarDecode } from '../support/ballots';
import type { RegtestNode } from '../support/litecoind';
import { startRegtestNode } from '../support/litecoind';
import { StationData, fund, regtestChains, stationKeys, tempDir } from '../chain/helpers';
import { pdfInfo, pdfText } from './fixtures';

/*
 * The paper path of a signed batch, with real parts: a station signs offline from a funding file (coins on
 * a real `litecoind -regtest`), prints the signed-transactions tape, the tape is rasterised at a thermal
 * head's 203 dpi (pdftoppm) and every code read by zbar; the scanned text is reassembled, compared byte
 * for byte with the signed file, and broadcast to the node, where the transactions sit in the mempool.
 */
jest.setTimeout(120_000);

/** the tape prints the time of the last ledger event its batch's checkpoint covers: here the close of polls */
const CLOSED_AT = '2026-11-03T21:40:12Z';
const net = NETWORKS['litecoin-regtest'];
const { signer, wallet } = stationKeys(31);

let node: RegtestNode;
let dir: string;
let chainsFile: string;
let signed: SignedFile;
let digest: string;
const out = outputDir('reports');

beforeAll(async () => {
  // one node serves both profiles (one chain, one address), as a poor man's pair of chains
  node = await startRegtestNode({ dataCarrierSize: 1100 });
  const address = wallet.address(net, 'p2wpkh');
  await fund(node, address, 2);
  dir = tempDir('tp-signed-tape-');
  const station = new StationData(dir, signer, 'official', 31);
  let closed;
  try {
    // three records fields: about 49 fixture records fit one
    closed = station.addBatch(110, (l) => l.recordEvent({ type: 'polls-closed', role: 'captain', at: CLOSED_AT, detail: {} }));
  } finally {
    station.close();
  }
  digest = Buffer.from(checkpointDigest(closed.body)).toString('hex');
  const scan = await node.rpc<{ unspents: { txid: string; vout: number; amount: number }[] }>('scantxoutset', ['start', [`addr(${address})`]]);
  expect(scan.unspents.length).toBeGreaterThanOrEqual(2);
  const coins = scan.unspents.slice(0, 2).map((u, i) => ({ role: i === 0 ? 'records' : 'anchor', txid: u.txid, vout: u.vout, valueSat: String(Math.round(u.amount * 1e8)) }));
  const funding = path.join(dir, 'funding.json');
  fs.writeFileSync(funding, JSON.stringify({ format: 'tallyproof-funding/1', coins }));
  const chains = regtestChains(node, node);
  const r = await publishBatches({ dataDir: dir, chains, wallet, offline: true, fundingFile: funding });
  expect(r.errors).toEqual([]);
  signed = SignedFileSchema.parse(JSON.parse(fs.readFileSync(publishLayout(dir, 'official').signedFile(1), 'utf8')));
  chainsFile = path.join(dir, 'chains.json');
  fs.writeFileSync(chainsFile, JSON.stringify({ format: 'tallyproof-chains/1', records: chains.records, anchor: chains.anchor }));
});

afterAll(async () => {
  await node?.destroy();
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

describe('tallyproof tape signed → scan → publish --broadcast-qr', () => {
  let scanned: string[];

  test('the tape prints the batch and every code; zbar reads every code back from a 203 dpi raster', async () => {
    const r = await runCli(['tape', 'signed', '--data', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = path.join(publishLayout(dir, 'official').signedDir, 'batch-1.pdf');
    const expected = signedTxsForTape(signed).flatMap((t) => encodeSignedTxParts(t));
    expect(signed.records.txs.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(r.stdout)).toEqual({ file, tape: 'signed', paper: 'roll80', mode: 'official', station: 'station-7', batch: 1, checkpointDigest: digest, transactions: signed.records.txs.length + 1, codes: expected.length });

    // the same input gives the same bytes
    const again = path.join(dir, 'again.pdf');
    expect((await runCli(['tape', 'signed', '--data', dir, '--batch', '1', '--out', again])).code).toBe(0);
    expect(fs.readFileSync(again).equals(fs.readFileSync(file))).toBe(true);
    fs.copyFileSync(file, path.join(out, 'signed-roll80.pdf'));

    const text = pdfText(file).join('\n');
    expect(text).toContain('SIGNED TRANSACTIONS');
    expect(text.replace(/\s+/g, ' ')).toMatch(/Printed 2026-11-03 21:40 UTC time of ledger entry \d+, polls-closed/);
    expect(text).toMatch(/Station\s+station-7/);
    expect(text).toMatch(/Batch\s+1/);
    expect(text).toContain('Test County General');
    expect(text).toContain(digest.slice(0, 8));
    expect(text.replace(/\s+/g, ' ')).toContain((digest.match(/.{8}/g) ?? []).join(' '));
    for (const t of [signed.anchor, ...signed.records.txs]) expect(text.replace(/\s+/g, ' ')).toContain((t.txid.match(/.{8}/g) ?? []).join(' '));
    expect(text).toContain('Anchor: code 1 of 1');
    expect(text).toMatch(/Records chunk 0 \(1 of \d+\): code 3 of 3/);
    // the anchor is printed first
    expect(text.indexOf('Anchor: code 1 of 1')).toBeLessThan(text.indexOf('Records chunk 0'));

    const png = tempDir('tp-signed-png-');
    try {
      const pages = rasterisePdf(file, 203, png);
      scanned = pages.flatMap((p) => zbarDecode(p));
      expect([...scanned].sort()).toEqual([...expected].sort());
      if (pages[0] !== undefined) fs.copyFileSync(pages[0], path.join(out, 'signed-roll80-203dpi.png'));
    } finally {
      fs.rmSync(png, { recursive: true, force: true });
    }
  });

  test('on letter paper the codes are read back too, with "page i of n"', async () => {
    const file = path.join(dir, 'signed-letter.pdf');
    const r = await runCli(['tape', 'signed', '--data', dir, '--paper', 'letter', '--out', file]);
    expect(r.code).toBe(0);
    const info = pdfInfo(file);
    expect(info.width).toBeCloseTo(215.9, 1);
    expect(info.pages).toBeGreaterThan(1);
    expect(pdfText(file).join('\n')).toContain(`page ${info.pages} of ${info.pages}`);
    const png = tempDir('tp-signed-png-');
    try {
      const codes = rasterisePdf(file, 150, png).flatMap((p) => zbarDecode(p));
      expect([...codes].sort()).toEqual([...scanned].sort());
    } finally {
      fs.rmSync(png, { recursive: true, force: true });
    }
  });

  test('the scanned codes reassemble into the signed file byte for byte and broadcast to the node', async () => {
    // any order, one code scanned twice, blank lines between
    const lines = [...scanned].reverse();
    lines.splice(2, 0, lines[0] as string, '');
    const scanFile = path.join(dir, 'scanned.txt');
    fs.writeFileSync(scanFile, `${lines.join('\n')}\n`);
    const txs = reassembleSignedTxs(fs.readFileSync(scanFile, 'utf8'));
    expect(txs.filter((t) => t.role === 'records').map((t) => ({ chunk: t.chunk, txid: t.txid, hex: t.hex }))).toEqual([...signed.records.txs].sort((a, b) => a.chunk - b.chunk));
    expect(txs.filter((t) => t.role === 'anchor').map((t) => [t.txid, t.hex])).toEqual([[signed.anchor.txid, signed.anchor.hex]]);

    const r = await runCli(['publish', '--data', dir, '--chains', chainsFile, '--broadcast-qr', scanFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const sent = (JSON.parse(r.stdout) as { broadcast: { role: string; txid: string; outcome: string; chunk: number | null }[] }).broadcast;
    expect(sent).toEqual([...[...signed.records.txs].sort((a, b) => a.chunk - b.chunk).map((t) => ({ role: 'records', txid: t.txid, outcome: 'sent', chunk: t.chunk })), { role: 'anchor', txid: signed.anchor.txid, outcome: 'sent', chunk: null }]);
    const mempool = await node.rpc<string[]>('getrawmempool');
    for (const t of [signed.anchor, ...signed.records.txs]) expect(mempool).toContain(t.txid);

    const twice = await runCli(['publish', '--data', dir, '--chains', chainsFile, '--broadcast-qr', scanFile]);
    expect(twice.code).toBe(0);
    expect((JSON.parse(twice.stdout) as { broadcast: { outcome: string }[] }).broadcast.map((b) => b.outcome)).toEqual(sent.map(() => 'already-known'));
  });

  test('bad scans: missing parts are named, a conflicting part and garbage refused, exit 1 and nothing sent', async () => {
    const chunk0 = [...signed.records.txs].sort((a, b) => a.chunk - b.chunk)[0] as { txid: string };
    const missing = path.join(dir, 'missing.txt');
    fs.writeFileSync(missing, scanned.filter((c) => !(c.includes(chunk0.txid.toUpperCase()) && c.includes(':2/3:'))).join('\n'));
    const m = await runCli(['publish', '--data', dir, '--chains', chainsFile, '--broadcast-qr', missing]);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(`records chunk 0 ${chunk0.txid}: missing part 2 of 3`);
    expect(m.stdout).toBe('');

    const c = scanned[0] as string;
    const conflicting = path.join(dir, 'conflict.txt');
    fs.writeFileSync(conflicting, [...scanned, `${c.slice(0, -1)}${c.endsWith('0') ? '1' : '0'}`].join('\n'));
    const x = await runCli(['publish', '--data', dir, '--chains', chainsFile, '--broadcast-qr', conflicting]);
    expect(x.code).toBe(1);
    expect(x.stderr).toMatch(new RegExp(`line ${scanned.length + 1}: part \\d+/\\d+ of [0-9a-f]{64} differs from the same part on line 1`));

    const garbage = path.join(dir, 'garbage.txt');
    fs.writeFileSync(garbage, ['hello', ...scanned].join('\n'));
    const g = await runCli(['publish', '--data', dir, '--chains', chainsFile, '--broadcast-qr', garbage]);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain('line 1: "hello" is not a signed-transaction part');

    const none = await runCli(['publish', '--data', dir, '--chains', chainsFile, '--broadcast-qr', path.join(dir, 'nope.txt')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/nope\.txt: cannot read the scanned codes/);
  });

  test('no signed file: the tape is refused, naming what to do', async () => {
    const empty = tempDir('tp-signed-none-');
    try {
      new StationData(empty, signer, 'official', 3).close();
      const r = await runCli(['tape', 'signed', '--data', empty]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/publish[/\\]signed: no signed transactions of the official ledger; sign a closed batch first with `tallyproof publish --offline`/);
      const b = await runCli(['tape', 'signed', '--data', dir, '--batch', '4']);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/batch-4\.json: batch 4 of the official ledger has no signed transactions \(signed: batch 1\)/);
      const bad = await runCli(['tape', 'signed', '--data', dir, '--batch', 'x']);
      expect(bad.code).toBe(2);
      // another station's ledger with a batch 1: this signed file does not name its checkpoint
      const other = new StationData(empty, signer, 'test', 4);
      other.addBatch(5, (l) => l.recordEvent({ type: 'software-started', role: 'system', at: CLOSED_AT, detail: {} }));
      other.close();
      const otherSigned = publishLayout(empty, 'test').signedFile(1);
      fs.mkdirSync(path.dirname(otherSigned), { recursive: true });
      fs.writeFileSync(otherSigned, JSON.stringify({ ...signed, mode: 'test' }));
      const foreign = await runCli(['tape', 'signed', '--data', empty, '--mode', 'test', '--out', path.join(empty, 'x.pdf')]);
      expect(foreign.code).toBe(1);
      expect(foreign.stderr).toMatch(/records chunk 0, 1, \d.* name checkpoint [0-9a-f]{32}…, the ledger's batch 1 is [0-9a-f]{64}: the signed file is not of this ledger/);
      expect(fs.existsSync(path.join(empty, 'x.pdf'))).toBe(false);

      // a ledger that logged no event before the batch's checkpoint has no time for the tape: refused, not "now"
      const bare = tempDir('tp-signed-bare-');
      try {
        const quiet = new StationData(bare, signer, 'test', 5);
        quiet.addBatch(5);
        quiet.close();
        const quietSigned = publishLayout(bare, 'test').signedFile(1);
        fs.mkdirSync(path.dirname(quietSigned), { recursive: true });
        fs.writeFileSync(quietSigned, JSON.stringify({ ...signed, mode: 'test' }));
        const r2 = await runCli(['tape', 'signed', '--data', bare, '--mode', 'test', '--out', path.join(bare, 'x.pdf')]);
        expect(r2.code).toBe(1);
        expect(r2.stderr).toMatch(/test\.sqlite: the test ledger records no event up to batch 1's checkpoint \(entry \d+\), so the tape has no time to print/);
        expect(fs.existsSync(path.join(bare, 'x.pdf'))).toBe(false);
      } finally {
        fs.rmSync(bare, { recursive: true, force: true });
      }
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

