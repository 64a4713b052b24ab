import type { z } from 'zod';
import type { Result } from '../../lib/result';
import { err, ok } from '../../lib/result';
import { jcsCanonicalJson, sha256HexOfText } from './canonical';
import type { Problem } from './problems';
import { jsonPath } from './problems';
import type { ElectionDefinition } from './schema';
import { ElectionDefinitionSchema } from './schema';

export interface ValidElection {
  readonly definition: ElectionDefinition;
  /** SHA-256 (hex) of the canonical serialisation of the validated definition. */
  readonly hash: string;
  /** Allowed but probably unintended, e.g. a contest no ballot style uses. */
  readonly warnings: readonly Problem[];
}

/** Checks a parsed JSON value: shape first, then the cross-references a schema cannot express. */
export function validateElection(input: unknown): Result<ValidElection, readonly Problem[]> {
  const parsed = ElectionDefinitionSchema.safeParse(input);
  if (!parsed.success) return err(parsed.error.issues.map(zodProblem));
  const definition = parsed.data;
  const problems: Problem[] = [];
  const warnings: Problem[] = [];

  const partyIds = uniqueIds(definition.parties, ['parties'], 'party', problems);
  const contestIds = uniqueIds(definition.contests, ['contests'], 'contest', problems);
  const precinctIds = uniqueIds(definition.precincts, ['precincts'], 'precinct', problems);
  uniqueIds(definition.ballotStyles, ['ballotStyles'], 'ballot style', problems);

  definition.contests.forEach((contest, ci) => {
    if (contest.type !== 'candidate') return;
    uniqueIds(contest.candidates, ['contests', ci, 'candidates'], `candidate in contest "${contest.id}"`, problems);
    contest.candidates.forEach((candidate, k) => {
      if (/^write-in-\d+$/.test(candidate.id)) {
        problems.push({
          path: jsonPath(['contests', ci, 'candidates', k, 'id']),
          message: `candidate id "${candidate.id}" is reserved for write-in lines; choose another id`,
        });
      }
      if (candidate.party !== undefined && !partyIds.has(candidate.party)) {
        problems.push({
          path: jsonPath(['contests', ci, 'candidates', k, 'party']),
          message: `candidate "${candidate.name}" names party "${candidate.party}", which is not among the election's parties`,
        });
      }
    });
    const options = contest.candidates.length + contest.writeIns;
    if (options === 0) {
      problems.push({
        path: jsonPath(['contests', ci, 'candidates']),
        message: `contest "${contest.id}" has no candidates and no write-in lines, so nobody can vote in it`,
      });
    } else if (contest.voteFor > options) {
      problems.push({
        path: jsonPath(['contests', ci, 'voteFor']),
        message: `contest "${contest.id}" says vote for ${contest.voteFor} but offers only ${options} option${options === 1 ? '' : 's'} (candidates and write-in lines)`,
      });
    }
  });

  const precinctsWithStyle = new Set<string>();
  const contestsOnBallots = new Set<string>();
  definition.ballotStyles.forEach((style, si) => {
    // a style's lists must name things the election defines, each once
    const refs = [
      ['contests', 'contest', contestIds, contestsOnBallots],
      ['precincts', 'precinct', precinctIds, precinctsWithStyle],
    ] as const;
    for (const [field, what, known, used] of refs) {
      const seen = new Set<string>();
      style[field].forEach((id, k) => {
        const path = jsonPath(['ballotStyles', si, field, k]);
        if (!known.has(id)) problems.push({ path, message: `ballot style "${style.id}" names ${what} "${id}", which the election does not define` });
        else if (seen.has(id)) problems.push({ path, message: `ballot style "${style.id}" lists ${what} "${id}" twice` });
        seen.add(id);
        used.add(id);
      });
    }
  });

  definition.precincts.forEach((precinct, pi) => {
    if (!precinctsWithStyle.has(precinct.id)) {
      problems.push({
        path: jsonPath(['precincts', pi]),
        message: `precinct "${precinct.id}" has no ballot style, so its voters would get no ballot`,
      });
    }
  });
  definition.contests.forEach((contest, ci) => {
    if (!contestsOnBallots.has(contest.id)) {
      warnings.push({ path: jsonPath(['contests', ci]), message: `contest "${contest.id}" is on no ballot style` });
    }
  });

  if (problems.length > 0) return err(problems);
  return ok({ definition, hash: electionHash(definition), warnings });
}

export function electionHash(definition: ElectionDefinition): string {
  return sha256HexOfText(jcsCanonicalJson(definition));
}

function uniqueIds(
  items: readonly { id: string }[],
  at: readonly PropertyKey[],
  what: string,
  problems: Problem[],
): Set<string> {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const earlier = first.get(item.id);
    if (earlier !== undefined) {
      problems.push({
        path: jsonPath([...at, i, 'id']),
        message: `duplicate ${what} id "${item.id}" (also at ${jsonPath([...at, earlier, 'id'])})`,
      });
    } else first.set(item.id, i);
  });
  return new Set(first.keys());
}

function zodProblem(issue: z.core.$ZodIssue): Problem {
  const path = jsonPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling)` };
    case 'invalid_type': {
      // zod 4 does not keep the input; its default message ends with what it received
      const received = /received (\w+)$/.exec(issue.message)?.[1];
      if (received === 'undefined') return { path, message: 'is required but missing' };
      if (issue.message.startsWith('Invalid input: expected')) return { path, message: `must be ${article(issue.expected)}, not ${article(received ?? 'something else')}` };
      return { path, message: issue.message };
    }
    default:
      return { path, message: issue.message.replace(/^Invalid input: /, '') };
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
