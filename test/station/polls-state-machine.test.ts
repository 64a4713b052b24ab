import type { PollsState, Role, StationCommand } from '../../app/station/api';
import { POLLS_STATES } from '../../app/station/api';
import type { PollsFacts } from '../../app/station/polls';
import { COMMAND_ROLES, IRREVERSIBLE, decide, eventFor, modeOf, takesBallots } from '../../app/station/polls';

/** An empty official ledger whose zero tape is recorded: every step of the polling day is possible. */
const EMPTY: PollsFacts = { officialBallots: 0, pendingBallots: 0, officialZeroTape: true };
const YES = { confirmed: true };

/** Every polls transition the captain (or poll worker) may make, and where it leads; anything else is refused. */
const LEGAL: readonly [PollsState, StationCommand, PollsState, string][] = [
  ['configured', 'enter-test-mode', 'testing', 'reset-test-ledger'],
  ['testing', 'enter-test-mode', 'testing', 'reset-test-ledger'],
  ['testing', 'leave-test-mode', 'configured', 'none'],
  ['configured', 'open-polls', 'open', 'none'],
  ['testing', 'open-polls', 'open', 'none'],
  ['open', 'pause-polls', 'paused', 'none'],
  ['paused', 'resume-polls', 'open', 'none'],
  ['open', 'close-polls', 'closed', 'close-batch'],
  ['paused', 'close-polls', 'closed', 'close-batch'],
  ['closed', 'publish', 'published', 'none'],
  ['published', 'publish', 'published', 'none'],
];
const TRANSITIONS: readonly StationCommand[] = ['enter-test-mode', 'leave-test-mode', 'open-polls', 'pause-polls', 'resume-polls', 'close-polls', 'publish'];

describe('polls state machine', () => {
  it.each(LEGAL)('%s --%s--> %s (%s)', (from, command, to, effect) => {
    expect(decide(from, command, 'captain', EMPTY, YES)).toEqual({ ok: true, value: { next: to, effect } });
  });

  const illegal = POLLS_STATES.flatMap((s) => TRANSITIONS.filter((c) => !LEGAL.some(([f, cmd]) => f === s && cmd === c)).map((c) => [s, c] as const));
  it.each(illegal)('%s refuses %s with a reason', (from, command) => {
    const r = decide(from, command, 'captain', EMPTY, YES);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      // opening closed polls again has its own refusal (the station logs it)
      expect(r.error.code).toBe(command === 'open-polls' && (from === 'closed' || from === 'published') ? 'polls-closed' : 'wrong-state');
      expect(r.error.message).toContain(from);
    }
  });

  it('opening refuses when any official ballot is already counted or pending', () => {
    for (const from of ['configured', 'testing'] as const) {
      const r = decide(from, 'open-polls', 'captain', { ...EMPTY, officialBallots: 1 }, YES);
      expect(r).toEqual({ ok: false, error: { code: 'official-ballots-exist', message: expect.stringContaining('1 ballot') } });
    }
    expect(decide('configured', 'enter-test-mode', 'captain', { ...EMPTY, officialBallots: 2 }, YES).ok).toBe(false);
  });

  it('opening refuses until the zero tape of the official ledger is recorded, confirmed or not', () => {
    const noTape = { ...EMPTY, officialZeroTape: false };
    expect(decide('configured', 'open-polls', 'captain', noTape, YES)).toEqual({ ok: false, error: { code: 'zero-tape-required', message: expect.stringContaining('print the zero tape') } });
    // from test mode the official tape cannot be printed: the captain is told to leave test mode first
    expect(decide('testing', 'open-polls', 'captain', noTape, YES)).toEqual({ ok: false, error: { code: 'zero-tape-required', message: expect.stringContaining('leave test mode') } });
    // the tape itself may be printed before opening, in either mode
    expect(decide('configured', 'print-zero-tape', 'captain', noTape)).toEqual({ ok: true, value: { next: 'configured', effect: 'none' } });
    expect(decide('testing', 'leave-test-mode', 'captain', noTape)).toEqual({ ok: true, value: { next: 'configured', effect: 'none' } });
    expect(decide('configured', 'open-polls', 'captain', EMPTY, YES).ok).toBe(true);
  });

  it('open, close, publish and clearing the test ledger need the explicit confirmation; everything else does not', () => {
    expect(Object.keys(IRREVERSIBLE).sort()).toEqual(['close-polls', 'enter-test-mode', 'open-polls', 'publish']);
    for (const [from, command] of [['configured', 'open-polls'], ['testing', 'open-polls'], ['open', 'close-polls'], ['paused', 'close-polls'], ['closed', 'publish'], ['configured', 'enter-test-mode'], ['testing', 'enter-test-mode']] as const) {
      expect(decide(from, command, 'captain', EMPTY)).toEqual({ ok: false, error: { code: 'confirmation-required', message: expect.stringContaining('Confirm') } });
      expect(decide(from, command, 'captain', EMPTY, { confirmed: false }).ok).toBe(false);
      expect(decide(from, command, 'captain', EMPTY, YES).ok).toBe(true);
    }
    for (const [from, command] of [['open', 'pause-polls'], ['paused', 'resume-polls'], ['testing', 'leave-test-mode'], ['configured', 'print-zero-tape'], ['open', 'clear-alarm']] as const) {
      expect(decide(from, command, 'captain', EMPTY).ok).toBe(true);
    }
  });

  it('the confirmation is asked last: a command the station would refuse anyway is refused for its own reason', () => {
    expect(decide('configured', 'open-polls', 'captain', { ...EMPTY, officialZeroTape: false })).toMatchObject({ ok: false, error: { code: 'zero-tape-required' } });
    expect(decide('open', 'close-polls', 'captain', { ...EMPTY, pendingBallots: 1 })).toMatchObject({ ok: false, error: { code: 'ballots-pending' } });
    expect(decide('open', 'close-polls', null, EMPTY, YES)).toMatchObject({ ok: false, error: { code: 'login-required' } });
    expect(decide('open', 'close-polls', 'poll-worker', EMPTY, YES)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it.each(['closed', 'published'] as const)('reopening %s polls is refused, confirmed or not', (from) => {
    expect(decide(from, 'open-polls', 'captain', EMPTY, YES)).toEqual({ ok: false, error: { code: 'polls-closed', message: expect.stringContaining('cannot be opened again') } });
  });

  it.each([
    ['open', 'close-polls'],
    ['testing', 'enter-test-mode'],
    ['testing', 'open-polls'],
    ['testing', 'leave-test-mode'],
  ] as const)('%s refuses %s while a ballot is pending', (from, command) => {
    const r = decide(from, command, 'captain', { ...EMPTY, pendingBallots: 1 }, YES);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('ballots-pending');
  });

  it('a zero tape once ballots are counted is refused', () => {
    expect(decide('open', 'print-zero-tape', 'captain', { ...EMPTY, officialBallots: 1 }).ok).toBe(false);
    expect(decide('open', 'print-zero-tape', 'captain', EMPTY).ok).toBe(true);
    expect(decide('closed', 'print-results-tape', 'captain', EMPTY).ok).toBe(true);
    expect(decide('open', 'print-results-tape', 'captain', EMPTY).ok).toBe(false);
  });

  const roles: readonly (Role | null)[] = [null, 'poll-worker', 'captain', 'auditor'];
  const allCommands = Object.keys(COMMAND_ROLES) as StationCommand[];
  it.each(allCommands)('who may %s', (command) => {
    for (const role of roles) {
      // in a state where the command itself is possible, only the role decides
      const state = POLLS_STATES.find((s) => decide(s, command, 'captain', EMPTY, YES).ok) as PollsState;
      const r = decide(state, command, role, EMPTY, YES);
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
    expect(eventFor('testing', 'configured')).toBe('mode-changed');
    expect(eventFor('closed', 'published')).toBe('publish');
  });
});
