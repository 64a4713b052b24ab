import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../ledger/fixtures';
import { runCli } from '../support/cli';
import { makeElectionLedger } from './election-ledger';
import { writeCvrReport } from '../../app/county-export/cvr';
import { electionModelFor } from '../../app/county-export/election-model';
import { readLedgerForCounty } from '../../app/county-export/ledger-read';
import { writeStreamed } from '../../app/county-export/stream-file';
import { schemaErrors } from './nist-schemas';

const GENERAL = path.join(__dirname, '..', '..', 'ballots', 'examples', 'general.json');

interface Doc {
  [k: string]: unknown;
}
const arr = (v: unknown): Doc[] => (Array.isArray(v) ? (v as Doc[]) : []);

describe('CVRs with the sheet detail: mark scores and one image per side', () => {
  it('every target has its score as MarkMetricValue, marginal options are named, each side has its hash and, when kept, its location; NIST-valid', async () => {
    const data = tempDir('cx-marks-');
    // the first 10 ballots as a ledger started by older software wrote them (no sheet detail), then 50 with it
    const { cast, genesis } = makeElectionLedger({ electionFile: GENERAL, dataDir: data, batches: [30, 30], seed: 11, marginalRate: 0.2, detail: { sides: 2, keptRate: 0.7, from: 10 } });
    const out = path.join(data, 'county');
    const r = await runCli(['export', 'cvr', '--data', data, '--election', GENERAL, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'cvr-station-9-official.json'), 'utf8')) as Doc;
    expect(schemaErrors('cvr', report)).toEqual([]);
    expect(String((arr(report['ReportingDevice'])[0] as Doc)['MarkMetricType'])).toMatch(/^ink share/);

    const byId = new Map(cast.map((c) => [c.ballotId, c]));
    const cvrs = arr(report['CVR']);
    expect(cvrs).toHaveLength(60);
    let marginalSeen = 0;
    let keptSeen = 0;
    let oldSeen = 0;
    for (const cvr of cvrs) {
      const c = byId.get(String(cvr['BallotAuditId']));
      if (c === undefined) throw new Error('a CVR of a ballot that was not cast');
      const images = arr(cvr['BallotImage']);
      const contests = arr((arr(cvr['CVRSnapshot'])[0] as Doc)['CVRContest']);
      if (c.detail === undefined) {
        // an older ballot: one digest over its sides, only its marked options, no score
        oldSeen += 1;
        expect(images).toEqual([{ '@type': 'CVR.ImageData', Hash: { '@type': 'CVR.Hash', Type: 'sha-256', Value: c.imageSha256 } }]);
        for (const k of contests) for (const s of arr(k['CVRContestSelection'])) expect((arr(s['SelectionPosition'])[0] as Doc)['MarkMetricValue']).toBeUndefined();
        continue;
      }
      expect(images).toEqual(
        c.detail.sides.map((s) => ({
          '@type': 'CVR.ImageData',
          Hash: { '@type': 'CVR.Hash', Type: 'sha-256', Value: Buffer.from(s.sha256).toString('hex') },
          ...(s.kept ? { Location: `file:images/${s.imageId}` } : {}),
        })),
      );
      keptSeen += c.detail.sides.filter((s) => s.kept).length;
      expect(contests).toHaveLength(c.detail.contests.length);
      for (const [i, k] of contests.entries()) {
        const marks = c.detail.contests[i];
        if (marks === undefined) throw new Error('no marks');
        expect(k['ContestId']).toBe(`contest-${genesis.election.contests[marks.contest]?.id}`);
        const sels = arr(k['CVRContestSelection']);
        // every target, in contest-map order, each with its own score
        expect(sels.map((s) => s['OptionPosition'])).toEqual(marks.scores.map((_, j) => j + 1));
        expect(sels.map((s) => (arr(s['SelectionPosition'])[0] as Doc)['MarkMetricValue'])).toEqual(marks.scores.map((v) => [(v / 10000).toFixed(4)]));
        const unknown = sels.filter((s) => (arr(s['SelectionPosition'])[0] as Doc)['HasIndication'] === 'unknown').map((s) => Number(s['OptionPosition']) - 1);
        expect(unknown).toEqual(marks.marginal);
        for (const j of marks.marginal) expect(sels[j]?.['Status']).toEqual(['needs-adjudication']);
        if (marks.marginal.length > 0) {
          marginalSeen += 1;
          expect(k['Status']).toContain('other');
          expect(String(k['OtherStatus'])).toContain(`option position(s) ${marks.marginal.map((j) => j + 1).join(', ')}`);
        }
        // votes come only from marked options, as before
        const votes = sels.reduce((n, s) => n + Number(s['TotalNumberVotes']), 0);
        expect(votes).toBe(k['Selections']);
      }
    }
    expect(oldSeen).toBe(10);
    expect(marginalSeen).toBeGreaterThan(0);
    expect(keptSeen).toBeGreaterThan(0);
  });

  it("reads each ballot's sheet detail once per CVR, and a ballot keeps it as bytes (10,000 ballots' decoded scores are not held at once)", () => {
    const data = tempDir('cx-marks-reads-');
    makeElectionLedger({ electionFile: GENERAL, dataDir: data, batches: [8, 8], seed: 12, marginalRate: 0.2, detail: { sides: 2, keptRate: 0.5 } });
    const ledger = readLedgerForCounty(path.join(data, 'ledger', 'official.sqlite'));
    let reads = 0;
    const ballots = ledger.ballots.map((b) => new Proxy(b, { get: (t, k, r) => ((reads += k === 'detail' ? 1 : 0), Reflect.get(t, k, r)) }));
    writeStreamed(path.join(data, 'cvr.json'), (out) => void writeCvrReport(out, electionModelFor(GENERAL, ledger.genesis), { ...ledger, ballots }));
    expect(ballots).toHaveLength(16);
    expect(reads).toBe(16);
    // decoded anew on each read, equal each time: nothing decoded stays with the ballot once its CVR is written
    const b = ledger.ballots[0];
    expect(b?.detail).toEqual(b?.detail);
    expect(b?.detail).not.toBe(b?.detail);
  });
});
