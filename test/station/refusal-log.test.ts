/**
 * Every refusal the polls guard can give (polls.ts decide, over each state, command and role) is recorded
 * once with its reason, except the two that are not a person's attempt: nobody signed in, and the question
 * before an irreversible command.
 */
import { POLLS_STATES, ROLES, type Role, type StationCommand } from '../../app/station/api';
import { COMMAND_ROLES, decide } from '../../app/station/polls';
import { refusalEvent } from '../../app/station/refusal-log';

const COMMANDS = Object.keys(COMMAND_ROLES) as StationCommand[];
const FACTS = [
  { officialBallots: 0, pendingBallots: 0, officialZeroTape: false },
  { officialBallots: 0, pendingBallots: 0, officialZeroTape: true },
  { officialBallots: 2, pendingBallots: 0, officialZeroTape: true },
  { officialBallots: 0, pendingBallots: 1, officialZeroTape: true },
];

describe('command-refused events', () => {
  it('one event, naming the person, the command, the polls state and the reason, for every refused attempt', () => {
    const codes = new Set<string>();
    for (const polls of POLLS_STATES)
      for (const command of COMMANDS)
        for (const role of [null, ...ROLES] as (Role | null)[])
          for (const facts of FACTS)
            for (const confirmed of [true, false]) {
              const d = decide(polls, command, role, facts, { confirmed });
              if (d.ok) continue;
              codes.add(d.error.code);
              const e = refusalEvent(command, role, polls, d.error);
              if (role === null || d.error.code === 'confirmation-required') {
                expect([polls, command, role, d.error.code, e]).toEqual([polls, command, role, d.error.code, null]);
                continue;
              }
              expect(e).toEqual({ role, detail: { command, code: d.error.code, polls, reason: d.error.message } });
              expect(d.error.message.length).toBeGreaterThan(20);
            }
    // the guard's refusals this covers, the ones the procedure names among them
    expect([...codes].sort()).toEqual(['ballots-pending', 'confirmation-required', 'forbidden', 'login-required', 'not-zero', 'official-ballots-exist', 'polls-closed', 'wrong-state', 'zero-tape-required']);
  });

  it('a long reason is cut to what a ledger detail holds', () => {
    const e = refusalEvent('open-polls', 'captain', 'open', { code: 'wrong-state', message: 'x'.repeat(5000) });
    expect(e?.detail.reason).toHaveLength(300);
  });
});
