/**
 * The polls procedure through the station API (VVSG 1.1 1.1.3-B, as VxScan runs it): the polls open only after
 * a zero tape of the official ledger is recorded in that ledger; opening, closing and clearing the test ledger
 * need the person's explicit yes; closed polls never open again, and the attempt is an audit event.
 */
import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import type { Station } from '../../app/station/station';
import type { Rig } from './support/rig';
import { PINS, auditEvents, startRig, waitForStatus, writeSheets } from './support/rig';

jest.setTimeout(240_000);

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** The ledger's command-refused entries: who, and the detail. */
function refusalsIn(dataDir: string): { role: string; detail: AuditEvent['detail'] }[] {
  return auditEvents(dataDir)
    .filter((e) => e.type === 'command-refused')
    .map((e) => ({ role: e.role, detail: e.detail }));
}

async function asCaptain(station: Station): Promise<void> {
  const l = await station.login({ role: 'captain', pin: PINS.captain });
  if (!l.ok) throw new Error(l.error.message);
}

describe('the polls procedure', () => {
  it('refuses to open before the zero tape, asks for a yes after it, and the tape found in the ledger after a restart still counts', async () => {
    const { dir } = await writeSheets([{ kind: 'normal' }]);
    rig = await startRig({ deck: dir });
    const s = rig.station;
    await asCaptain(s);
    // confirmed or not, no zero tape: refused, and nothing changed
    expect(await s.command({ command: 'open-polls', confirm: true })).toEqual({ ok: false, error: { code: 'zero-tape-required', message: expect.stringContaining('print the zero tape') } });
    expect(await s.command({ command: 'open-polls' })).toMatchObject({ ok: false, error: { code: 'zero-tape-required' } });
    expect(s.status().polls).toBe('configured');
    expect(auditEvents(rig.dataDir).filter((e) => e.type === 'polls-opened')).toEqual([]);
    // each attempt is one ledger entry naming the captain, the command and why
    expect(refusalsIn(rig.dataDir)).toEqual([
      { role: 'captain', detail: { command: 'open-polls', code: 'zero-tape-required', polls: 'configured', reason: expect.stringContaining('print the zero tape') } },
      { role: 'captain', detail: { command: 'open-polls', code: 'zero-tape-required', polls: 'configured', reason: expect.stringContaining('print the zero tape') } },
    ]);
    // nobody signed in: refused, but no person attempted anything and an anonymous client cannot write the ledger
    await s.logout();
    expect(await s.command({ command: 'open-polls', confirm: true })).toMatchObject({ ok: false, error: { code: 'login-required' } });
    expect(refusalsIn(rig.dataDir)).toHaveLength(2);
    await asCaptain(s);

    expect((await s.command({ command: 'print-zero-tape' })).ok).toBe(true);
    // the station restarts between the tape and the opening: the tape is read back from the ledger
    const dataDir = rig.dataDir;
    await rig.stop();
    rig = await startRig({ deck: dir, dataDir });
    const s2 = rig.station;
    await asCaptain(s2);
    // without the explicit yes: refused with the question, still configured
    const unconfirmed = await s2.command({ command: 'open-polls' });
    expect(unconfirmed).toEqual({ ok: false, error: { code: 'confirmation-required', message: expect.stringContaining('never opened again') } });
    expect(await s2.command({ command: 'open-polls', confirm: false })).toMatchObject({ ok: false, error: { code: 'confirmation-required' } });
    expect(s2.status().polls).toBe('configured');
    // the question before an irreversible command is not a refused attempt: no ledger entry
    expect(refusalsIn(dataDir)).toHaveLength(2);
    expect(await s2.command({ command: 'open-polls', confirm: true })).toEqual({ ok: true, value: { message: 'Polls are open.' } });
    await waitForStatus(s2, (x) => x.counts.public === 1);

    const types = auditEvents(dataDir).map((e) => e.type);
    expect(types.indexOf('tape-printed')).toBeGreaterThan(-1);
    expect(types.indexOf('tape-printed')).toBeLessThan(types.indexOf('polls-opened'));
  });

  it('a zero tape of the test ledger does not open the official polls: leave test mode, print the official one, then open', async () => {
    const { dir } = await writeSheets([{ kind: 'normal', mode: 'test' }]);
    rig = await startRig({ deck: dir });
    const s = rig.station;
    await asCaptain(s);
    expect(await s.command({ command: 'enter-test-mode' })).toMatchObject({ ok: false, error: { code: 'confirmation-required' } });
    expect(s.status().polls).toBe('configured');
    expect((await s.command({ command: 'enter-test-mode', confirm: true })).ok).toBe(true);
    const testTape = await s.command({ command: 'print-zero-tape' });
    expect(testTape.ok && testTape.value.file).toMatch(/zero-test-/);
    await waitForStatus(s, (x) => x.counts.public === 1);
    expect(await s.command({ command: 'open-polls', confirm: true })).toEqual({ ok: false, error: { code: 'zero-tape-required', message: expect.stringContaining('leave test mode') } });
    // recorded in the official ledger, as every refused attempt, test mode or not
    expect(refusalsIn(rig.dataDir)).toEqual([{ role: 'captain', detail: { command: 'open-polls', code: 'zero-tape-required', polls: 'testing', reason: expect.stringContaining('leave test mode') } }]);

    expect(await s.command({ command: 'leave-test-mode' })).toEqual({ ok: true, value: { message: expect.stringContaining('print the zero tape') } });
    expect(s.status()).toMatchObject({ polls: 'configured', mode: 'official', counts: { public: 0, lifetime: 1 } });
    const official = await s.command({ command: 'print-zero-tape' });
    expect(official.ok && official.value.file).toMatch(/zero-official-/);
    expect((await s.command({ command: 'open-polls', confirm: true })).ok).toBe(true);
    expect(s.status()).toMatchObject({ polls: 'open', mode: 'official' });
    // the logic-and-accuracy record is still there
    expect(verifyLedgerFile(dataLayout(rig.dataDir).ledger('test')).summary?.cast).toBe(1);
    const modes = auditEvents(rig.dataDir).filter((e) => e.type === 'mode-changed').map((e) => `${e.detail['from']}>${e.detail['to']}`);
    expect(modes).toEqual(['configured>testing', 'testing>configured']);
  });

  it('closing needs the yes; closed polls never open again, and each attempt is in the ledger', async () => {
    const { dir } = await writeSheets([{ kind: 'normal' }]);
    rig = await startRig({ deck: dir });
    const s = rig.station;
    await asCaptain(s);
    expect((await s.command({ command: 'print-zero-tape' })).ok).toBe(true);
    expect((await s.command({ command: 'open-polls', confirm: true })).ok).toBe(true);
    await waitForStatus(s, (x) => x.counts.public === 1);
    // a zero tape after the first ballot would not show zeros
    expect(await s.command({ command: 'print-zero-tape' })).toMatchObject({ ok: false, error: { code: 'not-zero' } });

    expect(await s.command({ command: 'close-polls' })).toEqual({ ok: false, error: { code: 'confirmation-required', message: expect.stringContaining('cannot be undone') } });
    expect(s.status().polls).toBe('open');
    expect(auditEvents(rig.dataDir).filter((e) => e.type === 'polls-closed')).toEqual([]);
    expect(await s.command({ command: 'close-polls', confirm: true })).toMatchObject({ ok: true, value: { message: expect.stringMatching(/^Polls are closed: 1 ballot/) } });

    for (const confirm of [true, false]) {
      expect(await s.command({ command: 'open-polls', confirm })).toEqual({ ok: false, error: { code: 'polls-closed', message: expect.stringContaining('cannot be opened again') } });
    }
    // the zero tape cannot be printed again now either, nor the polls reopened by any other role
    expect((await s.command({ command: 'print-zero-tape' })).ok).toBe(false);
    await s.logout();
    await s.login({ role: 'poll-worker', pin: PINS['poll-worker'] });
    expect(await s.command({ command: 'open-polls', confirm: true })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(s.status().polls).toBe('closed');

    // every refused attempt once, in order, with the station's reason (the unconfirmed close was a question, not an attempt)
    const closed = { command: 'open-polls', code: 'polls-closed', polls: 'closed', reason: expect.stringContaining('cannot be opened again') };
    expect(refusalsIn(rig.dataDir)).toEqual([
      // while the polls are open the ledger keeps event times to the hour (event-time.ts)
      { role: 'captain', detail: { command: 'print-zero-tape', code: 'not-zero', polls: 'open', reason: expect.stringContaining('1 ballot(s) are already counted'), atPrecision: 'hour' } },
      { role: 'captain', detail: closed },
      { role: 'captain', detail: closed },
      { role: 'captain', detail: { command: 'print-zero-tape', code: 'wrong-state', polls: 'closed', reason: expect.stringContaining('not possible while the station is closed') } },
      { role: 'poll-worker', detail: { command: 'open-polls', code: 'forbidden', polls: 'closed', reason: 'a poll-worker may not "open-polls" (needs captain)' } },
    ]);
    // a refusal is recorded, never a second opening
    expect(auditEvents(rig.dataDir).filter((e) => e.type === 'polls-opened')).toHaveLength(1);
  });
});
