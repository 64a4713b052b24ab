import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addCheckpoint, type WitnessIdentity } from '../../app/county/witness/add-checkpoint';
import { WitnessDb } from '../../app/county/witness/witness-db';
import { TileLog } from '../../app/county/log/tile-log';
import { ALG_COSIGNATURE_V1, ALG_ED25519, cosignatureTime, generateSigner, openNote } from '../../app/county/tlog/note';
import { TlogError } from '../../app/county/tlog/stored-hashes';

const ORIGIN = 'county.test/log';
const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(5));
const otherKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(6));
const witnessKey = generateSigner('observer.test/w1', ALG_COSIGNATURE_V1, new Uint8Array(32).fill(8));
const identity: WitnessIdentity = { signers: [witnessKey], logs: [{ origin: ORIGIN, keys: [logKey] }], now: () => 1_800_000_000n };
const entry = (i: number): Uint8Array => Buffer.from(`entry ${i}\n`);
const b64 = (h: Uint8Array): string => Buffer.from(h).toString('base64');

let dir: string;
let db: WitnessDb;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'witness-'));
  db = new WitnessDb(path.join(dir, 'witness.sqlite'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function request(oldSize: number, proof: Uint8Array[], note: string): string {
  return `old ${oldSize}\n${proof.map((h) => `${b64(h)}\n`).join('')}\n${note}`;
}

async function growLog(name: string, sizes: number[], key = logKey): Promise<{ log: TileLog; notes: Map<number, string> }> {
  const log = TileLog.open(path.join(dir, name), ORIGIN, key);
  const notes = new Map<number, string>();
  for (const size of sizes) {
    const from = log.size;
    await log.append(Array.from({ length: size - from }, (_, i) => entry(from + i)));
    notes.set(size, log.staged);
  }
  return { log, notes };
}

test('a first checkpoint from old 0, then a consistent one, are cosigned; the cosignature verifies over the checkpoint', async () => {
  const { log, notes } = await growLog('a', [10, 25]);
  const first = addCheckpoint(identity, db, request(0, [], notes.get(10) as string));
  expect(first.status).toBe(200);
  const second = addCheckpoint(identity, db, request(10, log.consistencyProof(10, 25), notes.get(25) as string));
  expect(second.status).toBe(200);
  const cosigned = `${notes.get(25) as string}${second.body}`;
  const opened = openNote(cosigned, [witnessKey]);
  if (opened instanceof TlogError) throw opened;
  expect(cosignatureTime(opened.verified[0] as (typeof opened.verified)[number])).toBe(1_800_000_000n);
  expect(db.latest(ORIGIN)?.size).toBe(25);
});

test('an old size that is not the one the witness holds gets 409 with the size it holds', async () => {
  const { log, notes } = await growLog('a', [10, 25]);
  expect(addCheckpoint(identity, db, request(0, [], notes.get(10) as string)).status).toBe(200);
  const stale = addCheckpoint(identity, db, request(0, [], notes.get(25) as string));
  expect(stale).toEqual({ status: 409, contentType: 'text/x.tlog.size', body: '10\n' });
  expect(addCheckpoint(identity, db, request(10, log.consistencyProof(10, 25), notes.get(25) as string)).status).toBe(200);
  // rolling the witness back to a smaller tree is refused the same way
  expect(addCheckpoint(identity, db, request(25, [], notes.get(10) as string)).status).toBe(400);
  expect(addCheckpoint(identity, db, request(10, [], notes.get(10) as string))).toMatchObject({ status: 409, body: '25\n' });
});

test('a split view (another tree of a size the witness cosigned) is refused with 422 and kept as evidence', async () => {
  const honest = await growLog('honest', [10, 20]);
  expect(addCheckpoint(identity, db, request(0, [], honest.notes.get(10) as string)).status).toBe(200);
  // the log signs a second history that shares no prefix with the first
  const forkLog = TileLog.open(path.join(dir, 'fork'), ORIGIN, logKey);
  await forkLog.append(Array.from({ length: 20 }, (_, i) => Buffer.from(`forged ${i}\n`)));
  const fork = addCheckpoint(identity, db, request(10, forkLog.consistencyProof(10, 20), forkLog.staged));
  expect(fork.status).toBe(422);
  const sameSize = TileLog.open(path.join(dir, 'same'), ORIGIN, logKey);
  await sameSize.append(Array.from({ length: 10 }, (_, i) => Buffer.from(`other ${i}\n`)));
  expect(addCheckpoint(identity, db, request(10, [], sameSize.staged)).body).toMatch(/split view/);
  expect(db.refusals(ORIGIN)).toHaveLength(2);
  expect(db.latest(ORIGIN)?.size).toBe(10);
});

test('a bent proof, a proof from 0, a wrong key, an unknown log and garbage are each refused with the spec\'s status', async () => {
  const { log, notes } = await growLog('a', [10, 25]);
  expect(addCheckpoint(identity, db, request(0, [], notes.get(10) as string)).status).toBe(200);
  const proof = log.consistencyProof(10, 25);
  const bent = proof.map((h, i) => (i === 0 ? Uint8Array.from(h, (b, j) => (j === 0 ? b ^ 1 : b)) : h));
  expect(addCheckpoint(identity, db, request(10, bent, notes.get(25) as string)).status).toBe(422);
  const withProofFromZero = new WitnessDb(path.join(dir, 'fresh.sqlite'));
  expect(addCheckpoint(identity, withProofFromZero, request(0, proof, notes.get(25) as string)).status).toBe(422);
  withProofFromZero.close();
  const forged = await growLog('forged', [25], otherKey);
  expect(addCheckpoint(identity, db, request(10, proof, forged.notes.get(25) as string)).status).toBe(403);
  const elsewhere: WitnessIdentity = { ...identity, logs: [{ origin: 'another.test/log', keys: [logKey] }] };
  expect(addCheckpoint(elsewhere, db, request(10, proof, notes.get(25) as string)).status).toBe(404);
  for (const garbage of ['', 'old 1\n', 'old -1\n\nx\n', `old 01\n\n${notes.get(25) as string}`, `old 10\nnot-base64\n\n${notes.get(25) as string}`]) {
    expect(addCheckpoint(identity, db, garbage).status).toBe(400);
  }
  expect(addCheckpoint(identity, db, request(10, Array.from({ length: 64 }, () => new Uint8Array(32)), notes.get(25) as string)).status).toBe(400);
  expect(db.latest(ORIGIN)?.size).toBe(10);
});

test('two witness processes racing on one state: only one of two different next checkpoints is cosigned', async () => {
  const { log, notes } = await growLog('a', [10, 20, 30]);
  expect(addCheckpoint(identity, db, request(0, [], notes.get(10) as string)).status).toBe(200);
  const second = new WitnessDb(path.join(dir, 'witness.sqlite'));
  // both read old size 10 before either writes: the compare-and-set lets only the first through
  const a = db.compareAndSet(ORIGIN, 10, { size: 20, root: new Uint8Array(32) }, 'a');
  const b = second.compareAndSet(ORIGIN, 10, { size: 30, root: new Uint8Array(32) }, 'b');
  expect(a).toEqual({ ok: true });
  expect(b).toEqual({ ok: false, size: 20 });
  second.close();
  expect(log.size).toBe(30);
});
