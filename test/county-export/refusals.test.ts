import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Tally } from '../../app/ledger/tally';
import { manifestBatches, writeArloCvrs } from '../../app/county-export/arlo';
import { csvCell } from '../../app/county-export/csv';
import { electionModelFor } from '../../app/county-export/election-model';
import { CountyExportError } from '../../app/county-export/errors';
import { readLedgerForCounty } from '../../app/county-export/ledger-read';
import { writeStreamed } from '../../app/county-export/stream-file';
import { tempDir } from '../ledger/fixtures';
import { runCli } from '../support/cli';
import { ArloError, parseArloDominionCvrs, parseArloManifest } from './arlo-rules';
import { makeElectionLedger } from './election-ledger';
import { schemaErrors } from './nist-schemas';

const MUNICIPAL = path.join(__dirname, '..', '..', 'ballots', 'examples', 'municipal.json');
const GENERAL = path.join(__dirname, '..', '..', 'ballots', 'examples', 'general.json');

interface Doc {
  [k: string]: unknown;
}
const arr = (v: unknown): Doc[] => (Array.isArray(v) ? (v as Doc[]) : []);

async function tallyOf(data: string, mode = 'official'): Promise<Tally> {
  const t = await runCli(['ledger', 'tally', '--data', data, '--mode', mode]);
  expect(t.code).toBe(0);
  return JSON.parse(t.stdout) as Tally;
}

describe('tallyproof export: refusals and edge cases', () => {
  it('every CVR carries the ballot ID, image SHA-256, style, precinct and cast-as-is of the ballot the station handed the ledger', async () => {
    // the export once read these from row buffers the next rows overwrote: wrong serials and flags, self-consistent
    const data = tempDir('cx-identity-');
    const { cast } = makeElectionLedger({ electionFile: GENERAL, dataDir: data, batches: [40, 40, 40], seed: 3 });
    const out = path.join(data, 'county');
    expect((await runCli(['export', 'cvr', '--data', data, '--election', GENERAL, '--out', out])).code).toBe(0);
    expect((await runCli(['export', 'arlo', '--data', data, '--election', GENERAL, '--out', out])).code).toBe(0);
    const cvrs = arr((JSON.parse(fs.readFileSync(path.join(out, 'cvr-station-9-official.json'), 'utf8')) as Doc)['CVR']);
    const seen = cvrs.map((c) => {
      const snap = arr(c['CVRSnapshot'])[0] as Doc;
      return {
        ballotId: c['BallotAuditId'],
        castAsIs: snap['Annotation'] !== undefined,
        imageSha256: ((arr(c['BallotImage'])[0] as Doc)['Hash'] as Doc)['Value'],
        place: `${String(c['BallotStyleUnitId']).replace('gp-precinct-', '')}/${String(c['BallotStyleId'])}`,
      };
    });
    const want = cast.map((c) => {
      const [, , precinct, style] = c.votingId.toLowerCase().split(':');
      return { ballotId: c.ballotId, castAsIs: c.castAsIs, imageSha256: c.imageSha256, place: `${precinct}/${style}` };
    });
    const byId = (a: { ballotId: unknown }, b: { ballotId: unknown }): number => (String(a.ballotId) < String(b.ballotId) ? -1 : 1);
    expect([...seen].sort(byId)).toEqual([...want].sort(byId));
    const manifest = parseArloManifest(fs.readFileSync(path.join(out, 'arlo-ballot-manifest-station-9-official.csv')));
    const { ballots } = parseArloDominionCvrs(fs.readFileSync(path.join(out, 'arlo-cvrs-station-9-official.csv')), manifest);
    expect(ballots.map((b) => b.imprintedId).sort()).toEqual(cast.map((c) => c.ballotId).sort());
  });

  it('a ledger that does not verify is not exported, and the output directory is not even made', async () => {
    const data = tempDir('cx-tamper-');
    const { ledgerFile } = makeElectionLedger({ electionFile: MUNICIPAL, dataDir: data, batches: [5] });
    const db = new Database(ledgerFile);
    db.exec('DROP TRIGGER entries_append_only_update');
    // one byte of the third ballot's pending entry (its marks) changed, hashes left as they were
    const row = db.prepare('SELECT seq, payload FROM entries WHERE kind = 1 ORDER BY seq LIMIT 1 OFFSET 2').get() as { seq: number; payload: Buffer };
    const p = Buffer.from(row.payload);
    p[p.length - 40] = (p[p.length - 40] as number) ^ 0x01;
    db.prepare('UPDATE entries SET payload = ? WHERE seq = ?').run(p, row.seq);
    db.close();
    const out = path.join(data, 'county');
    for (const kind of ['cvr', 'events', 'results', 'arlo']) {
      const r = await runCli(['export', kind, '--data', data, '--election', MUNICIPAL, '--out', out]);
      expect([kind, r.code]).toEqual([kind, 1]);
      expect(r.stderr).toContain('the ledger does not verify, so nothing was exported');
      expect(r.stderr).toContain(`entry ${row.seq}`);
    }
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses another election\'s definition (by its hash) and a missing --election, writing nothing', async () => {
    const data = tempDir('cx-wrong-');
    makeElectionLedger({ electionFile: MUNICIPAL, dataDir: data, batches: [3] });
    const out = path.join(data, 'county');
    const wrong = await runCli(['export', 'cvr', '--data', data, '--election', GENERAL, '--out', out]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/this election definition has election hash [0-9a-f]{64}, the ledger is for [0-9a-f]{64}/);
    const missing = await runCli(['export', 'results', '--data', data, '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('export results needs --election <file>');
    const badKind = await runCli(['export', 'ballots', '--data', data, '--out', out]);
    expect(badKind.code).toBe(2);
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
    // the event log needs no definition, but one given must be the ledger's
    const wrongEvents = await runCli(['export', 'events', '--data', data, '--election', GENERAL, '--out', out]);
    expect(wrongEvents.code).toBe(1);
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
    const events = await runCli(['export', 'events', '--data', data, '--out', out]);
    expect(events.code).toBe(0);
  });

  it('a pending ballot and returned ballots are in no CVR; the test ledger says it is a test everywhere', async () => {
    const data = tempDir('cx-pending-');
    makeElectionLedger({ electionFile: GENERAL, dataDir: data, mode: 'test', batches: [6, 4], returned: 2, leavePending: true, marginalRate: 0.3 });
    const tally = await tallyOf(data, 'test');
    expect([tally.ballots.pending, tally.ballots.returned]).toEqual([1, 2]);
    const out = path.join(data, 'county');
    for (const kind of ['cvr', 'results', 'arlo']) expect((await runCli(['export', kind, '--data', data, '--mode', 'test', '--election', GENERAL, '--out', out])).code).toBe(0);
    const cvr = JSON.parse(fs.readFileSync(path.join(out, 'cvr-station-9-test.json'), 'utf8')) as Doc;
    expect(schemaErrors('cvr', cvr)).toEqual([]);
    const cvrs = arr(cvr['CVR']);
    expect(cvrs).toHaveLength(tally.ballots.cast);
    expect(String(cvr['Notes'])).toMatch(/^TEST ledger/);
    // publishing order: batch 1's ballots, then batch 2's
    expect(cvrs.map((c) => c['BatchId'])).toEqual([...cvrs.map((c) => c['BatchId'])].sort());
    // a marginal mark: the contest says so and the CVR waits for adjudication
    const marginal = cvrs.filter((c) => arr((arr(c['CVRSnapshot'])[0] as Doc)['CVRContest']).some((cc) => cc['OtherStatus'] !== undefined));
    expect(marginal).toHaveLength(tally.ballots.marginal);
    for (const c of marginal) expect((arr(c['CVRSnapshot'])[0] as Doc)['Status']).toEqual(['needs-adjudication']);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results-station-9-test.json'), 'utf8')) as Doc;
    expect(schemaErrors('err', results)).toEqual([]);
    expect([results['IsTest'], results['Status']]).toEqual([true, 'unofficial-partial']);
    const manifest = parseArloManifest(fs.readFileSync(path.join(out, 'arlo-ballot-manifest-station-9-test.csv')));
    expect(manifest.map((m) => [m.batchName, m.ballots])).toEqual([
      ['1', tally.ballots.cast - cvrs.filter((c) => c['BatchId'] === '2').length],
      ['2', cvrs.filter((c) => c['BatchId'] === '2').length],
    ]);
    const { contests } = parseArloDominionCvrs(fs.readFileSync(path.join(out, 'arlo-cvrs-station-9-test.csv')), manifest);
    // the general election's 24 contests, each known to Arlo with the ballots that carry it
    expect(contests.size).toBe(tally.contests.length);
    expect([...contests.values()].map((c) => c.totalBallotsCast)).toEqual(tally.contests.map((c) => c.ballots));
  });

  it('a manifest whose last batch equals the sum of the others would read as a total row to Arlo: that batch goes first', async () => {
    const data = tempDir('cx-total-');
    const { ledgerFile } = makeElectionLedger({ electionFile: MUNICIPAL, dataDir: data, batches: [1, 2, 3] });
    const ledger = readLedgerForCounty(ledgerFile);
    const rows = manifestBatches(ledger);
    expect(rows.map((r) => r.batch)).toEqual([3, 1, 2]);
    const out = path.join(data, 'county');
    expect((await runCli(['export', 'arlo', '--data', data, '--election', MUNICIPAL, '--out', out])).code).toBe(0);
    const written = fs.readFileSync(path.join(out, 'arlo-ballot-manifest-station-9-official.csv'));
    expect(parseArloManifest(written).map((r) => r.ballots)).toEqual([3, 1, 2]);
    // the same rows in batch order: what the export wrote before this rule, and what Arlo refuses
    const ascending = Buffer.from(`Container,Tabulator,Batch Name,Number of Ballots\r\n${[1, 2, 3].map((b) => `Election Day,station-9,${b},${b}`).join('\r\n')}\r\n`);
    expect(() => parseArloManifest(ascending)).toThrow(ArloError);
    expect(() => parseArloManifest(ascending)).toThrow('the last row in the CSV might be a total row');
  });

  it('names Arlo could not tell apart refuse the Arlo export, and the file already there is left whole with no temporary file', () => {
    const data = tempDir('cx-names-');
    const { ledgerFile } = makeElectionLedger({ electionFile: MUNICIPAL, dataDir: data, batches: [2] });
    const ledger = readLedgerForCounty(ledgerFile);
    const model = electionModelFor(MUNICIPAL, ledger.genesis);
    const [a, b, ...rest] = model.contests;
    if (a === undefined || b === undefined) throw new Error('municipal has 2+ contests');
    const clash = { ...model, contests: [a, { ...b, contest: { ...b.contest, title: a.contest.title } }, ...rest] };
    const out = tempDir('cx-names-out-');
    const target = path.join(out, 'arlo.csv');
    writeStreamed(target, (o) => void writeArloCvrs(o, model, ledger));
    const before = fs.readFileSync(target);
    expect(() => writeStreamed(target, (o) => void writeArloCvrs(o, clash, ledger))).toThrow(CountyExportError);
    expect(() => writeStreamed(target, (o) => void writeArloCvrs(o, clash, ledger))).toThrow(`two contests are titled "${a.contest.title}": Arlo tells contests apart by name only`);
    expect(fs.readFileSync(target).equals(before)).toBe(true);
    expect(fs.readdirSync(out)).toEqual(['arlo.csv']);
  });

  it('a name that a spreadsheet would run as a formula is written as text in the results CSV', async () => {
    const def = JSON.parse(fs.readFileSync(MUNICIPAL, 'utf8')) as { contests: Array<{ type: string; candidates?: Array<{ name: string }> }> };
    const cand = def.contests.find((c) => c.type === 'candidate')?.candidates?.[0];
    if (cand === undefined) throw new Error('no candidate');
    cand.name = '=HYPERLINK("http://x.invalid","win")';
    const dir = tempDir('cx-formula-');
    const electionFile = path.join(dir, 'election.json');
    fs.writeFileSync(electionFile, JSON.stringify(def));
    const data = path.join(dir, 'data');
    makeElectionLedger({ electionFile, dataDir: data, batches: [3] });
    const out = path.join(dir, 'county');
    expect((await runCli(['export', 'results', '--data', data, '--election', electionFile, '--out', out])).code).toBe(0);
    const csv = fs.readFileSync(path.join(out, 'results-station-9-official.csv'), 'utf8');
    expect(csv).toContain(`"'=HYPERLINK(""http://x.invalid"",""win"")"`);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    expect(csvCell('-12', true)).toBe('-12');
    expect(csvCell('@SUM(A1)', true)).toBe("'@SUM(A1)");
  });

  it('the schema check is not vacuous: NIST\'s schemas refuse a report missing a required field or with a value outside an enumeration', async () => {
    const data = tempDir('cx-schema-');
    makeElectionLedger({ electionFile: MUNICIPAL, dataDir: data, batches: [2] });
    const out = path.join(data, 'county');
    for (const kind of ['cvr', 'events', 'results']) expect((await runCli(['export', kind, '--data', data, '--election', MUNICIPAL, '--out', out])).code).toBe(0);
    const cvr = JSON.parse(fs.readFileSync(path.join(out, 'cvr-station-9-official.json'), 'utf8')) as Doc;
    expect(schemaErrors('cvr', cvr)).toEqual([]);
    expect(schemaErrors('cvr', { ...cvr, Version: '2.0.0' }).join('\n')).toContain('/Version');
    const eel = JSON.parse(fs.readFileSync(path.join(out, 'events-station-9-official.json'), 'utf8')) as Doc;
    expect(schemaErrors('eel', eel)).toEqual([]);
    const { GeneratedTime: _dropped, ...noTime } = eel;
    expect(schemaErrors('eel', noTime).join('\n')).toContain('GeneratedTime');
    const err = JSON.parse(fs.readFileSync(path.join(out, 'results-station-9-official.json'), 'utf8')) as Doc;
    expect(schemaErrors('err', err)).toEqual([]);
    expect(schemaErrors('err', { ...err, Status: 'final' }).join('\n')).toContain('/Status');
  });
});
