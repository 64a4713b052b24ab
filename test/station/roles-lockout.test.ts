import fs from 'node:fs';
import path from 'node:path';
import type { AuditEvent } from '../../app/ledger/events';
import { dataLayout } from '../../app/ledger/layout';
import { verifyLedgerFile } from '../../app/ledger/verify';
import { LOCKOUT_MS, MAX_FAILURES } from '../../app/station/pins';
import type { Rig } from './support/rig';
import { PINS, startRig, writeSheets } from './support/rig';

let deckDir: string;
beforeAll(async () => {
  deckDir = (await writeSheets([{ kind: 'normal' }])).dir;
});

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

function auditEvents(dataDir: string): AuditEvent[] {
  const events: AuditEvent[] = [];
  const r = verifyLedgerFile(dataLayout(dataDir).ledger('official'), {}, { onEvent: (e) => events.push(e) });
  expect(r.ok).toBe(true);
  return events;
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

describe('roles and PINs', () => {
  it('each role does only its own work; every login, failure and logout is an audit event', async () => {
    rig = await startRig({ deck: deckDir });
    const s = rig.station;
    expect((await s.command({ command: 'open-polls' })).ok).toBe(false);
    expect(await s.login({ role: 'poll-worker', pin: PINS['poll-worker'] })).toEqual({ ok: true, value: { role: 'poll-worker' } });
    expect(s.status().role).toBe('poll-worker');
    const open = await s.command({ command: 'open-polls' });
    expect(open).toEqual({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('captain') } });
    expect((await s.lookupBallot({ ballotId: 'ABCDEFGHJKMN' })).ok).toBe(false);
    expect((await s.logout()).ok).toBe(true);
    expect(s.status().role).toBeNull();

    expect((await s.login({ role: 'auditor', pin: PINS.auditor })).ok).toBe(true);
    expect((await s.command({ command: 'pause-polls' })).ok).toBe(false);
    const v = await s.command({ command: 'verify-ledger' });
    expect(v.ok).toBe(true);
    if (v.ok) expect(v.value.message).toMatch(/^official: ok/);
    expect(await s.lookupBallot({ ballotId: 'ABCDEFGHJKMN' })).toEqual({ ok: true, value: { ballotId: 'ABCDEFGHJKMN', state: 'not-found', batch: null, record: null } });
    await s.logout();

    // a PIN is only good for its own role
    expect(await s.login({ role: 'captain', pin: PINS.auditor })).toEqual({ ok: false, error: { code: 'wrong-pin', message: expect.stringContaining('1 of 5') } });
    // malformed input is refused before anything is checked
    expect(await s.login({ role: 'captain', pin: '12' })).toEqual({ ok: false, error: { code: 'bad-input', message: expect.stringContaining('4 to 12 digits') } });

    const events = auditEvents(rig.dataDir).filter((e) => ['login', 'login-failed', 'logout'].includes(e.type));
    expect(events.map((e) => `${e.type}:${e.role}`)).toEqual(['login:poll-worker', 'logout:poll-worker', 'login:auditor', 'logout:auditor', 'login-failed:captain']);
    // PINs are kept hashed: no clear PIN in any file the station wrote
    for (const f of filesUnder(rig.dataDir)) {
      const text = fs.readFileSync(f).toString('latin1');
      for (const pin of Object.values(PINS)) expect(text.includes(`"${pin}"`)).toBe(false);
    }
  });

  it(`locks logins out after ${MAX_FAILURES} failures for a period, across a restart, and lets the right PIN in afterwards`, async () => {
    let now = new Date('2026-11-03T07:00:00Z');
    const clock = () => now;
    rig = await startRig({ deck: deckDir, now: clock });
    const s = rig.station;
    for (let i = 1; i < MAX_FAILURES; i++) expect((await s.login({ role: 'captain', pin: '9999' })).ok).toBe(false);
    expect(s.status().lockedOutUntil).toBeNull();
    const fifth = await s.login({ role: 'captain', pin: '9999' });
    expect(fifth).toEqual({ ok: false, error: { code: 'locked-out', message: expect.stringContaining('locked until') } });
    const until = new Date(now.getTime() + LOCKOUT_MS).toISOString();
    expect(s.status().lockedOutUntil).toBe(until);
    // even the right PIN is refused while locked out
    expect(await s.login({ role: 'captain', pin: PINS.captain })).toEqual({ ok: false, error: { code: 'locked-out', message: expect.stringContaining(until) } });

    const dataDir = rig.dataDir;
    await rig.stop();
    now = new Date(now.getTime() + LOCKOUT_MS - 1000);
    rig = await startRig({ deck: deckDir, now: clock, dataDir });
    expect(rig.station.status().lockedOutUntil).toBe(until);
    expect((await rig.station.login({ role: 'captain', pin: PINS.captain })).ok).toBe(false);

    now = new Date(now.getTime() + 2000);
    expect(rig.station.status().lockedOutUntil).toBeNull();
    expect(await rig.station.login({ role: 'captain', pin: PINS.captain })).toEqual({ ok: true, value: { role: 'captain' } });

    const failed = auditEvents(dataDir).filter((e) => e.type === 'login-failed');
    expect(failed).toHaveLength(MAX_FAILURES + 2);
    expect(failed[MAX_FAILURES - 1]?.detail).toEqual({ failures: MAX_FAILURES, lockedOut: true, until });
    expect(failed[MAX_FAILURES]?.detail).toEqual({ lockedOut: true });
    expect(failed[MAX_FAILURES]?.at).toBe('2026-11-03T07:00:00Z');
  });
});
