import fs from 'node:fs';
import path from 'node:path';
import { adjudicationState } from '../../app/ledger/adjudicated-tally';
import { Ledger } from '../../app/ledger/ledger';
import type { Tally } from '../../app/ledger/tally';
import { tempDir, testSigner } from '../ledger/fixtures';
import { runCli } from '../support/cli';
import { parseArloDominionCvrs, parseArloManifest, pyCsvRows } from './arlo-rules';
import type { CastCapture } from './election-ledger';
import { makeElectionLedger } from './election-ledger';
import { schemaErrors } from './nist-schemas';

/**
 * The county exports after adjudication (issue 15 item 4): a sealed ledger with signed decisions (a marginal
 * mark counted, a write-in named, one decided "not counted", other items left undecided), exported and read
 * back as the county reads it: JSON.parse, the NIST schemas, Arlo's own parsing rules. Every count is
 * compared with `ledger tally`'s `adjudication.after` of the same ledger, never with numbers written here.
 */
const GENERAL = path.join(__dirname, '..', '..', 'ballots', 'examples', 'general.json');
const WRITE_IN_NAME = 'María-José Núñez';

interface Doc {
  [k: string]: unknown;
}
const arr = (v: unknown): Doc[] => (Array.isArray(v) ? (v as Doc[]) : []);

interface Printed {
  contests: Tally['contests'];
  ballots: Tally['ballots'];
  adjudication: { after: Tally; decisions: number; undecided: number; writeIns: Array<{ id: string; writeInNames: Record<string, Record<string, number>>; unnamedWriteIns: number }> };
}

let data: string;
let cast: CastCapture[];
let optionIds: string[][];
let contestIds: string[];
let before: Doc;
let printed: Printed;
let marginalBallot: string;
let marginalOption: { contest: string; option: string };
let writeInBallot: string;
let writeInOption: { contest: string; option: string };
let notCountedBallot: string;

async function exportAll(out: string): Promise<void> {
  for (const kind of ['cvr', 'results', 'arlo']) {
    const r = await runCli(['export', kind, '--data', data, '--election', GENERAL, '--out', out]);
    expect([kind, r.code, r.stderr]).toEqual([kind, 0, '']);
  }
}
const read = (dir: string, name: string): Buffer => fs.readFileSync(path.join(dir, name));
const json = (dir: string, name: string): Doc => JSON.parse(read(dir, name).toString('utf8')) as Doc;
const current = (cvr: Doc): Doc => arr(cvr['CVRSnapshot']).find((s) => s['@id'] === cvr['CurrentSnapshotId']) as Doc;

beforeAll(async () => {
  data = tempDir('cx-adjudicated-');
  const made = makeElectionLedger({ electionFile: GENERAL, dataDir: data, batches: [25, 25], seed: 23, marginalRate: 0.3, detail: { sides: 1, keptRate: 0 } });
  cast = made.cast;
  contestIds = made.genesis.election.contests.map((c) => c.id);
  optionIds = made.genesis.election.contests.map((c) => c.options);
  // the items as the station recorded them: a marginal option (sheet detail) and a marked write-in line (score of a mark)
  const marginals = cast.flatMap((c) => (c.detail?.contests ?? []).flatMap((k) => k.marginal.filter((o) => !(optionIds[k.contest]?.[o] ?? '').startsWith('write-in-')).map((o) => ({ ballot: c.ballotId, contest: k.contest, option: o }))));
  const writeIns = cast.flatMap((c) => (c.detail?.contests ?? []).flatMap((k) => k.scores.flatMap((s, o) => (s >= 5000 && (optionIds[k.contest]?.[o] ?? '').startsWith('write-in-') ? [{ ballot: c.ballotId, contest: k.contest, option: o }] : []))));
  const m = marginals[0];
  // a write-in in a contest not overvoted, so its name counts
  const seatsOf = made.genesis.election.contests.map((c) => c.seats);
  const marksIn = (ballot: string, contest: number): number => cast.find((c) => c.ballotId === ballot)?.detail?.contests.find((k) => k.contest === contest)?.scores.filter((x) => x >= 5000).length ?? 0;
  const w = writeIns.find((x) => x.ballot !== m?.ballot && marksIn(x.ballot, x.contest) <= (seatsOf[x.contest] ?? 0));
  const n = marginals.find((x) => x.ballot !== m?.ballot && x.ballot !== w?.ballot);
  if (m === undefined || w === undefined || n === undefined) throw new Error('the seed gave no marginal mark or write-in to decide');
  const name = (x: { contest: number; option: number }): { contest: string; option: string } => ({ contest: contestIds[x.contest] as string, option: optionIds[x.contest]?.[x.option] as string });
  marginalBallot = m.ballot;
  marginalOption = name(m);
  writeInBallot = w.ballot;
  writeInOption = name(w);
  notCountedBallot = n.ballot;

  // the county's export before any decision: its interpreted snapshots must not change afterwards
  const first = path.join(data, 'before');
  await exportAll(first);
  before = json(first, 'cvr-station-9-official.json');

  const signer = testSigner(9);
  const l = Ledger.open(made.ledgerFile);
  try {
    if (!l.seal(signer).ok) throw new Error('seal refused');
    const login = l.recordEvent({ type: 'login', role: 'auditor' });
    const who = { role: 'auditor' as const, session: login.seq };
    const decide = (ballotId: string, item: { contest: string; option: string }, decision: Parameters<Ledger['adjudicate']>[0]['decision']): void => {
      const r = l.adjudicate({ ballotId, contest: item.contest, option: item.option, decision, adjudicator: who }, signer);
      if (!r.ok) throw new Error(`decision refused: ${JSON.stringify(r.error)}`);
    };
    // a ballot ID typed in lower case names the same ballot (QR readers and people differ)
    decide(marginalBallot.toLowerCase(), marginalOption, { kind: 'counts' });
    decide(writeInBallot, writeInOption, { kind: 'write-in', name: WRITE_IN_NAME });
    decide(notCountedBallot, name(n), { kind: 'not-counted' });
    l.recordEvent({ type: 'logout', role: 'auditor' });
  } finally {
    l.close();
  }
  const t = await runCli(['ledger', 'tally', '--data', data]);
  expect(t.code).toBe(0);
  printed = JSON.parse(t.stdout) as Printed;
  await exportAll(path.join(data, 'after'));
}, 120_000);

describe('county exports after adjudication', () => {
  it('the ledger has decisions and items still undecided (the fixture is what the tests below need)', () => {
    expect(printed.adjudication.decisions).toBe(3);
    expect(printed.adjudication.undecided).toBeGreaterThan(0);
  });

  it('CVR: a decided ballot gets a modified snapshot as its current one, the interpreted one unchanged; NIST-valid', () => {
    const out = path.join(data, 'after');
    const report = json(out, 'cvr-station-9-official.json');
    expect(schemaErrors('cvr', report)).toEqual([]);
    const cvrs = arr(report['CVR']);
    const oldById = new Map(arr(before['CVR']).map((c) => [c['BallotAuditId'], c]));
    for (const cvr of cvrs) {
      const old = oldById.get(cvr['BallotAuditId']) as Doc;
      // the station's reading is kept exactly as it was exported before any decision
      expect(arr(cvr['CVRSnapshot'])[0]).toEqual(arr(old['CVRSnapshot'])[0]);
      const decided = [marginalBallot, writeInBallot, notCountedBallot].includes(String(cvr['BallotAuditId']));
      expect([cvr['BallotAuditId'], arr(cvr['CVRSnapshot']).map((s) => s['Type'])]).toEqual([cvr['BallotAuditId'], decided ? ['interpreted', 'modified'] : ['interpreted']]);
      expect(current(cvr)['Type']).toBe(decided ? 'modified' : 'interpreted');
    }
    const byId = new Map(cvrs.map((c) => [String(c['BallotAuditId']), c]));
    const selection = (ballot: string, item: { contest: string; option: string }): Doc => {
      const contest = arr(current(byId.get(ballot) as Doc)['CVRContest']).find((c) => c['ContestId'] === `contest-${item.contest}`) as Doc;
      return arr(contest['CVRContestSelection']).find((s) => s['ContestSelectionId'] === `selection-${item.contest}-${item.option}`) as Doc;
    };
    // the marginal mark decided "counts": indicated, adjudicated, no longer waiting
    const m = selection(marginalBallot, marginalOption);
    const mp = arr(m['SelectionPosition'])[0] as Doc;
    expect([mp['HasIndication'], mp['Status'], m['Status']]).toEqual(['yes', ['adjudicated'], undefined]);
    // the write-in line carries the name the adjudicator read
    const w = selection(writeInBallot, writeInOption);
    const wp = arr(w['SelectionPosition'])[0] as Doc;
    expect([(wp['CVRWriteIn'] as Doc)['Text'], wp['Status'], w['Status']]).toEqual([WRITE_IN_NAME, ['adjudicated'], undefined]);
    // every decision is annotated with the role and sign-in, never a person
    for (const b of [marginalBallot, writeInBallot, notCountedBallot]) expect(arr(current(byId.get(b) as Doc)['Annotation'])[0]?.['AdjudicatorName']).toEqual([expect.stringMatching(/^auditor \(sign-in entry \d+\)$/)]);
  });

  it('CVR: the current snapshots add up to ledger tally\'s after, the interpreted ones to its before', () => {
    const cvrs = arr(json(path.join(data, 'after'), 'cvr-station-9-official.json')['CVR']);
    const sum = (pick: (c: Doc) => Doc): Map<string, number> => {
      const votes = new Map<string, number>();
      for (const cvr of cvrs) {
        for (const cc of arr(pick(cvr)['CVRContest'])) {
          for (const s of arr(cc['CVRContestSelection'])) {
            const key = String(s['ContestSelectionId']);
            votes.set(key, (votes.get(key) ?? 0) + Number(s['TotalNumberVotes']));
          }
        }
      }
      return votes;
    };
    const after = sum(current);
    const interpreted = sum((c) => arr(c['CVRSnapshot'])[0] as Doc);
    for (const [i, t] of printed.adjudication.after.contests.entries()) {
      for (const [option, n] of Object.entries(t.votes)) expect([t.id, option, after.get(`selection-${t.id}-${option}`) ?? 0]).toEqual([t.id, option, n]);
      for (const [option, n] of Object.entries(printed.contests[i]?.votes ?? {})) expect([t.id, option, interpreted.get(`selection-${t.id}-${option}`) ?? 0]).toEqual([t.id, option, n]);
    }
    // the counted mark moved a count: the after is not the before
    expect(printed.adjudication.after.contests).not.toEqual(printed.contests);
  });

  it('CVR: a ballot with an item no one decided stays needs-adjudication, its marginal mark counting for nothing', () => {
    const cvrs = arr(json(path.join(data, 'after'), 'cvr-station-9-official.json')['CVR']);
    const waiting = cvrs.filter((c) => arr(c['CVRSnapshot']).length === 1 && arr(current(c)['CVRContest']).some((cc) => arr(cc['CVRContestSelection']).some((s) => s['OtherStatus'] === 'marginal-mark')));
    expect(waiting.length).toBeGreaterThan(0);
    for (const c of waiting) {
      expect(current(c)['Status']).toEqual(['needs-adjudication']);
      for (const cc of arr(current(c)['CVRContest'])) for (const s of arr(cc['CVRContestSelection'])) if (s['OtherStatus'] === 'marginal-mark') expect([s['TotalNumberVotes'], s['Status']]).toEqual([0, ['needs-adjudication']]);
    }
  });

  it('results: the JSON and CSV counts are ledger tally\'s after, the CSV keeps the station\'s count beside them, the status says items wait', () => {
    const out = path.join(data, 'after');
    const report = json(out, 'results-station-9-official.json');
    expect(schemaErrors('err', report)).toEqual([]);
    expect(report['Status']).toBe('unofficial-partial');
    const e = arr(report['Election'])[0] as Doc;
    const rows = pyCsvRows(read(out, 'results-station-9-official.csv').toString('utf8').replace(/^\uFEFF/, ''));
    const header = rows[0] as string[];
    const at = (h: string): number => header.indexOf(h);
    const count = (contest: string, line: string, choice = ''): number | undefined => {
      const r = rows.find((x) => x[at('Contest ID')] === contest && x[at('Line')] === line && x[at('Choice ID')] === choice);
      return r === undefined ? undefined : Number(r[at('Count')]);
    };
    for (const [i, t] of printed.adjudication.after.contests.entries()) {
      const c = arr(e['Contest']).find((x) => x['@id'] === `contest-${t.id}`) as Doc;
      for (const [option, n] of Object.entries(t.votes)) {
        const s = arr(c['ContestSelection']).find((x) => x['@id'] === `selection-${t.id}-${option}`) as Doc;
        expect([t.id, option, (arr(s['VoteCounts'])[0] as Doc)['Count'], count(t.id, 'votes', option)]).toEqual([t.id, option, n, n]);
        expect([t.id, option, count(t.id, 'votes before adjudication', option)]).toEqual([t.id, option, printed.contests[i]?.votes[option]]);
      }
      expect([t.id, count(t.id, 'marginal-mark ballots')]).toEqual([t.id, t.marginalBallots]);
    }
    expect([count('', 'adjudication decisions'), count('', 'items awaiting adjudication')]).toEqual([3, printed.adjudication.undecided]);
    // the names read on write-in lines are ledger tally's, under their line (none where the contest is overvoted)
    const named = rows.filter((r) => r[at('Line')] === 'write-in votes by name');
    const expected = printed.adjudication.writeIns.flatMap((c) => Object.entries(c.writeInNames).flatMap(([o, names]) => Object.entries(names).map(([n, k]) => [c.id, o, n, String(k)])));
    expect(named.map((r) => [r[at('Contest ID')], r[at('Choice ID')], r[at('Choice')], r[at('Count')]])).toEqual(expected);
    expect(named.map((r) => r[at('Choice')])).toContain(WRITE_IN_NAME);
    for (const c of printed.adjudication.writeIns) if (count(c.id, 'write-in votes not yet named') !== undefined) expect([c.id, count(c.id, 'write-in votes not yet named')]).toEqual([c.id, c.unnamedWriteIns]);
  });

  it('Arlo: its count of the CVR file is ledger tally\'s after', () => {
    const out = path.join(data, 'after');
    const manifest = parseArloManifest(read(out, 'arlo-ballot-manifest-station-9-official.csv'));
    const { contests } = parseArloDominionCvrs(read(out, 'arlo-cvrs-station-9-official.csv'), manifest);
    const def = JSON.parse(fs.readFileSync(GENERAL, 'utf8')) as { contests: Array<{ id: string; title: string; type: string; candidates?: Array<{ id: string; name: string }>; yesLabel?: string; noLabel?: string }> };
    for (const t of printed.adjudication.after.contests) {
      const c = def.contests.find((x) => x.id === t.id);
      const meta = contests.get(String(c?.title));
      if (c === undefined || meta === undefined) throw new Error(`Arlo has no contest ${t.id}`);
      for (const [option, n] of Object.entries(t.votes)) {
        const name = option.startsWith('write-in-') ? `Write-in ${option.slice(9)}` : c.type === 'measure' ? (option === 'yes' ? (c.yesLabel ?? 'Yes') : (c.noLabel ?? 'No')) : c.candidates?.find((x) => x.id === option)?.name;
        expect([t.id, option, meta.choices.get(String(name))?.numVotes]).toEqual([t.id, option, n]);
      }
    }
  });

  it('is deterministic: the same ledger exported again gives the same bytes', async () => {
    const again = path.join(data, 'again');
    await exportAll(again);
    const names = fs.readdirSync(path.join(data, 'after')).sort();
    expect(fs.readdirSync(again).sort()).toEqual(names);
    for (const n of names) expect([n, read(again, n).equals(read(path.join(data, 'after'), n))]).toEqual([n, true]);
  });
});

describe('county exports once every item is decided', () => {
  it('every kind of decision (counts, not counted, a name, no vote, marks at contest level on older ballots): nothing left needs adjudication, the results are complete, counts are the after', async () => {
    const dir = tempDir('cx-all-decided-');
    // the first 6 ballots as older software recorded them (no sheet detail): their marginal marks are decided per contest
    const made = makeElectionLedger({ electionFile: GENERAL, dataDir: dir, batches: [20], seed: 5, marginalRate: 0.25, detail: { sides: 1, keptRate: 0, from: 6 } });
    const signer = testSigner(9);
    const l = Ledger.open(made.ledgerFile);
    if (!l.seal(signer).ok) throw new Error('seal refused');
    const login = l.recordEvent({ type: 'login', role: 'captain' });
    l.close();
    // the items as `tallyproof adjudicate list` gives them: the ledger's own list
    const items = adjudicationState(made.ledgerFile).items ?? [];
    const kinds = new Set(items.map((i) => i.kind));
    expect([kinds.has('marginal'), kinds.has('write-in'), kinds.has('contest-marginal')]).toEqual([true, true, true]);
    const w = Ledger.open(made.ledgerFile);
    try {
      items.forEach((i, k) => {
        const options = made.genesis.election.contests.find((c) => c.id === i.contest)?.options ?? [];
        const decision: Parameters<Ledger['adjudicate']>[0]['decision'] =
          i.kind === 'marginal'
            ? { kind: k % 2 === 0 ? 'counts' : 'not-counted' }
            : i.kind === 'write-in'
              ? k % 2 === 0
                ? { kind: 'write-in', name: `=Name ${k}` }
                : { kind: 'no-vote' }
              : { kind: 'marks', options: options.filter((o) => !o.startsWith('write-in-') && !i.counted.includes(o)).slice(0, 1) };
        const r = w.adjudicate({ ballotId: i.ballotId, contest: i.contest, option: i.option, decision, adjudicator: { role: 'captain', session: login.seq } }, signer);
        if (!r.ok) throw new Error(`decision refused: ${JSON.stringify(r.error)}`);
      });
    } finally {
      w.close();
    }
    const t = await runCli(['ledger', 'tally', '--data', dir]);
    const tally = (JSON.parse(t.stdout) as Printed).adjudication;
    expect([tally.decisions, tally.undecided]).toEqual([items.length, 0]);
    const out = path.join(dir, 'county');
    for (const kind of ['cvr', 'results', 'arlo']) {
      const r = await runCli(['export', kind, '--data', dir, '--election', GENERAL, '--out', out]);
      expect([kind, r.code, r.stderr]).toEqual([kind, 0, '']);
    }
    const report = json(out, 'cvr-station-9-official.json');
    expect(schemaErrors('cvr', report)).toEqual([]);
    const votes = new Map<string, number>();
    for (const cvr of arr(report['CVR'])) {
      const snap = current(cvr);
      expect([cvr['BallotAuditId'], JSON.stringify(snap).includes('needs-adjudication')]).toEqual([cvr['BallotAuditId'], false]);
      for (const cc of arr(snap['CVRContest'])) for (const s of arr(cc['CVRContestSelection'])) votes.set(String(s['ContestSelectionId']), (votes.get(String(s['ContestSelectionId'])) ?? 0) + Number(s['TotalNumberVotes']));
    }
    for (const c of tally.after.contests) for (const [option, n] of Object.entries(c.votes)) expect([c.id, option, votes.get(`selection-${c.id}-${option}`) ?? 0]).toEqual([c.id, option, n]);
    const results = json(out, 'results-station-9-official.json');
    expect(schemaErrors('err', results)).toEqual([]);
    expect(results['Status']).toBe('unofficial-complete');
    const csv = read(out, 'results-station-9-official.csv').toString('utf8');
    expect(csv).toMatch(/items awaiting adjudication,,,,0\r\n$/);
    // a name read as "=…" reaches the spreadsheet as text, never a formula
    const names = pyCsvRows(csv.replace(/^\uFEFF/, '')).filter((r) => r[5] === 'write-in votes by name').map((r) => r[7]);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n).toMatch(/^'=Name \d+$/);
    const manifest = parseArloManifest(read(out, 'arlo-ballot-manifest-station-9-official.csv'));
    const arlo = parseArloDominionCvrs(read(out, 'arlo-cvrs-station-9-official.csv'), manifest);
    expect(arlo.ballots).toHaveLength(tally.after.ballots.cast);
  }, 60_000);
});
