import type { ValidElection } from '../../ballots/election';
import { contestOptions } from '../../ballots/election';
import type { AdjudicatorRole, Decision } from '../ledger/adjudication';
import { normalizeWriteInName, writeInNameProblem } from '../ledger/adjudication';
import type { AdjudicationItem } from '../ledger/adjudicated-tally';
import { adjudicationState, readPendingOfCasts } from '../ledger/adjudicated-tally';
import type { CheckpointSigner } from '../ledger/checkpoint';
import type { Ledger } from '../ledger/ledger';
import type { VerifyOptions } from '../ledger/verify';
import type { AdjudicateArgs, AdjudicationItemView, AdjudicationList, ApiResult, CommandOutcome, PollsState, Role } from './api';
import type { KeptImage } from './adjudication-clips';
import { AdjudicationClipper } from './adjudication-clips';

/** What the auditor's screen needs of the station. */
export interface AdjudicationDeps {
  readonly official: Ledger;
  readonly key: CheckpointSigner;
  readonly election: ValidElection;
  readonly role: () => Role | null;
  readonly polls: () => PollsState;
  readonly verifyOptions: () => VerifyOptions;
  readonly kept: KeptImage;
}

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
const refused = <T>(code: string, message: string): ApiResult<T> => ({ ok: false, error: { code, message } });

/** Who may adjudicate, and when: an auditor or the captain, once the polls closed and the ledger is sealed. */
function allowed(d: AdjudicationDeps): ApiResult<AdjudicatorRole> {
  const role = d.role();
  if (role !== 'auditor' && role !== 'captain') return refused('forbidden', 'Adjudication needs an auditor or captain sign-in.');
  const polls = d.polls();
  if ((polls !== 'closed' && polls !== 'published') || d.official.sealedAt === undefined) return refused('polls-not-closed', 'Marginal marks and write-ins are adjudicated after the polls close.');
  return ok(role);
}

function decisionText(i: AdjudicationItem): string | undefined {
  const d = i.decision;
  if (d === undefined) return undefined;
  switch (d.decision.kind) {
    case 'write-in':
      return `write-in: ${d.decision.name}`;
    case 'marks':
      return d.decision.options.length === 0 ? 'no marks count' : `counts: ${d.decision.options.join(', ')}`;
    default:
      return d.decision.kind;
  }
}

/** The items of the official ledger, verified, each with its clip from the kept scan (or why there is none). */
export async function adjudicationList(d: AdjudicationDeps, all: boolean): Promise<ApiResult<AdjudicationList>> {
  const who = allowed(d);
  if (!who.ok) return refused(who.error.code, who.error.message);
  const state = adjudicationState(d.official.file, d.verifyOptions());
  if (state.items === undefined || state.tally === undefined) {
    return refused('ledger-does-not-verify', `The ledger does not verify (entry ${state.report.problem?.seq}: ${state.report.problem?.message}); call the election office.`);
  }
  const items = state.items.filter((i) => all || i.decision === undefined);
  const pending = readPendingOfCasts(d.official.file, items.map((i) => i.castSeq));
  const clipper = new AdjudicationClipper(d.election, d.kept);
  const byId = new Map(d.election.definition.contests.map((c) => [c.id, c]));
  const views: AdjudicationItemView[] = [];
  for (const i of items) {
    const p = pending.get(i.castSeq);
    const clip = p === undefined ? { why: 'the ballot entry was not found' } : await clipper.clip(i, p.votingId, p.detail);
    const contest = byId.get(i.contest);
    const text = decisionText(i);
    views.push({
      ballotId: i.ballotId,
      contest: i.contest,
      option: i.option,
      kind: i.kind,
      options: contest === undefined ? [] : contestOptions(contest, d.election.definition).map((o) => ({ id: o.id, label: o.label, counted: i.counted.includes(o.id), writeIn: o.writeIn })),
      clip: 'why' in clip ? { why: clip.why } : { dataUrl: `data:image/png;base64,${clip.png.toString('base64')}` },
      ...(i.decision === undefined || text === undefined ? {} : { decision: { entry: i.decision.seq, text } }),
    });
  }
  return ok({ undecided: state.tally.undecided, decided: state.tally.decisions, items: views });
}

/** Records one decision by the signed-in auditor or captain (the ledger checks it as `verify` will). */
export function adjudicate(d: AdjudicationDeps, a: AdjudicateArgs): ApiResult<CommandOutcome> {
  const who = allowed(d);
  if (!who.ok) return refused(who.error.code, who.error.message);
  const role = who.value;
  const session = d.official.adjudicationSession;
  if (session === undefined || session.role !== role) return refused('not-signed-in', 'Sign in again: the ledger has no record of this sign-in since the polls closed.');
  let decision: Decision;
  switch (a.decision) {
    case 'counts':
    case 'not-counted':
    case 'no-vote':
      decision = { kind: a.decision };
      break;
    case 'write-in': {
      const name = normalizeWriteInName(a.name ?? '');
      const problem = writeInNameProblem(name);
      if (problem !== undefined) return refused('bad-name', `${problem[0]?.toUpperCase() ?? ''}${problem.slice(1)}.`);
      decision = { kind: 'write-in', name };
      break;
    }
    case 'marks':
      decision = { kind: 'marks', options: a.marks ?? [] };
      break;
  }
  const r = d.official.adjudicate({ ballotId: a.ballotId, contest: a.contest, option: a.option, decision, adjudicator: { role, session: session.seq } }, d.key);
  if (!r.ok) return refused(r.error.kind, `Not recorded: ${r.error.message}.`);
  return ok({ message: `Recorded (ledger entry ${r.value.seq}): ballot ${r.value.statement.ballotId}, ${a.contest}${a.option === null ? '' : ` / ${a.option}`}.` });
}
