import type { PollsState, Role, StationCommand } from '../../app/station/api';
import { POLLS_STATES } from '../../app/station/api';
import type { PollsFacts } from '../../app/station/polls';
import { COMMAND_ROLES, decide, eventFor, modeOf, takesBallots } from '../../app/station/polls';

const EMPTY: PollsFacts = { officialBallots: 0, pendingBallots: 0 };

/** Every polls transition the captain (or poll worker) may make, and where it leads; anything else is refused. */
const LEGAL: readonly [PollsState, StationCommand, PollsState, string][] = [
  ['configured', 'enter-test-mode', 'testing', 'reset-test-ledger'],
  ['testing', 'enter-test-mode', 'testing', 'reset-test-ledger'],
  ['configured', 'open-polls', 'open', 'none'],
  ['testing', 'open-polls', 'open', 'none'],
  ['open', 'pause-polls', 'paused', 'none'],
  ['paused', 'resume-polls', 'open', 'none'],
  ['open', 'close-polls', 'closed', 'close-batch'],
  ['paused', 'close-polls', 'closed', 'close-batch'],
  ['closed', 'publish', 'published', 'none'],
  ['published', 'publish', 'published', 'none'],
];
const TRANSITIONS: readonly StationCommand[] = ['enter-test-mode', 'open-polls', 'pause-polls', 'resume-polls', 'close-polls', 'publish'];

describe('polls state machine', () => {
  it.each(LEGAL)('%s --%s--> %s (%s)', (from, command, to, effect) => {
    expect(decide(from, command, 'captain', EMPTY)).toEqual({ ok: true, value: { next: to, effect } });
  });

  const illegal = POLLS_STATES.flatMap((s) => TRANSITIONS.filter((c) => !LEGAL.some(([f, cmd]) => f === s && cmd === c)).map((c) => [s, c] as const));
  it.each(illegal)('%s refuses %s with a reason', (from, command) => {
    const r = decide(from, command, 'captain', EMPTY);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('wrong-state');
      expect(r.error.message).toContain(from);
    }
  });

  it('opening refuses when any official ballot is already counted or pending', () => {
    for (const from of ['configured', 'testing'] as const) {
      const r = decide(from, 'open-polls', 'captain', { officialBallots: 1, pendingBallots: 0 });
      expect(r).toEqual({ ok: false, error: { code: 'official-ballots-exist', message: expect.stringContaining('1 ballot') } });
    }
    expect(decide('configured', 'enter-test-mode', 'captain', { officialBallots: 2, pendingBallots: 0 }).ok).toBe(false);
  });

  it.each([
    ['open', 'close-polls'],
    ['testing', 'enter-test-mode'],
    ['testing', 'open-polls'],
  ] as const)('%s refuses %s while a ballot is pending', (from, command) => {
    const r = decide(from, command, 'captain', { officialBallots: 0, pendingBallots: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('ballots-pending');
  });

  it('a zero tape once ballots are counted is refused', () => {
    expect(decide('open', 'print-zero-tape', 'captain', { officialBallots: 1, pendingBallots: 0 }).ok).toBe(false);
    expect(decide('open', 'print-zero-tape', 'captain', EMPTY).ok).toBe(true);
    expect(decide('closed', 'print-results-tape', 'captain', EMPTY).ok).toBe(true);
    expect(decide('open', 'print-results-tape', 'captain', EMPTY).ok).toBe(false);
  });

  const roles: readonly (Role | null)[] = [null, 'poll-worker', 'captain', 'auditor'];
  const allCommands = Object.keys(COMMAND_ROLES) as StationCommand[];
  it.each(allCommands)('who may %s', (command) => {
    for (const role of roles) {
      // in a state where the command itself is possible, only the role decides
      const state = POLLS_STATES.find((s) => decide(s, command, 'captain', EMPTY).ok) as PollsState;
      const r = decide(state, command, role, EMPTY);
      const allowed = role !== null && COMMAND_ROLES[command].includes(role);
      expect(r.ok).toBe(allowed);
      if (!r.ok) expect(r.error.code).toBe(role === null ? 'login-required' : 'forbidden');
    }
  });

  it('poll workers feed, pause, resume and clear alarms; only captains open and close; auditors only read', () => {
    expect(allCommands.filter((c) => COMMAND_ROLES[c].includes('poll-worker')).sort()).toEqual(['clear-alarm', 'pause-polls', 'reprint-tape', 'resume-polls']);
    expect(allCommands.filter((c) => COMMAND_ROLES[c].includes('auditor')).sort()).toEqual(['export-bundle', 'verify-ledger']);
    expect(allCommands.filter((c) => !COMMAND_ROLES[c].includes('captain'))).toEqual([]);
  });

  it('mode, feeding and audit events per state', () => {
    expect(POLLS_STATES.map(modeOf)).toEqual(['official', 'official', 'test', 'official', 'official', 'official', 'official']);
    expect(POLLS_STATES.filter(takesBallots)).toEqual(['testing', 'open']);
    expect(eventFor('configured', 'open')).toBe('polls-opened');
    expect(eventFor('paused', 'open')).toBe('polls-resumed');
    expect(eventFor('open', 'paused')).toBe('polls-paused');
    expect(eventFor('open', 'closed')).toBe('polls-closed');
    expect(eventFor('testing', 'testing')).toBe('mode-changed');
    expect(eventFor('closed', 'published')).toBe('publish');
  });
});
