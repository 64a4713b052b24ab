import { formatTlogProof, parseTlogProof, TLOG_PROOF_HEADER } from '../../app/county/tlog/proof';
import { verifyTlogProof } from '../../app/county/client/tlog-proof-verify';
import { TileLog } from '../../app/county/log/tile-log';
import { ALG_COSIGNATURE_V1, ALG_ED25519, generateSigner, signNote } from '../../app/county/tlog/note';
import { TlogError } from '../../app/county/tlog/stored-hashes';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ORIGIN = 'county.test/proofs';
const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(61));
const witnesses = [1, 2, 3].map((i) => generateSigner(`w${i}.test`, ALG_COSIGNATURE_V1, new Uint8Array(32).fill(70 + i)));
const entry = (i: number): Uint8Array => Buffer.from(`station checkpoint ${i}\n`);

let dir: string;
let log: TileLog;
let cosigned: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlog-proof-'));
  log = TileLog.open(dir, ORIGIN, logKey);
  await log.append(Array.from({ length: 300 }, (_, i) => entry(i)));
  const text = log.staged.slice(0, log.staged.indexOf('\n\n') + 1);
  // the witnesses' lines after the log's, as the log publishes them
  const w = signNote(text, witnesses, [], 1_800_000_000n);
  cosigned = `${log.staged}${w.slice(text.length + 1)}`;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const trust = { log: logKey, witnesses, quorum: 2 };

test('a proof file in the C2SP layout verifies offline for its entry, and round-trips', () => {
  const text = formatTlogProof({ extra: Buffer.from('batch 3'), index: 257, proof: log.inclusionProof(257), note: cosigned });
  expect(text.startsWith(`${TLOG_PROOF_HEADER}\nextra YmF0Y2ggMw==\nindex 257\n`)).toBe(true);
  const ok = verifyTlogProof(text, entry(257), trust);
  expect(ok).not.toBeInstanceOf(TlogError);
  const parsed = parseTlogProof(text);
  if (parsed instanceof TlogError) throw parsed;
  expect(formatTlogProof(parsed)).toBe(text);
});

test('another entry, another index, a bent hash, too few cosignatures or a foreign log fail, each saying why', () => {
  const text = formatTlogProof({ index: 10, proof: log.inclusionProof(10), note: cosigned });
  expect((verifyTlogProof(text, entry(11), trust) as TlogError).message).toMatch(/not at index 10/);
  expect((verifyTlogProof(text.replace('index 10', 'index 11'), entry(10), trust) as TlogError).message).toMatch(/not at index 11/);
  const lines = text.split('\n');
  const bent = Buffer.from(lines[2] as string, 'base64');
  bent.writeUInt8(bent.readUInt8(0) ^ 1, 0);
  lines[2] = bent.toString('base64');
  expect(verifyTlogProof(lines.join('\n'), entry(10), trust)).toBeInstanceOf(TlogError);
  expect((verifyTlogProof(formatTlogProof({ index: 10, proof: log.inclusionProof(10), note: log.staged }), entry(10), trust) as TlogError).message).toMatch(/policy needs 2/);
  const foreign = generateSigner('elsewhere.test/log', ALG_ED25519, new Uint8Array(32).fill(9));
  expect((verifyTlogProof(text, entry(10), { ...trust, log: foreign }) as TlogError).message).toMatch(/log's signature/);
  expect((verifyTlogProof(text.replace('index 10', 'index 300'), entry(10), trust) as TlogError).message).toMatch(/beyond the checkpoint/);
  for (const bad of ['', 'c2sp.org/tlog-proof@v2\nindex 1\n\nx', `${TLOG_PROOF_HEADER}\nindex 01\n\nx`, `${TLOG_PROOF_HEADER}\nextra !!\nindex 1\n\nx`, `${TLOG_PROOF_HEADER}\nindex 1\nnot-a-hash\n\nx`]) {
    expect(parseTlogProof(bad)).toBeInstanceOf(TlogError);
  }
});
