import { z } from 'zod';

/**
 * The election definition: what an election administrator writes and every station loads. Field names are
 * a contract (the election hash covers them), so the format carries a version.
 */
/** A custom message for a wrong value, but zod's own "missing" wording when the field is absent. */
const say = (text: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required but missing' : text),
});

const Id = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, say('must be 1-32 characters of lowercase letters, digits and inner hyphens'));

const Text = (what: string, max: number) =>
  z
    .string(say(`${what} must be text`))
    .trim()
    .min(1, say(`${what} must not be empty`))
    .max(max, say(`${what} must be at most ${max} characters`));

/**
 * A language tag as the screens name languages (BCP 47, the common forms): "es", "zh-Hant", "pt-BR", "es-419".
 * The election's own texts (title, name) are in its default language; these tags name the others.
 */
export const LanguageTag = z.string().regex(/^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|\d{3}))?$/, say('must be a language tag such as "es", "zh-Hant" or "pt-BR"'));

/**
 * The same text in other languages, by language tag: what a voter who chose that language reads instead of
 * the default. Optional everywhere; an election without any has the same hash as before the field existed
 * (an absent field is not serialised).
 */
const Translated = (what: string, max: number) =>
  z.record(LanguageTag, Text(what, max), {
    error: (issue: { code?: string; input?: unknown }) =>
      issue.code === 'invalid_key' ? `"${String(issue.input)}" is not a language tag such as "es", "zh-Hant" or "pt-BR"` : `${what} translations must be an object of language tag to text`,
  });

export const PartySchema = z.strictObject({
  id: Id,
  name: Text('a party name', 80),
  abbreviation: Text('a party abbreviation', 12).optional(),
});

export const CandidateSchema = z.strictObject({
  id: Id,
  name: Text('a candidate name', 80),
  party: Id.optional(),
});

export const CandidateContestSchema = z.strictObject({
  type: z.literal('candidate'),
  id: Id,
  title: Text('a contest title', 120),
  titles: Translated('a contest title', 120).optional(),
  /** Shown under the title, e.g. "Four-year term". */
  subtitle: Text('a contest subtitle', 160).optional(),
  voteFor: z.number().int(say('voteFor must be a whole number')).min(1, say('voteFor must be at least 1')),
  writeIns: z.number().int(say('writeIns must be a whole number')).min(0, say('writeIns cannot be negative')).max(10, say('at most 10 write-in lines per contest')),
  candidates: z.array(CandidateSchema),
});

export const MeasureContestSchema = z.strictObject({
  type: z.literal('measure'),
  id: Id,
  title: Text('a measure title', 120),
  titles: Translated('a measure title', 120).optional(),
  text: Text('a measure text', 2000),
  yesLabel: Text('a yes label', 40).default('Yes'),
  noLabel: Text('a no label', 40).default('No'),
});

export const ContestSchema = z.discriminatedUnion('type', [CandidateContestSchema, MeasureContestSchema], {
  error: 'type must be "candidate" or "measure"',
});

export const PrecinctSchema = z.strictObject({ id: Id, name: Text('a precinct name', 80), names: Translated('a precinct name', 80).optional() });

export const BallotStyleSchema = z.strictObject({
  id: Id,
  precincts: z.array(Id).min(1, say('a ballot style must be used by at least one precinct')),
  contests: z.array(Id).min(1, say('a ballot style must hold at least one contest')),
});

export const PaperSchema = z.strictObject({
  size: z.enum(['letter', 'legal'], say('paper size must be "letter" or "legal"')),
  sides: z.union([z.literal(1), z.literal(2)], say('sides must be 1 or 2')),
});

export const ElectionDefinitionSchema = z.strictObject({
  format: z.literal('tallyproof-election/1', say('format must be "tallyproof-election/1"')),
  election: z.strictObject({
    id: Id,
    title: Text('the election title', 160),
    titles: Translated('the election title', 160).optional(),
    date: z.iso.date(say('the election date must be a calendar date, YYYY-MM-DD')),
    jurisdiction: Text('the jurisdiction', 160),
  }),
  paper: PaperSchema,
  parties: z.array(PartySchema).default([]),
  contests: z.array(ContestSchema).min(1, say('an election needs at least one contest')),
  precincts: z.array(PrecinctSchema).min(1, say('an election needs at least one precinct')),
  ballotStyles: z.array(BallotStyleSchema).min(1, say('an election needs at least one ballot style')),
});

export type ElectionDefinition = z.infer<typeof ElectionDefinitionSchema>;
export type Contest = z.infer<typeof ContestSchema>;
export type CandidateContest = z.infer<typeof CandidateContestSchema>;
export type MeasureContest = z.infer<typeof MeasureContestSchema>;
export type Candidate = z.infer<typeof CandidateSchema>;
export type Party = z.infer<typeof PartySchema>;
export type Precinct = z.infer<typeof PrecinctSchema>;
export type BallotStyle = z.infer<typeof BallotStyleSchema>;
export type PaperSize = z.infer<typeof PaperSchema>['size'];
