/**
 * Issue 16, "Done when": three stations run their polling days on real parts (the station service, the
 * simulated scanner's firmware behind the real serial driver, real ledgers) and report to a county log run
 * as its operators run it: `county serve`, two `tallyproof witness` processes and one lying witness (its own
 * process; it remembers nothing, so it cosigns whatever the log signed), and `county monitor` following the
 * log. Every station checkpoint must be in the witnessed log, proven with the tlog-tiles client, and every
 * counted ballot proven from its paper serial to the county checkpoint; a split view the log's key signs and
 * the liar cosigns must fall short of the quorum, be refused by the honest witnesses (kept as evidence), and
 * be named by the monitor with who signed it. Then the anchor: `county serve`'s final round (as it stops at
 * the end of the day) anchors the cosigned checkpoint in ONE transaction on a litecoind -regtest chain
 * standing in for Bitcoin, `county proof` writes each station checkpoint's tlog-proof and .ots, and every
 * ballot gets one .ots from its paper serial's record to the block header, read by python-opentimestamps.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { startChild } from '../cli/support/ready-child';
import fs from 'node:fs';
import path from 'node:path';
import { LogClient, openWitnessedCheckpoint, type TrustPolicy } from '../../app/county/client/log-client';
import { verifyTlogProof } from '../../app/county/client/tlog-proof-verify';
import { readSignerKeyFile } from '../../app/county/config';
import { CountyLog } from '../../app/county/log/county-log';
import { formatStationEntry, type StationRegistry } from '../../app/county/log/station-entry';
import { ALG_ED25519, parseVerifierKey, type Verifier } from '../../app/county/tlog/note';
import { TlogError } from '../../app/county/tlog/stored-hashes';
import { WitnessDb } from '../../app/county/witness/witness-db';
import { parseCheckpoint } from '../../app/ledger/checkpoint';
import { exportBundle } from '../../app/ledger/export';
import { dataLayout } from '../../app/ledger/layout';
import { Ledger } from '../../app/ledger/ledger';
import { leafHash, verifyInclusion } from '../../app/ledger/merkle';
import { decodeRecord } from '../../app/ledger/record';
import { fromHex } from '../../lib/bytes';
import { buildBallotCountyOts } from '../../app/formats/ots-ballot-county';
import { opReturnPayloads, parseTx } from '../../app/formats/raw-tx';
import { startRegtestNode, type RegtestNode } from '../support/litecoind';
import { fund } from '../chain/helpers';
import { tempDir } from '../support/ballots';
import { runCli } from '../support/cli';
import { ELECTION, PASSPHRASE, captainDoes, startRig, waitForStatus, writeSheets, type Rig } from '../station/support/rig';
import { electionHashOf, stationWithKey } from '../county/station-support';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '..', '..');
const ORIGIN = 'county.test/2026-general';
const STATIONS = ['station-north', 'station-south', 'station-east'] as const;
const BALLOTS_EACH = 3;

const PYTHON = '/usr/bin/python3';
const OTS_READER = path.join(ROOT, 'test', 'audit', 'ots-reference.py');

const children: ChildProcess[] = [];
const rigs: Rig[] = [];
let dir: string;
let node: RegtestNode | undefined;

beforeAll(() => {
  dir = tempDir('county-day');
});
afterAll(async () => {
  for (const r of rigs) await r.stop().catch(() => undefined);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await node?.destroy();
});

/** County anchor transactions ("TPC" v1 OP_RETURN) among these txids. */
async function countyAnchors(n: RegtestNode, txids: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of txids) {
    const hex = await n.rpc<string>('getrawtransaction', [t]);
    if (opReturnPayloads(parseTx(hex, { floData: false })).some((p) => Buffer.from(p.subarray(0, 4)).toString('latin1') === 'TPC\u0001')) out.push(t);
  }
  return out;
}

interface OtsReading {
  digest?: string;
  attestations?: { kind: string; height?: number; msg: string }[];
  error?: string;
}

interface Started {
  readonly child: ChildProcess;
  readonly match: RegExpExecArray;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts a process (the CLI from the sources, or a TypeScript file) and waits for the line that says it serves. */
async function start(script: string, args: string[], ready: RegExp): Promise<Started> {
  const c = startChild({ cwd: dir, children, script }, args, ready);
  return { child: c.child, match: await c.ready, exited: c.exited, output: c.output };
}
const cli = (args: string[], ready: RegExp): Promise<Started> => start(path.join(ROOT, 'test', 'cli', 'support', 'launch-child.ts'), args, ready);
const write = (name: string, value: unknown): void => fs.writeFileSync(path.join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
const stop = async (p: Started): Promise<number | null> => {
  p.child.kill('SIGINT');
  return p.exited;
};

test('three stations, a county log, two honest witnesses and a lying one, a monitor, one anchor: every checkpoint and every ballot proven to the block header; the liar caught', async () => {
  // ---- the chain, the county's keys, the station registry, the witnesses, the log, the monitor ------------
  const nodeStarted = startRegtestNode();
  const anchorKey = await runCli(['county', 'keys', '--anchor', '--out', 'anchor.key', '--network', 'litecoin-regtest'], dir);
  const anchorAddress = /fund (\S+) on litecoin-regtest/.exec(anchorKey.stdout)?.[1] as string;
  const keys = await Promise.all([
    runCli(['county', 'keys', '--name', ORIGIN, '--out', 'log.key'], dir),
    ...[1, 2, 3].map((i) => runCli(['county', 'keys', '--witness', '--name', `observer-${i}.test/w`, '--out', `w${i}.key`], dir)),
  ]);
  expect(keys.map((k) => k.code)).toEqual([0, 0, 0, 0]);
  const [logVkey, ...witnessVkeys] = keys.map((k) => k.stdout.trim()) as [string, string, string, string];
  const election = electionHashOf(ELECTION);
  const made = STATIONS.map((id) => ({ id, ...stationWithKey(id, PASSPHRASE) }));
  // the ballots are rendered while the county's processes start
  const decksReady = (async () => {
    const out: Awaited<ReturnType<typeof writeSheets>>[] = [];
    for (const [s] of made.entries()) out.push(await writeSheets(Array.from({ length: BALLOTS_EACH }, (_, k) => ({ kind: 'normal' as const, n: s * BALLOTS_EACH + k }))));
    return out;
  })();
  decksReady.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled meanwhile
  const registry: StationRegistry = { format: 'tallyproof-county-stations/1', election, mode: 'official', stations: made.map((m) => m.station) };
  write('stations.json', registry);
  for (const i of [1, 2]) write(`w${i}.json`, { format: 'tallyproof-witness/1', keyFile: `w${i}.key`, logs: [{ origin: ORIGIN, keys: [logVkey] }] });

  const [w1, w2, liar] = await Promise.all([
    cli(['witness', '--config', 'w1.json', '--data', 'w1', '--port', '0'], /POST (http:\/\/127\.0\.0\.1:\d+)\/add-checkpoint/),
    cli(['witness', '--config', 'w2.json', '--data', 'w2', '--port', '0'], /POST (http:\/\/127\.0\.0\.1:\d+)\/add-checkpoint/),
    start(path.join(ROOT, 'test', 'e2e', 'support', 'lying-witness.ts'), [path.join(dir, 'w3.key'), logVkey], /POST (http:\/\/127\.0\.0\.1:\d+)\/add-checkpoint/),
  ]);
  const witnessUrls = [w1, w2, liar].map((w) => w.match[1] as string);
  node = await nodeStarted;
  await fund(node, anchorAddress, 2);
  // rounds an hour apart: the day's one round is the final one, run as the log stops
  const chain = { name: 'ltc-anchor', network: 'litecoin-regtest', confirmations: 2, rpc: { url: node.rpcUrl, user: node.rpcUser, password: node.rpcPassword, retries: 1, backoffMs: 50 } };
  write('county.json', {
    format: 'tallyproof-county-log/1',
    origin: ORIGIN,
    keyFile: 'log.key',
    stations: 'stations.json',
    witnesses: witnessUrls.map((url, i) => ({ url, key: witnessVkeys[i] })),
    quorum: 2,
    roundSeconds: 0.05,
    anchor: { keyFile: 'anchor.key', roundSeconds: 3600, chain },
  });
  const log = await cli(['county', 'serve', '--config', 'county.json', '--data', 'log', '--port', '0'], /serving (http:\/\/127\.0\.0\.1:\d+)/);
  const url = log.match[1] as string;
  write('trust.json', { format: 'tallyproof-county-trust/1', log: logVkey, witnesses: witnessVkeys, quorum: 2 });
  // the monitor follows the log from before the first station reports (its first look finds nothing yet)
  const monitorStarted = cli(['county', 'monitor', url, '--trust', 'trust.json', '--stations', 'stations.json', '--interval', '0.2'], /size \d+: /);
  monitorStarted.catch(() => undefined);
  const trust: TrustPolicy = { log: parseVerifierKey(logVkey) as Verifier, witnesses: witnessVkeys.map((k) => parseVerifierKey(k) as Verifier), quorum: 2 };

  // ---- three polling days, at once: zero tape, open, ballots, close; each station reports as it closes ------
  const decks = await decksReady;
  const county = { url, trust };
  await Promise.all(
    made.map(async (m, s) => {
      const rig = await startRig({ deck: (decks[s] as { dir: string }).dir, dataDir: m.dataDir, stationId: m.id, county });
      rigs.push(rig);
      await captainDoes(rig.station, 'print-zero-tape', 'open-polls');
      await waitForStatus(rig.station, (x) => x.counts.public === BALLOTS_EACH);
      await captainDoes(rig.station, 'close-polls');
      const done = await waitForStatus(rig.station, (x) => x.county?.proven === 1);
      expect(done.county).toEqual({ log: ORIGIN, total: 1, reported: 1, proven: 1, waiting: null });
    }),
  );
  for (const r of rigs.splice(0)) await r.stop();

  // ---- every station checkpoint in the witnessed log, proven by the tlog-tiles client ----------------------
  const client = new LogClient(url, trust);
  const cp = await client.checkpoint();
  expect(cp.checkpoint.size).toBe(3);
  expect([...cp.cosignedBy].sort()).toEqual(['observer-1.test/w', 'observer-2.test/w', 'observer-3.test/w']);
  const serials = new Set(decks.flatMap((d) => d.truth.map((t) => t.serial)));
  const ballots: { serial: string; station: string; record: Uint8Array; leafIndex: number; treeSize: number; inclusionProof: Uint8Array[]; entry: Uint8Array }[] = [];
  let ballotsProven = 0;
  for (const m of made) {
    const ledger = Ledger.open(dataLayout(m.dataDir).ledger('official'));
    const [signed] = ledger.signedCheckpoints();
    ledger.close();
    if (signed === undefined) throw new Error(`${m.id} signed no checkpoint`);
    const entry = formatStationEntry(signed.body, signed.signature);
    const receipts = JSON.parse(fs.readFileSync(path.join(m.dataDir, 'county', `receipts-${ORIGIN.replace('/', '_')}.json`), 'utf8')) as { receipts: { index: number; tlogProof: string }[] };
    const { index, tlogProof } = receipts.receipts[0] as { index: number; tlogProof: string };
    // the client proves it from authenticated tiles; the station's kept proof stands on its own
    expect(await client.inclusionProof(cp.checkpoint, index, entry)).toBeDefined();
    expect(verifyTlogProof(tlogProof, entry, trust)).not.toBeInstanceOf(TlogError);

    // every counted ballot: its paper serial → its record → the station checkpoint's tree → that entry
    const stationCp = parseCheckpoint(signed.body);
    const bundle = exportBundle(dataLayout(m.dataDir).ledger('official'), path.join(dir, `bundle-${m.id}`));
    expect(bundle.records).toBe(BALLOTS_EACH);
    const batch = JSON.parse(fs.readFileSync(path.join(bundle.dir, 'batches', 'batch-000001.json'), 'utf8')) as { records: { leafIndex: number; record: string; inclusionProof: string[] }[] };
    for (const r of batch.records) {
      const record = fromHex(r.record, 'record');
      const serial = decodeRecord(record).ballotId;
      expect(serials.delete(serial)).toBe(true);
      const inclusionProof = r.inclusionProof.map((h) => fromHex(h, 'proof hash', 32));
      expect(() => verifyInclusion(r.leafIndex, stationCp.treeSize, leafHash(record), inclusionProof, stationCp.root)).not.toThrow();
      ballots.push({ serial, station: m.id, record, leafIndex: r.leafIndex, treeSize: stationCp.treeSize, inclusionProof, entry });
      ballotsProven++;
    }
    expect(fs.readFileSync(path.join(bundle.dir, 'checkpoints', 'batch-000001.txt'), 'utf8')).toBe(signed.body);
  }
  expect([ballotsProven, serials.size]).toEqual([STATIONS.length * BALLOTS_EACH, 0]);

  // ---- the monitor followed the honest log and found nothing wrong ------------------------------------------
  const monitor = await monitorStarted;
  for (let i = 0; i < 100 && !/size 3: 3 entries checked from 3 station\(s\), 0 alarm\(s\)/.test(monitor.output()); i++) await new Promise((r) => setTimeout(r, 100));
  expect(await stop(monitor)).toBe(0);
  expect(monitor.output()).toMatch(/size 3: 3 entries checked from 3 station\(s\), 0 alarm\(s\)/);
  expect(monitor.output()).not.toMatch(/ALARM/);

  // ---- a split view: the log's key signs another tree of the same size; only the liar cosigns it -------------
  const entries = await client.entryBundle(cp.checkpoint, 0);
  const logKey = readSignerKeyFile(path.join(dir, 'log.key'), ALG_ED25519);
  const witnessesOf = (quorum: number): CountyLog =>
    new CountyLog({ dir: path.join(dir, `fork-${quorum}`), origin: ORIGIN, signer: logKey, registry, witnesses: witnessUrls.map((u, i) => ({ url: u, key: parseVerifierKey(witnessVkeys[i] as string) as Verifier })), quorum, intervalMs: 60_000 });
  const fork = witnessesOf(2);
  const forked = [...entries].reverse().map((e) => fork.submit(e));
  const round = await fork.round();
  expect((await Promise.all(forked)).every((r) => r.ok)).toBe(true);
  // the quorum holds: the honest witnesses refuse, the fork is not published
  expect(round).toMatchObject({ treeSize: 3, cosigned: 1, published: false });
  expect(round.failures).toEqual([expect.stringMatching(/^observer-1\.test\/w refused \(422\): two different roots for size 3: the log shows a split view/), expect.stringMatching(/^observer-2\.test\/w refused \(422\): two different roots for size 3/)]);
  expect(fork.log.published()).toBeUndefined();
  await fork.stop();
  // a log willing to publish on one cosignature: readers holding the county's policy refuse its checkpoint
  const brazen = witnessesOf(1);
  const again = [...entries].reverse().map((e) => brazen.submit(e));
  expect(await brazen.round()).toMatchObject({ cosigned: 1, published: true });
  await Promise.all(again);
  const lie = brazen.log.published() as string;
  await brazen.stop();
  const opened = openWitnessedCheckpoint(lie, trust);
  expect(opened).toBeInstanceOf(TlogError);
  expect((opened as TlogError).message).toBe('cosigned by 1 known witness(es) (observer-3.test/w); the policy needs 2');
  // and a monitor shown it (a voter's proof, a station's receipt) names who signed both trees
  fs.writeFileSync(path.join(dir, 'lie.note'), lie);
  const caught = await runCli(['county', 'monitor', url, '--trust', 'trust.json', '--stations', 'stations.json', '--once', '--observe', 'lie.note'], dir);
  expect(caught).toMatchObject({ code: 1, stderr: `ALARM SPLIT VIEW at size 3: two different trees, both signed by ${ORIGIN}, observer-3.test/w\n` });

  // ---- the anchor: the log stops at the end of the day and its final round anchors the cosigned checkpoint -------
  expect(await stop(log)).toBe(0);
  expect(await countyAnchors(node, await node.rpc<string[]>('getrawmempool'))).toHaveLength(1);
  await node.mine(2);
  // the round tracked to its confirmations; nothing new was published, so no second transaction
  const tracked = await runCli(['county', 'anchor', '--config', 'county.json', '--data', 'log'], dir);
  expect(tracked.code).toBe(0);
  expect(await countyAnchors(node, await node.rpc<string[]>('getrawmempool'))).toEqual([]);
  const tip = await node.rpc<number>('getblockcount');
  const anchoredIn: string[] = [];
  for (let h = tip - 1; h <= tip; h++) anchoredIn.push(...(await countyAnchors(node, (await node.rpc<{ tx: string[] }>('getblock', [await node.rpc<string>('getblockhash', [h])])).tx)));
  expect(anchoredIn).toHaveLength(1);
  expect(fs.readdirSync(path.join(dir, 'log', 'anchor', 'rounds')).filter((f) => f.endsWith('.json'))).toEqual(['round-1.json']);

  // ---- each station checkpoint: county proof (tlog-proof + .ots); each ballot: one .ots from paper to header ----
  const otsFiles: { file: string; digest: string }[] = [];
  for (const m of made) {
    const proof = await runCli(['county', 'proof', '--config', 'county.json', '--data', 'log', '--station', m.id, '--batch', '1', '--out', `proof-${m.id}`], dir);
    expect(proof).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^station ${m.id} batch 1: entry \\d, anchored in round 1\n`)) });
    const out = path.join(dir, `proof-${m.id}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, `${m.id}-batch-1.county-proof.json`), 'utf8')) as { files: { entry: string; ots: string; tlogProof: string } };
    const entry = fs.readFileSync(path.join(out, manifest.files.entry));
    expect(verifyTlogProof(fs.readFileSync(path.join(out, manifest.files.tlogProof), 'utf8'), entry, trust)).not.toBeInstanceOf(TlogError);
    otsFiles.push({ file: path.join(out, manifest.files.ots), digest: leafHash(entry).toString('hex') });
    for (const b of ballots.filter((x) => x.station === m.id)) {
      expect(Buffer.from(b.entry).equals(entry)).toBe(true);
      const built = buildBallotCountyOts({ ...b, entryOts: fs.readFileSync(path.join(out, manifest.files.ots)) });
      fs.mkdirSync(path.join(dir, `ballots-${m.id}`), { recursive: true });
      const file = path.join(dir, `ballots-${m.id}`, b.serial);
      fs.writeFileSync(file, built.file);
      fs.writeFileSync(`${file}.ots`, built.ots);
      otsFiles.push({ file: `${file}.ots`, digest: leafHash(b.record).toString('hex') });
    }
  }
  const roundFile = JSON.parse(fs.readFileSync(path.join(dir, 'log', 'anchor', 'rounds', 'round-1.json'), 'utf8')) as { anchor: { tx: { blockHash: string } } };
  const height = (await node.rpc<{ height: number }>('getblockheader', [roundFile.anchor.tx.blockHash])).height;
  const headerMerkleRoot = (await node.rpc<string>('getblockheader', [roundFile.anchor.tx.blockHash, false])).slice(72, 136);
  const read = spawnSync(PYTHON, [OTS_READER, ...otsFiles.map((o) => o.file)], { encoding: 'utf8' });
  expect(read.status).toBe(0);
  const readings = read.stdout.trim().split('\n').map((l) => JSON.parse(l) as OtsReading);
  expect(readings).toHaveLength(STATIONS.length * (1 + BALLOTS_EACH));
  for (const [i, r] of readings.entries()) {
    expect([r.error, r.digest]).toEqual([undefined, (otsFiles[i] as { digest: string }).digest]);
    expect(r.attestations).toEqual([{ kind: 'bitcoin', height, msg: headerMerkleRoot }]);
  }

  // ---- and the auditor's path: audit verify follows each paper ballot ID through the county proof -------------
  const rpc = node.rpcUrl.replace('http://', `http://${node.rpcUser}:${node.rpcPassword}@`);
  for (const b of ballots) {
    const audited = await runCli(['audit', 'verify', '--bundle', `bundle-${b.station}`, '--ballot-id', b.serial, '--county-proof', `proof-${b.station}`, '--county-trust', 'trust.json', '--rpc', rpc, '--json'], dir);
    expect([b.serial, audited.code, audited.stderr]).toEqual([b.serial, 0, '']);
    const report = JSON.parse(audited.stdout) as { checks: { check: string; ok: boolean; detail: string }[] };
    expect(report.checks.filter((c) => c.check === 'county-proof')).toEqual([expect.objectContaining({ ok: true, detail: expect.stringMatching(new RegExp(`^station ${b.station} batch 1: .*anchored in round 1 .* on its best chain`)) })]);
  }

  // ---- everyone stops cleanly; the honest witnesses kept the split view they refused -------------------------
  for (const w of [w1, w2, liar]) expect(await stop(w)).toBe(0);
  for (const w of ['w1', 'w2']) {
    const db = new WitnessDb(path.join(dir, w, 'witness.sqlite'));
    const refused = db.refusals(ORIGIN);
    db.close();
    expect(refused.map((r) => r.reason)).toContain('two different roots for size 3: the log shows a split view');
  }
});
