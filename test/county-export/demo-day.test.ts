import fs from 'node:fs';
import path from 'node:path';
import type { Tally } from '../../app/ledger/tally';
import { tempDir } from '../support/ballots';
import { runCli } from '../support/cli';
import { parseArloDominionCvrs, parseArloManifest, pyCsvRows } from './arlo-rules';
import { schemaErrors } from './nist-schemas';

/**
 * A whole demo election day (the real station, simulated scanner, every kind of sheet), then every county
 * export of its ledger, each held to its published schema or to Arlo's parsing rules, and its counts to
 * `tallyproof ledger tally` of the same ledger: nothing here is a number written by hand.
 */
interface Doc {
  [k: string]: unknown;
}

let day = '';
let data = '';
let election = '';
let out = '';
let tally: Tally;
const files = new Map<string, Buffer>();

const file = (prefix: string, ext: string): Buffer => {
  const name = [...files.keys()].find((f) => f.startsWith(prefix) && f.endsWith(ext));
  if (name === undefined) throw new Error(`no ${prefix}*${ext} among ${[...files.keys()].join(', ')}`);
  return files.get(name) as Buffer;
};
const json = (prefix: string): Doc => JSON.parse(file(prefix, '.json').toString('utf8')) as Doc;
const arr = (v: unknown): Doc[] => (Array.isArray(v) ? (v as Doc[]) : []);

beforeAll(async () => {
  day = path.join(tempDir('county-export-demo'), 'day');
  const demo = await runCli(['demo', '--data', day, '--seed', 'county-export-1']);
  expect([demo.code, demo.stderr.split('\n').filter((l) => l.startsWith('tallyproof:'))]).toEqual([0, []]);
  data = path.join(day, 'election-day');
  election = path.join(day, 'election.json');
  out = path.join(day, 'county');
  const t = await runCli(['ledger', 'tally', '--data', data]);
  expect(t.code).toBe(0);
  tally = JSON.parse(t.stdout) as Tally;
  for (const kind of ['cvr', 'events', 'results', 'arlo']) {
    const r = await runCli(['export', kind, '--data', data, '--election', election, '--out', out]);
    expect([kind, r.code, r.stderr]).toEqual([kind, 0, '']);
  }
  for (const f of fs.readdirSync(out)) files.set(f, fs.readFileSync(path.join(out, f)));
}, 600_000);

describe('tallyproof export on a demo election day', () => {
  it('writes the files each kind names, and nothing else (no temporary file left)', () => {
    expect([...files.keys()].sort()).toEqual(
      [
        'arlo-ballot-manifest-station-p-101-official.csv',
        'arlo-cvrs-station-p-101-official.csv',
        'cvr-station-p-101-official.json',
        'events-documentation-station-p-101-official.json',
        'events-errors-station-p-101-official.json',
        'events-station-p-101-official.json',
        'results-station-p-101-official.csv',
        'results-station-p-101-official.json',
      ].map((f) => f.replace('station-p-101', tally.station)),
    );
    expect(tally.ballots.cast).toBeGreaterThan(0);
  });

  it('cast vote records: NIST SP 1500-103 schema-valid, one per counted ballot, votes recounted from them equal ledger tally', () => {
    const report = json('cvr-');
    expect(schemaErrors('cvr', report)).toEqual([]);
    const cvrs = arr(report['CVR']);
    expect(cvrs).toHaveLength(tally.ballots.cast);
    const ids = cvrs.map((c) => c['BallotAuditId']);
    expect(new Set(ids).size).toBe(cvrs.length);
    for (const c of cvrs) {
      expect(c['BatchId']).toMatch(/^\d+$/);
      expect(c['CreatingDeviceId']).toBe(`device-${tally.station}`);
      // the station keeps every side (imageRetention "all"): each ImageData names its encrypted file
      const images = arr(c['BallotImage']);
      expect(images.length).toBeGreaterThan(0);
      for (const img of images) {
        expect((img['Hash'] as Doc)['Value']).toMatch(/^[0-9a-f]{64}$/);
        const at = /^file:(images\/[0-9a-f]{32})$/.exec(String(img['Location']));
        expect(at).not.toBeNull();
        expect(fs.existsSync(path.join(data, at?.[1] ?? ''))).toBe(true);
      }
    }
    // every counted mark has its score, and the device says what the score is
    expect(String((arr(report['ReportingDevice'])[0] as Doc)['MarkMetricType'])).toMatch(/^ink share/);
    // recount: every allocable selection's NumberVotes per contest and option
    const votes = new Map<string, number>();
    const overvoted = new Map<string, number>();
    const undervotes = new Map<string, number>();
    const writeInBallots = new Map<string, number>();
    const add = (m: Map<string, number>, k: string, n: number): void => void m.set(k, (m.get(k) ?? 0) + n);
    for (const c of cvrs) {
      const snap = arr(c['CVRSnapshot'])[0] as Doc;
      expect(snap['@id']).toBe(c['CurrentSnapshotId']);
      for (const cc of arr(snap['CVRContest'])) {
        const contest = String(cc['ContestId']).replace(/^contest-/, '');
        if (Number(cc['Overvotes']) > 0) add(overvoted, contest, 1);
        add(undervotes, contest, Number(cc['Undervotes']));
        if (Number(cc['WriteIns']) > 0) add(writeInBallots, contest, 1);
        for (const s of arr(cc['CVRContestSelection'])) {
          const option = String(s['ContestSelectionId']).replace(`selection-${contest}-`, '');
          add(votes, `${contest}/${option}`, Number(s['TotalNumberVotes']));
        }
      }
    }
    for (const t of tally.contests) {
      for (const [option, n] of Object.entries(t.votes)) expect([t.id, option, votes.get(`${t.id}/${option}`) ?? 0]).toEqual([t.id, option, n]);
      expect([t.id, overvoted.get(t.id) ?? 0, undervotes.get(t.id) ?? 0]).toEqual([t.id, t.overvotedBallots, t.undervotes]);
      // a marked write-in target is the tally's write-in ballot
      expect([t.id, writeInBallots.get(t.id) ?? 0]).toEqual([t.id, t.writeInBallots]);
    }
    // the election's contests, candidates and places are in the report
    const e = arr(report['Election'])[0] as Doc;
    expect(arr(e['Contest']).map((c) => c['@id'])).toEqual(tally.contests.map((c) => `contest-${c.id}`));
    expect(arr(report['GpUnit']).some((g) => g['Type'] === 'precinct')).toBe(true);
  });

  it('Arlo: the manifest and the Dominion-layout CVR file pass Arlo\'s own parsing rules, ImprintedIds are the CVRs\' ballot IDs, and Arlo\'s count equals ledger tally', () => {
    const manifest = parseArloManifest(file('arlo-ballot-manifest-', '.csv'));
    expect(manifest.reduce((s, r) => s + r.ballots, 0)).toBe(tally.ballots.cast);
    expect(new Set(manifest.map((r) => r.tabulator))).toEqual(new Set([tally.station]));
    const { contests, ballots } = parseArloDominionCvrs(file('arlo-cvrs-', '.csv'), manifest);
    expect(ballots).toHaveLength(tally.ballots.cast);
    for (const m of manifest) expect(ballots.filter((b) => b.batch === m.batchName)).toHaveLength(m.ballots);
    const cvrIds = arr(json('cvr-')['CVR']).map((c) => c['BallotAuditId']);
    expect(ballots.map((b) => b.imprintedId)).toEqual(cvrIds);
    // Arlo knows contests by title and choices by name: map them back through the election definition
    const def = JSON.parse(fs.readFileSync(election, 'utf8')) as { contests: Array<{ id: string; title: string; type: string; candidates?: Array<{ id: string; name: string }>; yesLabel?: string; noLabel?: string }> };
    for (const t of tally.contests) {
      const c = def.contests.find((x) => x.id === t.id);
      if (c === undefined) throw new Error(`no contest ${t.id}`);
      const meta = contests.get(c.title);
      if (meta === undefined) throw new Error(`Arlo has no contest "${c.title}"`);
      expect([t.id, meta.votesAllowed, meta.totalBallotsCast]).toEqual([t.id, t.seats, t.ballots]);
      for (const [option, n] of Object.entries(t.votes)) {
        const name = option.startsWith('write-in-') ? `Write-in ${option.slice(9)}` : c.type === 'measure' ? (option === 'yes' ? (c.yesLabel ?? 'Yes') : (c.noLabel ?? 'No')) : c.candidates?.find((x) => x.id === option)?.name;
        expect([t.id, option, meta.choices.get(String(name))?.numVotes]).toEqual([t.id, option, n]);
      }
    }
  });

  it('event log: NIST SP 1500-101 schema-valid, every ledger event once in ledger order, the errors-only log is exactly the failures', () => {
    const all = json('events-station');
    const errors = json('events-errors-');
    expect(schemaErrors('eel', all)).toEqual([]);
    expect(schemaErrors('eel', errors)).toEqual([]);
    const key = json('events-documentation-');
    expect(schemaErrors('eel', key)).toEqual([]);
    const events = arr((arr(all['Device'])[0] as Doc)['Event']);
    const errorEvents = arr((arr(errors['Device'])[0] as Doc)['Event']);
    expect(events.map((e) => e['Sequence'])).toEqual(events.map((_, i) => String(i + 1)));
    expect(events.map((e) => e['Id'])).toContain('polls-opened');
    expect(events.map((e) => e['Id'])).toContain('polls-closed');
    // the demo's pile holds rejected sheets, a jam and a double feed: the errors log has them
    expect(errorEvents.length).toBeGreaterThan(0);
    expect(errorEvents.map((e) => e['Hash'])).toEqual(events.filter((e) => e['Disposition'] === 'failure').map((e) => e['Hash']));
    expect(new Set(errorEvents.map((e) => e['Id']))).toEqual(new Set(['ballot-rejected', 'scanner-jam', 'scanner-fault']));
    // the documentation names every Id and Type the log uses
    const ids = new Set(arr(key['EventIdDescription']).map((d) => d['Id']));
    const types = new Set(arr(key['EventTypeDescription']).map((d) => d['Type']));
    for (const e of events) expect([e['Id'], ids.has(e['Id']), types.has(e['Type'])]).toEqual([e['Id'], true, true]);
    // no ledger entry numbers leave the station
    expect(JSON.stringify(all)).not.toMatch(/firstSeq/);
  });

  it('results: NIST SP 1500-100 schema-valid with the tally\'s counts; the CSV has the same counts and opens as UTF-8 in a spreadsheet', () => {
    const report = json('results-');
    expect(schemaErrors('err', report)).toEqual([]);
    const e = arr(report['Election'])[0] as Doc;
    expect((arr(e['BallotCounts'])[0] as Doc)['BallotsCast']).toBe(tally.ballots.cast);
    for (const t of tally.contests) {
      const c = arr(e['Contest']).find((x) => x['@id'] === `contest-${t.id}`) as Doc;
      for (const [option, n] of Object.entries(t.votes)) {
        const s = arr(c['ContestSelection']).find((x) => x['@id'] === `selection-${t.id}-${option}`) as Doc;
        expect([t.id, option, (arr(s['VoteCounts'])[0] as Doc)['Count']]).toEqual([t.id, option, n]);
      }
      expect((arr(c['OtherCounts'])[0] as Doc)['Undervotes']).toBe(t.undervotes);
    }
    const csv = file('results-', '.csv');
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = pyCsvRows(csv.toString('utf8').replace(/^\uFEFF/, ''));
    const header = rows[0] as string[];
    const at = (name: string): number => header.indexOf(name);
    const count = (contest: string, line: string, choice = ''): number | undefined => {
      const r = rows.find((x) => x[at('Contest ID')] === contest && x[at('Line')] === line && x[at('Choice ID')] === choice);
      return r === undefined ? undefined : Number(r[at('Count')]);
    };
    for (const t of tally.contests) {
      for (const [option, n] of Object.entries(t.votes)) expect([t.id, option, count(t.id, 'votes', option)]).toEqual([t.id, option, n]);
      expect([t.id, count(t.id, 'overvoted ballots'), count(t.id, 'undervotes'), count(t.id, 'ballots')]).toEqual([t.id, t.overvotedBallots, t.undervotes, t.ballots]);
    }
    expect([count('', 'ballots cast'), count('', 'ballots returned'), count('', 'ballots cast as is')]).toEqual([tally.ballots.cast, tally.ballots.returned, tally.ballots.castAsIs]);
    for (const r of rows.slice(1)) expect(r).toHaveLength(header.length);
  });

  it('is deterministic: exporting the same ledger again, or the demo\'s own export at the end of its day, gives the same bytes', async () => {
    const again = path.join(day, 'county-again');
    for (const kind of ['cvr', 'events', 'results', 'arlo']) {
      const r = await runCli(['export', kind, '--data', data, '--election', election, '--out', again]);
      expect(r.code).toBe(0);
    }
    for (const [name, bytes] of files) expect([name, fs.readFileSync(path.join(again, name)).equals(bytes)]).toEqual([name, true]);
    // the demo itself exported for the county at the end of its day: the same bytes
    for (const [name, bytes] of files) expect([name, fs.readFileSync(path.join(day, 'county-export', name)).equals(bytes)]).toEqual([name, true]);
  });
});
