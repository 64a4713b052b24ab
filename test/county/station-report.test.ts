import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { formatStationEntry, type StationRegistry } from '../../app/county/log/station-entry';
import { verifyTlogProof } from '../../app/county/client/tlog-proof-verify';
import { formatVerifierKey } from '../../app/county/tlog/note';
import { CountyReporter, SENDING, type SignedStationCheckpoint } from '../../app/county/report/station-reporter';
import { countyReportSettings, type CountyReportSettings } from '../../app/county/report/report-settings';
import { Ledger } from '../../app/ledger/ledger';
import { dataLayout } from '../../app/ledger/layout';
import { loadStationConfig } from '../../app/station/station-config';
import { tempDir } from '../support/ballots';
import { ELECTION, PASSPHRASE, PRECINCT, captainDoes, startRig, waitForStatus, type Rig } from '../station/support/rig';
import { makeStations, registryOf, stationEntry, type TestStation } from './support';
import { ORIGIN, deadPort, electionHashOf, logKey, settingsFor, startCounty as startCountyLog, stationWithKey as stationDataWithKey, witnessKey, type RunningCounty } from './station-support';

/**
 * A station reporting to the county log over the network (issue 16 item 4): the checkpoint it signs at the
 * close of the polls goes to `POST /add-entry`, the answer and then the proof of inclusion are checked and
 * kept, the ledger is the queue (a restart, the network down, the log busy lose nothing), and the staff
 * status says how far it got.
 */

jest.setTimeout(120_000);

const electionHash = electionHashOf(ELECTION);

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function startCounty(dir: string, registry: StationRegistry, port = 0): Promise<RunningCounty> {
  const c = await startCountyLog(dir, registry, port);
  cleanup.push(() => c.stop());
  return c;
}

function stationWithKey(): { dataDir: string; registry: StationRegistry } {
  const { dataDir, station } = stationDataWithKey(`station-${PRECINCT}`, PASSPHRASE);
  return { dataDir, registry: { format: 'tallyproof-county-stations/1', election: electionHash, mode: 'official', stations: [station] } };
}

async function rig(dataDir: string, county: CountyReportSettings): Promise<Rig> {
  const r = await startRig({ deck: [], dataDir, county });
  cleanup.push(() => r.stop());
  return r;
}

test("the checkpoint signed at the close of the polls reaches the county log; the answer and the proof are checked and kept; the staff status counts them", async () => {
  const { dataDir, registry } = stationWithKey();
  const { county, server } = await startCounty(tempDir('county-log'), registry);
  const r = await rig(dataDir, settingsFor(server.url));
  expect(r.station.status().county).toEqual({ log: ORIGIN, total: 0, reported: 0, proven: 0, waiting: null });
  await captainDoes(r.station, 'print-zero-tape', 'open-polls', 'close-polls');
  const s = await waitForStatus(r.station, (x) => x.county?.proven === 1);
  expect(s.county).toEqual({ log: ORIGIN, total: 1, reported: 1, proven: 1, waiting: null });
  expect(county.log.size).toBe(1);
  // what the station kept stands on its own: its entry, rebuilt from the ledger, is in the witnessed tree
  const receipts = JSON.parse(fs.readFileSync(path.join(dataDir, 'county', 'receipts-county.test_report.json'), 'utf8')) as { receipts: { batch: number; index: number; tlogProof: string }[] };
  expect(receipts.receipts).toHaveLength(1);
  const ledger = Ledger.open(dataLayout(dataDir).ledger('official'));
  const [cp] = ledger.signedCheckpoints();
  ledger.close();
  const entry = formatStationEntry((cp as SignedStationCheckpoint).body, (cp as SignedStationCheckpoint).signature);
  const verified = verifyTlogProof((receipts.receipts[0] as { tlogProof: string }).tlogProof, entry, settingsFor(server.url).trust);
  expect(verified).not.toBeInstanceOf(Error);
  expect(fs.statSync(path.join(dataDir, 'county', 'receipts-county.test_report.json')).mode & 0o077).toBe(0);
});

test('the county log is down when the polls close: the station says so and keeps trying; after a restart the ledger is still the queue and the report goes through once the log is up', async () => {
  const { dataDir, registry } = stationWithKey();
  const port = await deadPort();
  const first = await rig(dataDir, settingsFor(`http://127.0.0.1:${port}`));
  await captainDoes(first.station, 'print-zero-tape', 'open-polls', 'close-polls');
  // (the status said "sending" first: the pass's finding is what this waits for)
  const down = await waitForStatus(first.station, (x) => x.county?.total === 1 && x.county.waiting !== null && x.county.waiting !== SENDING);
  expect(down.county).toMatchObject({ total: 1, reported: 0, proven: 0, waiting: expect.stringMatching(/^batch 1: the county log cannot be reached \(ECONNREFUSED\); the station keeps trying$/) });
  await first.stop();
  // nothing but the ledger remembers the checkpoint: no receipts file was written
  expect(fs.existsSync(path.join(dataDir, 'county'))).toBe(false);
  const { county } = await startCounty(tempDir('county-log'), registry, port);
  const again = await rig(dataDir, settingsFor(`http://127.0.0.1:${port}`));
  const s = await waitForStatus(again.station, (x) => x.county?.proven === 1);
  expect(s.county).toMatchObject({ total: 1, reported: 1, proven: 1, waiting: null });
  expect(county.log.size).toBe(1);
});

describe('the reporter on its own (no station): waits, answers, refusals', () => {
  const [st] = makeStations(1) as [TestStation];
  const entryOf = (batch: number): SignedStationCheckpoint => {
    const text = Buffer.from(stationEntry(st, batch)).toString();
    const m = /^([\s\S]*\n)signature ([0-9a-f]{128})\n$/.exec(text) as RegExpExecArray;
    return { batch, body: m[1] as string, signature: new Uint8Array(Buffer.from(m[2] as string, 'hex')) };
  };

  function reporter(url: string, checkpoints: SignedStationCheckpoint[], waits: number[], dataDir = tempDir('county-reporter')): CountyReporter {
    const r = new CountyReporter({ settings: settingsFor(url), dataDir, checkpoints: () => checkpoints, retry: { firstMs: 1000, maxMs: 8000 }, timer: (_fn, ms) => (waits.push(ms), () => undefined) });
    cleanup.push(() => r.stop());
    return r;
  }

  test('with the network down each pass waits twice as long as the last, up to the limit; the first answer starts the waits over', async () => {
    const port = await deadPort();
    const waits: number[] = [];
    const dataDir = tempDir('county-reporter');
    const r = reporter(`http://127.0.0.1:${port}`, [entryOf(1), entryOf(2)], waits, dataDir);
    for (let i = 0; i < 5; i++) await r.pass();
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(r.status()).toMatchObject({ total: 2, reported: 0, waiting: expect.stringMatching(/^batch 2: the county log cannot be reached/) });
    const { county } = await startCounty(tempDir('county-log'), registryOf([st]), port);
    await r.pass();
    expect(r.status()).toMatchObject({ total: 2, reported: 2 });
    expect(waits[waits.length - 1]).toBe(1000);
    // the witnessed checkpoint follows the round: the proofs come on a later pass, and nothing is sent twice
    while (r.status().proven < 2) await r.pass();
    expect(r.status().waiting).toBeNull();
    expect(county.log.size).toBe(2);
    const passes = waits.length;
    await r.pass();
    expect(waits).toHaveLength(passes); // all proven: no further pass is planned
  });

  test('stopping (the station shutting down) cuts short a request the log never answers, for the submission and for the proof', async () => {
    const hang = http.createServer(() => undefined);
    await new Promise<void>((ok) => hang.listen(0, '127.0.0.1', ok));
    cleanup.push(() => new Promise<void>((ok) => (hang.closeAllConnections(), hang.close(() => ok()))));
    const url = `http://127.0.0.1:${(hang.address() as { port: number }).port}`;
    // the submission hangs
    const r1 = new CountyReporter({ settings: settingsFor(url), dataDir: tempDir('county-reporter'), checkpoints: () => [entryOf(1)], requestTimeoutMs: 3_600_000, timer: () => () => undefined });
    const pass1 = r1.pass();
    await r1.stop();
    await pass1;
    expect(r1.status().reported).toBe(0);
    // the proof hangs: a receipt is there already, the log's checkpoint never comes
    const dataDir = tempDir('county-reporter');
    fs.mkdirSync(path.join(dataDir, 'county'));
    const e = formatStationEntry(entryOf(1).body, entryOf(1).signature);
    const hash = createHash('sha256').update(e).digest('hex');
    fs.writeFileSync(path.join(dataDir, 'county', 'receipts-county.test_report.json'), JSON.stringify({ format: 'tallyproof-county-receipts/1', log: ORIGIN, receipts: [{ batch: 1, entry: hash, index: 0, answeredAt: '2026-11-03T20:00:00.000Z', tlogProof: null }] }));
    const r2 = new CountyReporter({ settings: settingsFor(url), dataDir, checkpoints: () => [entryOf(1)], requestTimeoutMs: 3_600_000, timer: () => () => undefined });
    expect(r2.status()).toMatchObject({ reported: 1, proven: 0 });
    const pass2 = r2.pass();
    await r2.stop();
    await pass2;
    expect(r2.status()).toMatchObject({ reported: 1, proven: 0 });
  });

  test('a checkpoint signed since the last pass is on the staff screen at once, said to be in flight, not once the log has answered', async () => {
    // a log that takes the submission and does not answer (its round is slow, or it hangs)
    const hang = http.createServer(() => undefined);
    await new Promise<void>((ok) => hang.listen(0, '127.0.0.1', ok));
    cleanup.push(() => new Promise<void>((ok) => (hang.closeAllConnections(), hang.close(() => ok()))));
    const url = `http://127.0.0.1:${(hang.address() as { port: number }).port}`;
    const checkpoints: SignedStationCheckpoint[] = [];
    const shown: ReturnType<CountyReporter['status']>[] = [];
    const r: CountyReporter = new CountyReporter({ settings: settingsFor(url), dataDir: tempDir('county-reporter'), checkpoints: () => checkpoints, changed: () => shown.push(r.status()), requestTimeoutMs: 3_600_000, timer: () => () => undefined });
    await r.pass();
    expect(shown).toEqual([{ log: ORIGIN, total: 0, reported: 0, proven: 0, waiting: null }]);
    // the polls close: the ledger signs batch 1 and the station kicks the reporter
    checkpoints.push(entryOf(1));
    const pass = r.pass();
    expect(shown.slice(1)).toEqual([{ log: ORIGIN, total: 1, reported: 0, proven: 0, waiting: SENDING }]);
    expect(r.status()).toEqual({ log: ORIGIN, total: 1, reported: 0, proven: 0, waiting: SENDING });
    await r.stop();
    await pass;
    // the pass cut short says why, not that it is still sending
    expect(r.status().waiting).toMatch(/^batch 1: the county log cannot be reached/);
    // a pass with nothing new says nothing before its answers (no status event per retry)
    const before = shown.length;
    const again = r.pass();
    expect(shown).toHaveLength(before);
    await again;
  });

  test("a refusal (a station the county did not register) is said and not sent again until a restart; the log's word is checked, not taken", async () => {
    const waits: number[] = [];
    const { server } = await startCounty(tempDir('county-log'), registryOf(makeStations(3).slice(1)));
    const r = reporter(server.url, [entryOf(1)], waits);
    await r.pass();
    expect(r.status()).toMatchObject({ reported: 0, waiting: 'batch 1: the county log refused the checkpoint (403 unknown-station: station "station-001" is not registered for this election); call the election office' });
    expect(waits).toEqual([]);

    // a log that answers with an index its tree does not hold our entry at: the receipt is kept, the proof never
    const real = await startCounty(tempDir('county-log2'), registryOf(makeStations(3)));
    const other = makeStations(3)[1] as TestStation;
    expect((await real.county.submit(stationEntry(other, 1))).ok).toBe(true);
    const liar = http.createServer((req, res) => {
      if (req.method === 'POST') {
        req.resume();
        req.on('end', () => res.end(JSON.stringify({ index: 0, treeSize: 1, duplicate: false })));
        return;
      }
      void fetch(`${real.server.url}${req.url ?? '/'}`).then(async (up) => {
        res.writeHead(up.status);
        res.end(Buffer.from(await up.arrayBuffer()));
      });
    });
    await new Promise<void>((ok) => liar.listen(0, '127.0.0.1', ok));
    cleanup.push(() => new Promise<void>((ok) => liar.close(() => ok())));
    await real.county.round();
    const lied = reporter(`http://127.0.0.1:${(liar.address() as { port: number }).port}`, [entryOf(1)], []);
    await lied.pass();
    await lied.pass();
    expect(lied.status()).toMatchObject({ reported: 1, proven: 0, waiting: expect.stringMatching(/^batch 1: no proof of entry 0 from the county log yet \(.*inclusion/i) });

    // an answer that is no index
    const garbage = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{"index":-1}'));
    });
    await new Promise<void>((ok) => garbage.listen(0, '127.0.0.1', ok));
    cleanup.push(() => new Promise<void>((ok) => garbage.close(() => ok())));
    const g = reporter(`http://127.0.0.1:${(garbage.address() as { port: number }).port}`, [entryOf(1)], []);
    await g.pass();
    expect(g.status()).toMatchObject({ reported: 0, waiting: 'batch 1: the county log\'s answer is not an index: "{\\"index\\":-1}"' });
  });
});

test('station.json county settings that cannot work are refused, each with its key and reason', () => {
  const dir = tempDir('county-station-json');
  const base = { data: 'd', election: 'e.json', keys: 'k', precinct: 'p-101', scanner: { kind: 'simulated', deckDir: 'deck' } };
  const write = (county: unknown): string => {
    const f = path.join(dir, `s-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(f, JSON.stringify({ ...base, county }));
    return f;
  };
  const log = formatVerifierKey(logKey);
  const w = formatVerifierKey(witnessKey);
  const refused = (county: unknown): string => {
    const r = loadStationConfig(write(county));
    return r.ok ? 'accepted' : r.error.replace(/^.*?\.json: /, '');
  };
  expect(refused({ log: 'ftp://county.example', logKey: log })).toMatch(/^county\.log: the county log's URL starts with http:\/\/ or https:\/\//);
  expect(refused({ log: 'not a url', logKey: log })).toMatch(/^county\.log: the county log's URL, e\.g\./);
  expect(refused({ log: 'http://x', logKey: w })).toBe("county.logKey: the county log's key: this is a witness key");
  expect(refused({ log: 'http://x', logKey: 'abc' })).toMatch(/^county\.logKey: the county log's key: a verifier key <name>\+<key ID>\+<base64>/);
  expect(refused({ log: 'http://x', logKey: log, witnesses: [log] })).toBe("county.witnesses.0: a witness's key: this is a log key");
  expect(refused({ log: 'http://x', logKey: log, witnesses: [w], quorum: 2 })).toBe('county.quorum: more cosignatures than witnesses listed');
  expect(refused({ log: 'http://x', logKey: log, extra: 1 })).toMatch(/^county: Unrecognized key/);
  const ok = loadStationConfig(write({ log: 'http://127.0.0.1:8480/', logKey: log, witnesses: [w], quorum: 1 }));
  expect(ok.ok).toBe(true);
  if (ok.ok && ok.value.county !== undefined) expect(countyReportSettings(ok.value.county)).toEqual({ url: 'http://127.0.0.1:8480', trust: { log: expect.objectContaining({ name: ORIGIN }), witnesses: [expect.objectContaining({ name: 'observer.test/w' })], quorum: 1 } });
});
