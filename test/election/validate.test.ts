import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Problem } from '../../ballots/election';
import { jcsCanonicalJson, electionHash, loadElection, parseElectionText, validateElection } from '../../ballots/election';
import { runCli } from '../support/cli';

const EXAMPLES = path.join(__dirname, '..', '..', 'ballots', 'examples');
const municipal = (): Record<string, unknown> & { contests: Record<string, unknown>[]; ballotStyles: Record<string, unknown>[]; precincts: Record<string, unknown>[] } =>
  JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'municipal.json'), 'utf8'));

function problemsOf(input: unknown): readonly Problem[] {
  const r = validateElection(input);
  if (r.ok) throw new Error('expected the election to be invalid');
  return r.error;
}

describe('election examples', () => {
  it.each(['municipal', 'general'])('%s validates', (name) => {
    const r = loadElection(path.join(EXAMPLES, `${name}.json`));
    expect(r.ok && r.value.warnings).toEqual([]);
  });

  it('the general election is long and two-sided with names in several scripts', () => {
    const r = loadElection(path.join(EXAMPLES, 'general.json'));
    if (!r.ok) throw new Error('invalid');
    const d = r.value.definition;
    expect(d.paper.sides).toBe(2);
    expect(d.contests.length).toBeGreaterThanOrEqual(20);
    const text = JSON.stringify(d);
    expect(text).toMatch(/[\u0400-\u04FF]/); // Cyrillic
    expect(text).toMatch(/[\u0370-\u03FF]/); // Greek
    expect(text).toContain('Zoë Ødegård');
  });
});

describe('election hash', () => {
  it('is stable across key order and whitespace', () => {
    const a = municipal();
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(a).reverse())));
    const ra = parseElectionText(JSON.stringify(a));
    const rb = parseElectionText(JSON.stringify(reordered, null, 7));
    expect(ra.ok && rb.ok).toBe(true);
    if (ra.ok && rb.ok) expect(ra.value.hash).toBe(rb.value.hash);
  });

  it('changes when any content changes', () => {
    const a = municipal();
    const b = municipal();
    (b.contests[0] as { title: string }).title = 'Mayor ';
    (b.contests[0] as { title: string }).title = 'Mayor!';
    const ra = validateElection(a);
    const rb = validateElection(b);
    expect(ra.ok && rb.ok && ra.value.hash !== rb.value.hash).toBe(true);
  });

  it('is the SHA-256 of canonical JSON with sorted keys', () => {
    expect(jcsCanonicalJson({ b: [1, 'x'], a: { d: null, c: true } })).toBe('{"a":{"c":true,"d":null},"b":[1,"x"]}');
    const r = validateElection(municipal());
    if (!r.ok) throw new Error('invalid');
    expect(r.value.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(electionHash(r.value.definition)).toBe(r.value.hash);
  });
});

describe('election validation problems', () => {
  it('names a duplicate contest id with both paths', () => {
    const e = municipal();
    e.contests[1]!.id = 'mayor';
    expect(problemsOf(e)).toContainEqual({
      path: '$.contests[1].id',
      message: 'duplicate contest id "mayor" (also at $.contests[0].id)',
    });
  });

  it('names duplicate precinct, style, party and candidate ids', () => {
    const e = municipal();
    e.precincts[2]!.id = 'p-101';
    e.ballotStyles[1]!.id = 'ward-1';
    (e.parties as { id: string }[])[1]!.id = 'civic';
    (e.contests[0]!.candidates as { id: string }[])[1]!.id = 'jose-nunez';
    const paths = problemsOf(e).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['$.precincts[2].id', '$.ballotStyles[1].id', '$.parties[1].id', '$.contests[0].candidates[1].id']));
  });

  it('refuses vote-for larger than the options', () => {
    const e = municipal();
    e.contests[2]!.voteFor = 4;
    expect(problemsOf(e)).toContainEqual({
      path: '$.contests[2].voteFor',
      message: 'contest "council-ward-1" says vote for 4 but offers only 3 options (candidates and write-in lines)',
    });
  });

  it('refuses a contest nobody can vote in', () => {
    const e = municipal();
    e.contests[2]!.candidates = [];
    e.contests[2]!.writeIns = 0;
    expect(problemsOf(e)[0]!.message).toContain('no candidates and no write-in lines');
  });

  it('refuses a style naming a missing contest or precinct, or listing one twice', () => {
    const e = municipal();
    (e.ballotStyles[0]!.contests as string[]).push('dog-catcher', 'mayor');
    (e.ballotStyles[1]!.precincts as string[]).push('p-999');
    const problems = problemsOf(e);
    expect(problems).toContainEqual({ path: '$.ballotStyles[0].contests[4]', message: 'ballot style "ward-1" names contest "dog-catcher", which the election does not define' });
    expect(problems).toContainEqual({ path: '$.ballotStyles[0].contests[5]', message: 'ballot style "ward-1" lists contest "mayor" twice' });
    expect(problems).toContainEqual({ path: '$.ballotStyles[1].precincts[1]', message: 'ballot style "ward-2" names precinct "p-999", which the election does not define' });
  });

  it('refuses a precinct without a ballot style and a candidate of an unknown party', () => {
    const e = municipal();
    e.ballotStyles[1]!.precincts = ['p-101'];
    (e.contests[0]!.candidates as { party: string }[])[0]!.party = 'whigs';
    const problems = problemsOf(e);
    expect(problems).toContainEqual({ path: '$.precincts[2]', message: 'precinct "p-201" has no ballot style, so its voters would get no ballot' });
    expect(problems).toContainEqual({
      path: '$.contests[0].candidates[0].party',
      message: 'candidate "José Núñez" names party "whigs", which is not among the election\'s parties',
    });
  });

  it('refuses a candidate id reserved for write-ins', () => {
    const e = municipal();
    (e.contests[0]!.candidates as { id: string }[])[0]!.id = 'write-in-1';
    expect(problemsOf(e).map((p) => p.path)).toContain('$.contests[0].candidates[0].id');
  });

  it('reports shape problems with their paths: missing, mistyped, unknown, out-of-range fields', () => {
    const e = municipal();
    delete (e.election as Record<string, unknown>).date;
    e.contests[1]!.voteFor = 0;
    e.contests[0]!.writeIns = 'one';
    (e.paper as Record<string, unknown>).size = 'a4';
    e.precincts[0]!.nmae = 'typo';
    (e.ballotStyles[0] as Record<string, unknown>).id = 'Ward One';
    const problems = problemsOf(e);
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: '$.election.date', message: 'is required but missing' },
        { path: '$.contests[1].voteFor', message: 'voteFor must be at least 1' },
        { path: '$.contests[0].writeIns', message: 'must be a number, not a string' },
        { path: '$.paper.size', message: 'paper size must be "letter" or "legal"' },
        { path: '$.precincts[0]', message: 'unknown field "nmae" (check the spelling)' },
        { path: '$.ballotStyles[0].id', message: 'must be 1-32 characters of lowercase letters, digits and inner hyphens' },
      ]),
    );
  });

  it('refuses an unknown contest type and a bad date', () => {
    const e = municipal();
    e.contests[0]!.type = 'referendum';
    (e.election as Record<string, unknown>).date = '2026-13-45';
    const paths = problemsOf(e).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['$.contests[0].type', '$.election.date']));
  });

  it('turns unreadable files and bad JSON into problems', () => {
    const r1 = loadElection('/nonexistent/election.json');
    expect(!r1.ok && r1.error[0]!.message).toBe('cannot read /nonexistent/election.json: no such file');
    const r2 = parseElectionText('{"format": ', 'broken.json');
    expect(!r2.ok && r2.error[0]!.message).toMatch(/^broken\.json is not valid JSON/);
    const r3 = parseElectionText('[]');
    expect(r3.ok).toBe(false);
  });
});

describe('tallyproof election validate', () => {
  it('exits 0 with the hash for a valid file', async () => {
    const r = await runCli(['election', 'validate', path.join(EXAMPLES, 'municipal.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hash +[0-9a-f]{64}/);
  });

  it('exits 1 listing every problem with its path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-validate-'));
    const e = municipal();
    e.contests[1]!.id = 'mayor';
    e.contests[2]!.voteFor = 9;
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(e));
    const r = await runCli(['election', 'validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('$.contests[1].id: duplicate contest id "mayor"');
    expect(r.stderr).toContain('$.contests[2].voteFor: contest "council-ward-1" says vote for 9');
    const count = Number(/: (\d+) problems/.exec(r.stderr)?.[1]);
    expect(count).toBeGreaterThanOrEqual(2);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('$.'))).toHaveLength(count);
  });

  it('exits 2 without a file argument', async () => {
    expect((await runCli(['election', 'validate'])).code).toBe(2);
  });
});

describe('titles in other languages', () => {
  const spanish = () => {
    const m = municipal();
    (m['election'] as Record<string, unknown>)['titles'] = { es: 'Elección Municipal de Springfield' };
    m.contests[0]!['titles'] = { es: 'Alcaldía', 'zh-Hant': '市長' };
    m.precincts[0]!['names'] = { es: 'Recinto 101 – Casco Antiguo' };
    return m;
  };

  it('an election without them hashes exactly as before the fields existed (the examples, pinned before the change)', () => {
    const hashes = Object.fromEntries(['municipal', 'general'].map((n) => {
      const r = loadElection(path.join(EXAMPLES, `${n}.json`));
      return [n, r.ok ? r.value.hash : 'invalid'];
    }));
    expect(hashes).toEqual({ municipal: '410bed6bf33e6a0892daf5e8b6292ed43d317b3a519add0828928d9d01968473', general: 'd5fb3cece7150c127be31c848d99c24e34293ee9807da4453e5176fb1f373ab9' });
  });

  it('are kept, covered by the hash, and leave the default texts as they are', () => {
    const r = validateElection(spanish());
    const plain = validateElection(municipal());
    if (!r.ok || !plain.ok) throw new Error('invalid');
    expect(r.value.definition.contests[0]?.titles).toEqual({ es: 'Alcaldía', 'zh-Hant': '市長' });
    expect(r.value.definition.contests[0]?.title).toBe('Mayor');
    expect(r.value.definition.precincts[0]?.names).toEqual({ es: 'Recinto 101 – Casco Antiguo' });
    expect(r.value.definition.election.titles).toEqual({ es: 'Elección Municipal de Springfield' });
    expect(r.value.hash).not.toBe(plain.value.hash);
    expect(r.value.hash).toBe(electionHash(r.value.definition));
  });

  it('refuses a tag that is not a language tag, an empty or over-long text, and a list, each at its path', () => {
    const m = spanish();
    m.contests[0]!['titles'] = { ES: 'Alcaldía' };
    m.contests[1]!['titles'] = { es: '  ' };
    m.contests[2]!['titles'] = ['Concejo'];
    m.precincts[0]!['names'] = { es: 'x'.repeat(81) };
    expect(problemsOf(m)).toEqual([
      { path: '$.contests[0].titles.ES', message: '"ES" is not a language tag such as "es", "zh-Hant" or "pt-BR"' },
      { path: '$.contests[1].titles.es', message: 'a contest title must not be empty' },
      { path: '$.contests[2].titles', message: 'a contest title translations must be an object of language tag to text' },
      { path: '$.precincts[0].names.es', message: 'a precinct name must be at most 80 characters' },
    ]);
  });
});
