import { loadElection } from '../../ballots/election';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Ledger } from '../../app/ledger/ledger';
import { dataLayout } from '../../app/ledger/layout';
import { checkpointSignatureValid, parseCheckpoint } from '../../app/ledger/checkpoint';
import { leafHash, verifyConsistency, verifyInclusion } from '../../app/ledger/merkle';
import { decodeRecord } from '../../app/ledger/record';
import { loadOrCreateStationKey, unlockStationKey } from '../../app/ledger/station-key';
import { readStationPassphrase } from '../../app/ledger/passphrase';
import { runCli } from '../support/cli';
import { genesisFor, mulberry32, randomCapture, tempDir } from './fixtures';

const EXAMPLES = path.join(__dirname, '..', '..', 'ballots', 'examples');

function electionHashOf(file: string): string {
  const r = loadElection(file);
  if (!r.ok) throw new Error(`${file} is not a valid election`);
  return r.value.hash;
}

const CHEAP = { N: 1 << 10, r: 8, p: 1 };
const PASS = 'correct horse battery';

/** A data directory as the station leaves it: key, official ledger with 3 closed batches, a printed head. */
function station(): { dir: string; definition: string } {
  const dir = tempDir('station-');
  const layout = dataLayout(dir);
  const key = loadOrCreateStationKey(layout.stationKey, 'station-7', PASS, CHEAP);
  const definition = path.join(dir, 'election.json');
  fs.copyFileSync(path.join(EXAMPLES, 'municipal.json'), definition);
  const g = genesisFor('official', key);
  const l = Ledger.create(layout.ledger('official'), { ...g, election: { ...g.election, hash: electionHashOf(definition) } });
  const rand = mulberry32(11);
  l.recordEvent({ type: 'polls-opened', role: 'captain' });
  for (const n of [7, 0, 12]) {
    for (let i = 0; i < n; i++) {
      const p = l.appendPending(randomCapture(rand));
      if (!p.ok) throw new Error('append');
      if (i % 5 === 4) l.markReturned(p.value.seq, 'overvote:mayor');
      else l.confirmCast(p.value.seq);
    }
    if (!l.closeBatch(key).ok) throw new Error('close');
    l.noteExternalHead(layout.heads('official'), `batch tape`);
  }
  l.close();
  return { dir, definition };
}

describe('tallyproof ledger verify | tally | export', () => {
  it('verify passes a good data directory and fails (exit 1) naming the first bad entry', async () => {
    const { dir } = station();
    const testLedger = Ledger.create(dataLayout(dir).ledger('test'), genesisFor('test', unlockStationKey(dataLayout(dir).stationKey, PASS)));
    testLedger.close();
    const good = await runCli(['ledger', 'verify', '--data', dir]);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    // each ledger's line, then what was checked and what could not be
    expect(good.stdout).toMatch(/^official: ok: \d+ entries.*\n( {2}(not )?checked: .*\n)+test: ok: 1 entries/);
    expect(good.stdout).toContain('  not checked: second heads location not given (--heads <dir>): shortening after entry');
    expect((await runCli(['ledger', 'verify', '--data', dir, '--mode', 'test'])).stdout).toMatch(/^test: ok/);

    const db = new Database(dataLayout(dir).ledger('official'));
    db.exec('DROP TRIGGER entries_append_only_update');
    db.prepare("UPDATE entries SET payload = CAST(payload || x'00' AS BLOB) WHERE seq = 6").run();
    db.close();
    const bad = await runCli(['ledger', 'verify', '--data', dir, '--json']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('official.sqlite: entry 6: changed');
    const lines = bad.stdout.trim().split('\n').map((l) => JSON.parse(l) as { mode: string; ok: boolean });
    expect(lines[0]).toMatchObject({ mode: 'official', ok: false, problem: { seq: 6, kind: 'changed' } });
    expect(lines[1]).toMatchObject({ mode: 'test', ok: true });
  });

  it('verify catches truncation against the heads file and against --expect-head', async () => {
    const { dir } = station();
    const file = dataLayout(dir).ledger('official');
    const db = new Database(file);
    db.exec('DROP TRIGGER entries_append_only_delete');
    const last = db.prepare('SELECT max(seq) AS m FROM entries').get() as { m: number };
    db.prepare('DELETE FROM entries WHERE seq > ?').run(last.m - 3);
    db.close();
    const r = await runCli(['ledger', 'verify', '--data', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`entry ${last.m - 2}: truncated`);
    fs.rmSync(dataLayout(dir).heads('official'));
    expect((await runCli(['ledger', 'verify', '--data', dir])).code).toBe(0);
    const cli = await runCli(['ledger', 'verify', '--data', dir, '--expect-head', `${last.m}:${'0'.repeat(64)}`]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('truncated');
    expect((await runCli(['ledger', 'verify', '--data', dir, '--expect-head', 'nonsense'])).code).toBe(2);
  });

  it('fails clearly on a malformed heads file, naming it and the line', async () => {
    const { dir } = station();
    fs.appendFileSync(dataLayout(dir).heads('official'), '{"seq": "x"}\n');
    const r = await runCli(['ledger', 'verify', '--data', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${dataLayout(dir).heads('official')}: line 4`);
  });

  it('fails clearly on a missing data directory or ledger', async () => {
    const r = await runCli(['ledger', 'tally', '--data', '/nonexistent/station']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent/station: no such station data directory');
    const empty = tempDir();
    const t = await runCli(['ledger', 'verify', '--data', empty]);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain('no ledger found');
  });

  it('tally prints per-contest totals that match the cast records', async () => {
    const { dir } = station();
    const r = await runCli(['ledger', 'tally', '--data', dir]);
    expect(r.code).toBe(0);
    const tally = JSON.parse(r.stdout) as { ballots: { cast: number; returned: number }; contests: Array<{ id: string; ballots: number }> };
    expect(tally.ballots).toMatchObject({ cast: 16, returned: 3 });
    expect(tally.contests.map((c) => [c.id, c.ballots])).toEqual([
      ['mayor', 16],
      ['council', 16],
      ['measure-1', 16],
    ]);
  });

  it("export writes the auditor's bundle atomically: proofs verify, digests match, no order or times", async () => {
    const { dir, definition } = station();
    const out = path.join(dir, 'bundle');
    const r = await runCli(['ledger', 'export', '--data', dir, '--out', out, '--election', definition]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dir: out, batches: 3, records: 16 });
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { files: Array<{ path: string; sha256: string; bytes: number }> };
    for (const f of manifest.files) {
      const data = fs.readFileSync(path.join(out, f.path));
      expect([f.path, crypto.createHash('sha256').update(data).digest('hex')]).toEqual([f.path, f.sha256]);
      const text = data.toString('utf8');
      expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/); // no times
      expect(text).not.toMatch(/"seq"|"castSeq"|"pendingSeq"/); // no casting order
    }
    const key = JSON.parse(fs.readFileSync(path.join(out, 'station-key.json'), 'utf8')) as { publicKey: string };
    const cps = JSON.parse(fs.readFileSync(path.join(out, 'checkpoints.json'), 'utf8')) as Array<{ batch: number; file: string; signature: string }>;
    const roots = new Map<number, { size: number; root: Buffer }>();
    for (const cp of cps) {
      const body = fs.readFileSync(path.join(out, cp.file), 'utf8');
      expect(checkpointSignatureValid(body, Buffer.from(cp.signature, 'hex'), Buffer.from(key.publicKey, 'hex'))).toBe(true);
      const c = parseCheckpoint(body);
      roots.set(cp.batch, { size: c.treeSize, root: Buffer.from(c.root) });
      const batch = JSON.parse(fs.readFileSync(path.join(out, 'batches', `batch-${String(cp.batch).padStart(6, '0')}.json`), 'utf8')) as {
        records: Array<{ leafIndex: number; record: string; inclusionProof: string[] }>;
      };
      const leaves = batch.records.map((x) => leafHash(Buffer.from(x.record, 'hex')));
      // hash order, not casting order
      expect(leaves.map((l) => l.toString('hex'))).toEqual([...leaves.map((l) => l.toString('hex'))].sort());
      for (const [i, x] of batch.records.entries()) {
        expect(decodeRecord(Buffer.from(x.record, 'hex')).batch).toBe(cp.batch);
        expect(batch.records.length === 0 || x.inclusionProof.length <= 20).toBe(true);
        expect(() => verifyInclusion(x.leafIndex, c.treeSize, leaves[i] as Buffer, x.inclusionProof.map((h) => Buffer.from(h, 'hex')), c.root)).not.toThrow();
      }
    }
    const cons = JSON.parse(fs.readFileSync(path.join(out, 'consistency.json'), 'utf8')) as Array<{ fromBatch: number; toBatch: number; size1: number; size2: number; proof: string[] }>;
    expect(cons.length).toBeGreaterThan(0);
    for (const c of cons) {
      const a = roots.get(c.fromBatch);
      const b = roots.get(c.toBatch);
      expect(() => verifyConsistency(c.size1, c.size2, a?.root as Buffer, b?.root as Buffer, c.proof.map((h) => Buffer.from(h, 'hex')))).not.toThrow();
    }
    const again = await runCli(['ledger', 'export', '--data', dir, '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  });

  it('export refuses an election definition that is not the ledger election, and writes nothing', async () => {
    const { dir } = station();
    const out = path.join(dir, 'bundle');
    const r = await runCli(['ledger', 'export', '--data', dir, '--out', out, '--election', path.join(EXAMPLES, 'general.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the ledger is for');
    expect(fs.existsSync(out)).toBe(false);
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '{"title":"another election"}');
    const r2 = await runCli(['ledger', 'export', '--data', dir, '--out', out, '--election', broken]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('not a valid election definition');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('takes the election hash the ballots carry, whatever the file\'s key order or spacing', async () => {
    const { dir, definition } = station();
    const reordered = path.join(dir, 'reordered.json');
    const json = JSON.parse(fs.readFileSync(definition, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(reordered, JSON.stringify(Object.fromEntries(Object.entries(json).reverse()), null, 4));
    const out = path.join(dir, 'bundle');
    const r = await runCli(['ledger', 'export', '--data', dir, '--out', out, '--election', reordered]);
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(out, 'election-definition.json'))).toBe(true);
  });
});

describe('station key', () => {
  it('is made once, unlocks with the passphrase only, and never stores the secret in clear', () => {
    const file = path.join(tempDir(), 'keys', 'station.json');
    const k = loadOrCreateStationKey(file, 'station-7', PASS, CHEAP);
    const again = loadOrCreateStationKey(file, 'station-7', PASS, CHEAP);
    expect(Buffer.from(again.publicKey).equals(Buffer.from(k.publicKey))).toBe(true);
    expect(() => unlockStationKey(file, 'wrong passphrase')).toThrow(`${file}: wrong passphrase`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(() => loadOrCreateStationKey(path.join(tempDir(), 'k.json'), 'x', 'short', CHEAP)).toThrow('at least 8 characters');
  });

  it('takes the passphrase from a file or the environment, never silently empty', () => {
    const f = path.join(tempDir(), 'pass');
    fs.writeFileSync(f, 'from the file\n');
    expect(readStationPassphrase(f, {})).toBe('from the file');
    expect(readStationPassphrase(undefined, { TALLYPROOF_STATION_PASSPHRASE: 'from env' })).toBe('from env');
    expect(() => readStationPassphrase(undefined, {})).toThrow('TALLYPROOF_STATION_PASSPHRASE');
  });
});
