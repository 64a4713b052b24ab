import fs from 'node:fs';
import path from 'node:path';
import QRCode from 'qrcode';
import { qrSymbol } from '../../ballots/print/qr';
import { broadcastTxs } from '../../app/chain/broadcast';
import { parseChainsConfig } from '../../app/chain/chains-config';
import type { ChainsConfig } from '../../app/chain/chains-config';
import { publishLayout } from '../../app/chain/layout';
import { SignedFileSchema, publishBatches } from '../../app/chain/publish';
import type { SignedFile, SignedQrError, SignedTxForQr } from '../../app/chain/signed-qr';
import { QR_PART_MAX_BYTES, QR_PART_MAX_VERSION, encodeSignedTxParts, parseSignedTxPart, reassembleSignedTxs } from '../../app/chain/signed-qr';
import { signedTxsForTape } from '../../app/reports/signed-tape';
import { StationData, stationKeys, tempDir } from './helpers';

/*
 * The QR payload of signed transactions, on real transactions: a station signs offline (funding file, no
 * node) Litecoin-regtest OP_RETURN records and anchor, and Florincoin floData records (whose txid covers
 * the floData), and every one is split, shuffled, and put back together.
 */

function signOffline(dir: string, chains: ChainsConfig, seed: number, ballots: readonly number[]): Promise<SignedFile[]> {
  const { signer, wallet } = stationKeys(seed);
  const station = new StationData(dir, signer, 'official', seed);
  const funding = path.join(dir, 'funding.json');
  fs.writeFileSync(
    funding,
    JSON.stringify({
      format: 'tallyproof-funding/1',
      coins: [
        { role: 'records', txid: 'aa'.repeat(32), vout: 1, valueSat: '1000000000' },
        ...ballots.map((_, i) => ({ role: 'anchor', txid: (i + 1).toString(16).padStart(2, '0').repeat(32), vout: 0, valueSat: '5000000' })),
      ],
    }),
  );
  return (async () => {
    try {
      for (const n of ballots) station.addBatch(n);
      const r = await publishBatches({ dataDir: dir, chains, wallet, offline: true, fundingFile: funding });
      expect(r.errors).toEqual([]);
      return ballots.map((_, i) => SignedFileSchema.parse(JSON.parse(fs.readFileSync(publishLayout(dir, 'official').signedFile(i + 1), 'utf8'))));
    } finally {
      station.close();
    }
  })();
}

const LTC: ChainsConfig = parseChainsConfig({
  format: 'tallyproof-chains/1',
  records: { name: 'ltc', network: 'litecoin-regtest', carrier: 'op_return', maxDataBytes: 1040, address: 'p2wpkh' },
  anchor: { name: 'ltc-anchor', network: 'litecoin-regtest', address: 'p2wpkh' },
});
const FLO: ChainsConfig = parseChainsConfig({
  format: 'tallyproof-chains/1',
  records: { name: 'flo', network: 'florincoin-regtest', carrier: 'flodata', maxDataBytes: 1040, address: 'p2pkh' },
  anchor: { name: 'btc', network: 'bitcoin-regtest' },
});

/** Deterministic shuffle (the scanning order of a person with a phone). */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function issuesOf(fn: () => unknown): SignedQrError['issues'] {
  try {
    fn();
  } catch (e) {
    if ((e as Error).name === 'SignedQrError') return (e as SignedQrError).issues;
    throw e;
  }
  throw new Error('expected a SignedQrError');
}

let ltc: SignedFile[];
let flo: SignedFile;
let dirs: string[] = [];

beforeAll(async () => {
  dirs = [tempDir(), tempDir()];
  // batch sizes that need two records fields each (about 49 fixture records fit one), chunk 0 of both full
  ltc = await signOffline(dirs[0] as string, LTC, 21, [100, 60]);
  [flo] = (await signOffline(dirs[1] as string, FLO, 22, [60])) as [SignedFile];
});
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const codesOf = (s: SignedFile): string[] => signedTxsForTape(s).flatMap((t) => encodeSignedTxParts(t));

describe('signed transactions as QR parts', () => {
  test('parts in any order, re-scanned and with blank lines, give back every transaction byte for byte (OP_RETURN and floData)', () => {
    for (const signed of [ltc[0] as SignedFile, flo]) {
      const codes = codesOf(signed);
      expect(signed.records.txs.length).toBeGreaterThanOrEqual(2);
      const scanned = shuffled([...codes, codes[2] as string, codes[0] as string, '', '   '], 5).join('\r\n');
      const txs = reassembleSignedTxs(scanned);
      // records first by chunk (each spends the previous one's change), then the anchor
      expect(txs.map((t) => `${t.role}:${t.chunk}:${t.txid}:${t.hex}`)).toEqual([
        ...[...signed.records.txs].sort((a, b) => a.chunk - b.chunk).map((t) => `records:${t.chunk}:${t.txid}:${t.hex}`),
        `anchor:null:${signed.anchor.txid}:${signed.anchor.hex}`,
      ]);
      expect(new Set(txs.map((t) => t.network))).toEqual(new Set([signed.records.network, signed.anchor.network]));
    }
  });

  test('each code is alphanumeric (digit runs numeric, never byte mode) within QR version 20 at ECC M, even with the longest header', () => {
    const all = [...codesOf(ltc[0] as SignedFile), ...codesOf(flo)];
    for (const c of all) {
      expect(c).toMatch(/^[0-9A-Z $%*+\-./:]+$/);
      const qr = QRCode.create(c, { errorCorrectionLevel: 'M' });
      expect(qr.segments.filter((s) => s.mode.id !== 'Alphanumeric' && s.mode.id !== 'Numeric')).toEqual([]);
      expect(qrSymbol(c).version).toBeLessThanOrEqual(QR_PART_MAX_VERSION);
    }
    // a full-size records transaction takes 3 codes of equal size, not 2 full and a scrap
    const big = (ltc[0] as SignedFile).records.txs[0] as { hex: string; txid: string };
    const parts = encodeSignedTxParts({ network: 'litecoin-regtest', role: 'records', chunk: 0, txid: big.txid, hex: big.hex });
    expect(big.hex.length / 2).toBeGreaterThan(2 * QR_PART_MAX_BYTES);
    expect(parts).toHaveLength(3);
    const sizes = parts.map((p) => (p.split(':')[5] as string).length / 2);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    // the worst header (Florincoin regtest, chunk 65535, part 99 of 99) and the worst bytes (hex with no digit runs), a full part
    const worst: SignedTxForQr = { network: 'florincoin-regtest', role: 'records', chunk: 65535, txid: 'ab'.repeat(32), hex: 'ab'.repeat(QR_PART_MAX_BYTES * 99) };
    const w = encodeSignedTxParts(worst);
    expect(w).toHaveLength(99);
    expect((w[98] as string).length).toBe(102 + 2 * QR_PART_MAX_BYTES);
    expect(qrSymbol(w[98] as string).version).toBe(QR_PART_MAX_VERSION);
    // the part size is what version 20 holds, less a few bytes of margin: 5 bytes more no longer fit
    expect(qrSymbol(`${w[98] as string}${'AB'.repeat(5)}`).version).toBeGreaterThan(QR_PART_MAX_VERSION);
  });

  test('missing parts are named, by transaction and part number', () => {
    const signed = ltc[0] as SignedFile;
    const codes = codesOf(signed);
    const chunk0 = [...signed.records.txs].sort((a, b) => a.chunk - b.chunk)[0] as { txid: string };
    const dropped = codes.filter((c) => !(c.includes(chunk0.txid.toUpperCase()) && /:(1|3)\/3:/.test(c)));
    const issues = issuesOf(() => reassembleSignedTxs(dropped.join('\n')));
    expect(issues).toEqual([{ kind: 'missing', txid: chunk0.txid, message: `records chunk 0 ${chunk0.txid}: missing parts 1, 3 of 3` }]);
    expect(issuesOf(() => reassembleSignedTxs('\n\n'))[0]?.message).toBe('no signed-transaction part in the scanned text');
  });

  test('an anchor is refused unless every records transaction of its batch is scanned with it (it goes out only after them)', () => {
    const signed = ltc[0] as SignedFile;
    const codes = codesOf(signed);
    const n = signed.records.txs.length;
    expect(n).toBeGreaterThanOrEqual(2);
    const withoutChunk1 = codes.filter((c) => !c.includes(':R1:'));
    expect(issuesOf(() => reassembleSignedTxs(withoutChunk1.join('\n')))).toEqual([
      { kind: 'missing', txid: signed.anchor.txid, message: `anchor ${signed.anchor.txid}: it is sent only with every records transaction of its batch, and records chunk 1 of ${n} was not scanned: scan the whole tape (records already sent are recognised and not sent again)` },
    ]);
    const anchorOnly = codes.filter((c) => c.includes(':A:'));
    expect(issuesOf(() => reassembleSignedTxs(anchorOnly.join('\n')))[0]?.message).toBe(
      `anchor ${signed.anchor.txid}: it is sent only with every records transaction of its batch, and no records codes were scanned: scan the whole tape (records already sent are recognised and not sent again)`,
    );
    // records alone (no anchor) may be sent in part: they commit to nothing further
    expect(reassembleSignedTxs(codes.filter((c) => c.includes(':R0:')).join('\n')).map((t) => t.chunk)).toEqual([0]);
  });

  test('a part whose content conflicts with another scan of the same part is refused', () => {
    const codes = codesOf(ltc[0] as SignedFile);
    const c = codes[1] as string;
    const flipped = `${c.slice(0, -2)}${c.endsWith('00') ? '01' : '00'}`;
    const issues = issuesOf(() => reassembleSignedTxs([...codes, flipped].join('\n')));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.kind).toBe('conflict');
    expect(issues[0]?.message).toMatch(new RegExp(`^line ${codes.length + 1}: part \\d+/\\d+ of [0-9a-f]{64} differs from the same part on line 2$`));
  });

  test('parts of two transactions never combine: a part relabelled with another txid fails the txid check', () => {
    const [a, b] = ltc as [SignedFile, SignedFile];
    const codesA = codesOf(a);
    const codesB = codesOf(b);
    // chunk 0 of batch 2, its part 2 swapped for batch 1's chunk 0 part 2 (same role, same count)
    const b0 = codesB.filter((c) => /:R0:/.test(c));
    const a0 = codesA.filter((c) => /:R0:/.test(c));
    expect(b0).toHaveLength(a0.length);
    const bTxid = (b0[0] as string).split(':')[3] as string;
    const aPart2 = (a0[1] as string).split(':');
    aPart2[3] = bTxid;
    const mixed = [b0[0] as string, aPart2.join(':'), ...b0.slice(2)];
    const issues = issuesOf(() => reassembleSignedTxs(mixed.join('\n')));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: 'txid-mismatch', txid: bTxid.toLowerCase() });
    expect(issues[0]?.message).toMatch(/the reassembled (transaction's txid is [0-9a-f]{64}|bytes are not a transaction .*): a part was misread, altered or of another transaction/);
    // the two batches' parts together: each transaction whole, but records of two checkpoints cannot be ordered
    const both = issuesOf(() => reassembleSignedTxs([...codesA, ...codesB].join('\n')));
    expect(both.map((i) => i.kind)).toEqual(['conflict']);
    expect(both[0]?.message).toMatch(/the parts hold records of 2 batches .*scan one batch's tape per file/);
  });

  test("a tampered byte: the txid no longer matches; an anchor's parts labelled records: role mismatch", () => {
    const signed = ltc[1] as SignedFile;
    const codes = codesOf(signed);
    const anchor = codes.find((c) => c.includes(':A:')) as string;
    // a byte of the first input's outpoint: the txid covers it (a segwit witness is not covered, the node's signature check is)
    const at = anchor.indexOf(':1/1:') + 5 + 30;
    const tampered = anchor.slice(0, at) + (anchor[at] === 'F' ? 'E' : 'F') + anchor.slice(at + 1);
    const t = issuesOf(() => reassembleSignedTxs(tampered));
    expect(t).toEqual([{ kind: 'txid-mismatch', txid: signed.anchor.txid, message: expect.stringMatching(new RegExp(`^anchor ${signed.anchor.txid}: the reassembled transaction's txid is (?!${signed.anchor.txid})[0-9a-f]{64}: a part was misread, altered or of another transaction$`)) }]);
    const relabelled = anchor.replace(':A:', ':R0:');
    expect(issuesOf(() => reassembleSignedTxs(relabelled))).toEqual([{ kind: 'role-mismatch', txid: signed.anchor.txid, message: `records chunk 0 ${signed.anchor.txid}: the transaction carries no Tallyproof records field of chunk 0` }]);
    // a records transaction labelled as another chunk
    const r1 = codes.filter((c) => c.includes(':R1:')).map((c) => c.replace(':R1:', ':R0:'));
    expect(issuesOf(() => reassembleSignedTxs(r1.join('\n')))[0]?.message).toMatch(/no Tallyproof records field of chunk 0 \(it carries chunk 1\)/);
  });

  test('transactions of another network than the profile are refused before any node is asked', async () => {
    const txs = reassembleSignedTxs(codesOf(ltc[1] as SignedFile).join('\n'));
    const groups = [{ role: 'records' as const, network: 'litecoin-regtest', txs: txs.filter((t) => t.role === 'records') }];
    await expect(broadcastTxs(groups, FLO, 'scanned.txt')).rejects.toThrow('scanned.txt: the records transactions are for litecoin-regtest, the records profile "flo" is florincoin-regtest');
  });

  test('garbage lines are refused with their line number; every problem is reported at once', () => {
    const codes = codesOf(ltc[1] as SignedFile);
    const text = ['https://example.com/not-ours', ...codes, 'TPS1:LITECOIN-REGTEST:A:1234:1/1:00', 'TPS1:DOGECOIN:A:' + 'A'.repeat(64) + ':1/1:00', 'TPS1:LITECOIN-REGTEST:A:' + 'A'.repeat(64) + ':3/2:00', 'TPS1:LITECOIN-REGTEST:A:' + 'A'.repeat(64) + ':1/1:0'].join('\n');
    const issues = issuesOf(() => reassembleSignedTxs(text));
    const n = codes.length;
    expect(issues.map((i) => [i.kind, i.line])).toEqual([
      ['garbled', 1],
      ['garbled', n + 2],
      ['garbled', n + 3],
      ['garbled', n + 4],
      ['garbled', n + 5],
    ]);
    expect(issues[0]?.message).toBe('line 1: "https://example.com/not-ours" is not a signed-transaction part (they start "TPS1:")');
    expect(issues[1]?.message).toMatch(/^line \d+: "TPS1:LITECOIN-REGTEST:A:1234:1\/1:00" is not a well-formed TPS1 part/);
    expect(issues[2]?.message).toMatch(/network: Invalid option/);
    expect(issues[3]?.message).toMatch(/index: the part number is above the part count/);
    expect(issues[4]?.message).toMatch(/hex: a whole number of bytes of hex/);
    expect(() => parseSignedTxPart('tps1:litecoin-regtest')).toThrow(/is not a signed-transaction part/);
  });
});
