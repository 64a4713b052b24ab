import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_PROFILE } from '../../calibration/profile';
import { loadElection } from '../../ballots/election';
import { loadElectionPublicKeys } from '../../ballots/identity';
import { BallotReader } from '../../ballots/read/interpret';
import type { TruthSheet } from '../../ballots/testdeck';

/**
 * The committed scans (test/fixtures/reader, made once by scripts/make-reader-fixtures.ts): the reader is
 * held to these files, whatever later happens to the deck generator.
 */
const dir = path.join(__dirname, '..', 'fixtures', 'reader');
const truth = JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8')) as { sheets: (TruthSheet & { fixture: string })[] };

describe('the committed fixture scans', () => {
  const election = loadElection(path.join(__dirname, '..', '..', 'ballots', 'examples', 'municipal.json'));
  const keys = loadElectionPublicKeys(path.join(dir, 'election-public.json'));
  if (!election.ok || !keys.ok) throw new Error('fixture setup');
  const reader = new BallotReader({ election: election.value, publicKeys: keys.value, profile: DEFAULT_PROFILE, station: { mode: 'official', precinctId: 'p-101' } });

  it.each(truth.sheets.map((s) => [s.fixture, s] as const))('%s reads as its truth says', async (file, sheet) => {
    const page = await reader.readFile(fs.readFileSync(path.join(dir, file)));
    expect(page.status).toBe(sheet.expected.status);
    expect(sheet.expected.reasons).toEqual(expect.arrayContaining(page.reasons.length > 0 ? [page.reasons[0]] : []));
    if (page.status === 'rejected') return;
    expect(page.ballotId).toBe(sheet.serial);
    for (const m of page.marks) {
      const t = sheet.marks.find((x) => x.contestId === m.contestId && x.optionId === m.optionId);
      expect({ target: `${m.contestId}/${m.optionId}`, class: m.class }).toEqual({ target: `${m.contestId}/${m.optionId}`, class: t?.expected ?? 'empty' });
    }
    expect(page.contests).toEqual(sheet.expected.contests);
  });
});
