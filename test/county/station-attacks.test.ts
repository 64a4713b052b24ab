import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CountyLog } from '../../app/county/log/county-log';
import { serveCountyLog, type LogServer } from '../../app/county/log/log-server';
import { ALG_ED25519, generateSigner } from '../../app/county/tlog/note';
import { MAX_EVIDENCE_PER_STATION } from '../../app/county/log/evidence';
import { makeStations, registryOf, stationEntry, type TestStation } from './support';

/**
 * What a station (or whoever holds its key, or a copy of its old ledger) can try against the county log:
 * replaying what was logged, rolling its history back, signing two histories, flooding. Each is answered
 * with a specific refusal and loses nothing; what a station key signed against itself is kept as evidence.
 */

const ORIGIN = 'county.test/attacks';
const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(12));
const stations = makeStations(3);
const [a, b] = stations as [TestStation, TestStation, TestStation];

let dir: string;
let county: CountyLog | undefined;
let server: LogServer | undefined;

function open(opts: { maxPending?: number; registry?: ReturnType<typeof registryOf>; intervalMs?: number } = {}): CountyLog {
  county = new CountyLog({ dir: path.join(dir, 'log'), origin: ORIGIN, signer: logKey, registry: opts.registry ?? registryOf(stations), witnesses: [], quorum: 0, intervalMs: opts.intervalMs ?? 5, ...(opts.maxPending === undefined ? {} : { maxPending: opts.maxPending }) });
  return county;
}

async function submitted(entry: Uint8Array): Promise<{ index: number; duplicate: boolean } | string> {
  const r = await (county as CountyLog).submit(entry);
  return r.ok ? { index: r.value.index, duplicate: r.value.duplicate } : `${r.error.kind}: ${r.error.message}`;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'county-attacks-'));
});
afterEach(async () => {
  await server?.close();
  await county?.stop();
  server = undefined;
  county = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a replayed checkpoint gets the index it was logged at and adds nothing, after later batches and after a restart of the log', async () => {
  open();
  const first = stationEntry(a, 1);
  expect(await submitted(first)).toEqual({ index: 0, duplicate: false });
  expect(await submitted(stationEntry(a, 2))).toEqual({ index: 1, duplicate: false });
  expect(await submitted(first)).toEqual({ index: 0, duplicate: true });
  await county?.stop();
  open();
  expect(await submitted(first)).toEqual({ index: 0, duplicate: true });
  expect(county?.log.size).toBe(2);
  // the same checkpoint text replayed into another election's log is refused by its election hash
  await county?.stop();
  fs.rmSync(path.join(dir, 'log'), { recursive: true });
  open({ registry: { ...registryOf(stations), election: 'cd'.repeat(32) } });
  expect(await submitted(first)).toMatch(/^wrong-election: this log takes official checkpoints of election cdcdcdcd/);
  expect(county?.log.size).toBe(0);
});

test('a rolled-back history (a smaller tree, an earlier head, a gap that does not join) is refused as a rollback and kept as evidence, also after a restart', async () => {
  open();
  expect(await submitted(stationEntry(a, 1))).toEqual({ index: 0, duplicate: false });
  expect(await submitted(stationEntry(a, 2))).toEqual({ index: 1, duplicate: false }); // tree 30, head 81
  await county?.stop();
  open(); // the history is read back from the log's own entries
  const smaller = stationEntry(a, 3, { batchStart: 30, treeSize: 25 });
  expect(await submitted(smaller)).toMatch(/^rollback: station station-001 batch 3: a tree of 25 records, smaller than batch 2's 30 already logged; kept as evidence \(evidence\/s-station-001\/rollback-batch-3-[0-9a-f]{16}\.entry\)$/);
  expect(await submitted(stationEntry(a, 3, { headSeq: 81 }))).toMatch(/^rollback: .*ledger head 81, not after batch 2's head 81/);
  expect(await submitted(stationEntry(a, 3, { batchStart: 31 }))).toMatch(/^rollback: .*starts at record 31, but batch 2 ended at 30/);
  // a batch older than one logged, larger than it: the later batch would be the rollback
  expect(await submitted(stationEntry(b, 5))).toEqual({ index: 2, duplicate: false }); // tree 60, head 201
  expect(await submitted(stationEntry(b, 4, { treeSize: 70 }))).toMatch(/^rollback: station station-002 batch 4: a tree of 70 records, larger than later batch 5's 60/);
  expect(county?.log.size).toBe(3);
  const kept = county?.evidence.list('station-001') ?? [];
  expect(kept).toHaveLength(3);
  const why = fs.readFileSync(path.join(dir, 'log', 'evidence', 's-station-001', (kept[0] as string).replace(/\.entry$/, '.why.txt')), 'utf8');
  expect(why).toMatch(/^rollback: station station-001 batch 3: /);
  expect(fs.readFileSync(path.join(dir, 'log', 'evidence', 's-station-001', kept.find((k) => k.startsWith('rollback-batch-3-')) as string))).toBeDefined();
  // an honest late batch that fits between its neighbours is no rollback
  expect(await submitted(stationEntry(a, 3))).toEqual({ index: 3, duplicate: false });
});

test('two different checkpoints for one batch: the second is refused as an equivocation and both stay readable (log + evidence), in one round or across rounds', async () => {
  open();
  const honest = stationEntry(a, 1);
  const other = stationEntry(a, 1, { rootByte: 0xee });
  // both in the same round: the first claims the batch while it waits
  const [r1, r2] = await Promise.all([submitted(honest), submitted(other)]);
  expect(r1).toEqual({ index: 0, duplicate: false });
  expect(r2).toMatch(/^equivocation: station station-001 already logged a different checkpoint for batch 1; kept as evidence/);
  // across rounds, and again (the same evidence file, not a second)
  const third = stationEntry(a, 1, { rootByte: 0xdd });
  expect(await submitted(third)).toMatch(/^equivocation: /);
  expect(await submitted(third)).toMatch(/^equivocation: /);
  expect(county?.log.size).toBe(1);
  const kept = county?.evidence.list('station-001') ?? [];
  expect(kept).toHaveLength(2);
  const evidenceDir = path.join(dir, 'log', 'evidence', 's-station-001');
  const texts = kept.map((k) => fs.readFileSync(path.join(evidenceDir, k), 'utf8'));
  expect(texts.sort()).toEqual([Buffer.from(other).toString(), Buffer.from(third).toString()].sort());
  const whys = kept.map((k) => fs.readFileSync(path.join(evidenceDir, k.replace(/\.entry$/, '.why.txt')), 'utf8'));
  expect(whys.some((w) => /at index 0\)$/m.test(w))).toBe(true);
  // a stolen key signing histories without end fills a bounded corner of the disk, and is refused each time
  for (let i = 0; i < MAX_EVIDENCE_PER_STATION + 4; i++) expect(await submitted(stationEntry(a, 1, { rootByte: 0x10 + i }))).toMatch(/^equivocation: /);
  expect(county?.evidence.list('station-001')).toHaveLength(MAX_EVIDENCE_PER_STATION);
  expect(await submitted(stationEntry(a, 1, { rootByte: 0x77 }))).not.toMatch(/kept as evidence/);
  expect(county?.log.size).toBe(1);
});

test('a flood of submissions: never more than maxPending wait (the same entry sent again counts too), the rest are told to send again, and every accepted one is answered', async () => {
  const many = makeStations(60);
  // rounds only when the test runs one: how many arrive before a round must not depend on the machine's speed
  const log = open({ maxPending: 20, registry: registryOf(many), intervalMs: 3_600_000 });
  server = await serveCountyLog(log, { port: 0, host: '127.0.0.1' });
  const url = server.url;
  // one entry sent 200 times before the round: bounded like distinct entries
  const same = stationEntry(many[0] as TestStation, 1);
  const flood = Array.from({ length: 200 }, () => log.submit(same));
  expect(log.pendingCount).toBe(20);
  await log.round();
  const settled = await Promise.all(flood);
  expect(settled.filter((r) => r.ok)).toHaveLength(20);
  expect(new Set(settled.flatMap((r) => (r.ok ? [r.value.index] : []))).size).toBe(1);
  expect(settled.every((r) => r.ok || r.error.kind === 'busy')).toBe(true);
  expect(county?.log.size).toBe(1);
  // distinct stations over HTTP, all at once
  const post = (s: TestStation): Promise<{ station: TestStation; status: number; retry: string | null; text: string }> =>
    fetch(`${url}/add-entry`, { method: 'POST', body: stationEntry(s, 1) }).then(async (r) => ({ station: s, status: r.status, retry: r.headers.get('retry-after'), text: await r.text() }));
  let answered = 0;
  const asked = many.slice(1).map((s) => post(s).finally(() => (answered += 1)));
  // every POST is either waiting for the round or answered busy, then the round integrates those waiting
  while (log.pendingCount + answered < 59) await new Promise((r) => setTimeout(r, 10));
  expect(log.pendingCount).toBe(20);
  await log.round();
  const answers = await Promise.all(asked);
  const busy = answers.filter((x) => x.status === 503);
  const accepted = answers.filter((x) => x.status === 200);
  expect(busy.length + accepted.length).toBe(59);
  expect(busy.length).toBeGreaterThan(0);
  expect(busy.every((x) => x.retry === '1' && /^busy: the log has 20 submissions waiting for its next round: send again shortly/.test(x.text))).toBe(true);
  expect(new Set(accepted.map((x) => (JSON.parse(x.text) as { index: number }).index)).size).toBe(accepted.length);
  expect(county?.log.size).toBe(1 + accepted.length);
  // those told to send again get in once the rush is over, nothing lost
  const pump = setInterval(() => void log.round(), 10);
  try {
    for (const x of busy) expect((await post(x.station)).status).toBe(200);
  } finally {
    clearInterval(pump);
  }
  expect(county?.log.size).toBe(60);
});
