import fs from 'node:fs';
import path from 'node:path';
import { FIRST_LOCKOUT_MS, MAX_FAILURES, MAX_LOCKOUT_MS, lockoutMs } from '../../app/station/pins';
import type { Rig } from './support/rig';
import { PINS, auditEvents, startRig, waitForStatus, writeSheets } from './support/rig';
import { stationConfigSchema } from '../../app/station/station-config';

let deckDir: string;
beforeAll(async () => {
  deckDir = (await writeSheets([{ kind: 'normal' }])).dir;
});

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

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
    const open = await s.command({ command: 'open-polls', confirm: true });
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

  it(`locks one role's sign-in after ${MAX_FAILURES} wrong PINs, across a restart; other roles still sign in; the right PIN gets in afterwards`, async () => {
    let now = new Date('2026-11-03T07:00:00Z');
    const clock = () => now;
    rig = await startRig({ deck: deckDir, now: clock });
    const s = rig.station;
    for (let i = 1; i < MAX_FAILURES; i++) expect((await s.login({ role: 'captain', pin: '9999' })).ok).toBe(false);
    expect(s.status().lockedOut).toEqual({});
    const fifth = await s.login({ role: 'captain', pin: '9999' });
    expect(fifth).toEqual({ ok: false, error: { code: 'locked-out', message: expect.stringContaining('the captain sign-in is locked for 1 min') } });
    const until = new Date(now.getTime() + FIRST_LOCKOUT_MS).toISOString();
    expect(s.status().lockedOut).toEqual({ captain: until });
    // even the right PIN is refused while locked out, and the refusal says how long to wait
    now = new Date(now.getTime() + 20_000);
    expect(await s.login({ role: 'captain', pin: PINS.captain })).toEqual({ ok: false, error: { code: 'locked-out', message: expect.stringContaining('try again in 40 s') } });
    // the captain's lock-out is the captain's: a poll worker and an auditor still sign in
    expect(await s.login({ role: 'poll-worker', pin: PINS['poll-worker'] })).toEqual({ ok: true, value: { role: 'poll-worker' } });
    expect(await s.login({ role: 'auditor', pin: PINS.auditor })).toEqual({ ok: true, value: { role: 'auditor' } });
    await s.logout();

    const dataDir = rig.dataDir;
    await rig.stop();
    now = new Date(new Date(until).getTime() - 1000);
    rig = await startRig({ deck: deckDir, now: clock, dataDir });
    expect(rig.station.status().lockedOut).toEqual({ captain: until });
    expect((await rig.station.login({ role: 'captain', pin: PINS.captain })).ok).toBe(false);

    now = new Date(now.getTime() + 2000);
    expect(rig.station.status().lockedOut).toEqual({});
    expect(await rig.station.login({ role: 'captain', pin: PINS.captain })).toEqual({ ok: true, value: { role: 'captain' } });
    // a right PIN starts the count over
    expect(await rig.station.login({ role: 'captain', pin: '9999' })).toEqual({ ok: false, error: { code: 'wrong-pin', message: expect.stringContaining(`1 of ${MAX_FAILURES}`) } });

    const failed = auditEvents(dataDir).filter((e) => e.type === 'login-failed');
    expect(failed).toHaveLength(MAX_FAILURES + 3);
    expect(failed[MAX_FAILURES - 1]?.detail).toEqual({ failures: MAX_FAILURES, lockedOut: true, until });
    expect(failed[MAX_FAILURES]?.detail).toEqual({ lockedOut: true });
    expect(failed[MAX_FAILURES]?.at).toBe('2026-11-03T07:00:20Z');
  });

  it('backs off: every wrong PIN after a lock-out locks again for twice as long, up to an hour', async () => {
    let now = new Date('2026-11-03T07:00:00Z');
    rig = await startRig({ deck: deckDir, now: () => now });
    const s = rig.station;
    for (let i = 1; i < MAX_FAILURES; i++) expect((await s.login({ role: 'poll-worker', pin: '9999' })).ok).toBe(false);
    const waits: number[] = [];
    for (let n = MAX_FAILURES; n < MAX_FAILURES + 9; n++) {
      const r = await s.login({ role: 'poll-worker', pin: '9999' });
      expect(r).toMatchObject({ ok: false, error: { code: 'locked-out' } });
      const until = s.status().lockedOut['poll-worker'];
      if (until === undefined) throw new Error('no lock-out after a wrong PIN past the limit');
      waits.push(new Date(until).getTime() - now.getTime());
      // a wrong PIN while locked changes nothing; the next one counts once the lock has ended
      await s.login({ role: 'poll-worker', pin: '9999' });
      expect(s.status().lockedOut['poll-worker']).toBe(until);
      now = new Date(new Date(until).getTime() + 1000);
    }
    expect(waits.map((ms) => ms / 60_000)).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
    expect(MAX_LOCKOUT_MS).toBe(60 * 60_000);
    expect(lockoutMs(MAX_FAILURES - 1)).toBe(0);
    // the captain was never locked by the poll worker's wrong PINs
    expect(s.status().lockedOut.captain).toBeUndefined();
    expect((await s.login({ role: 'captain', pin: PINS.captain })).ok).toBe(true);
  });

  it("reads a state file from before per-role lock-outs: its lock-out holds for every role", async () => {
    const now = new Date('2026-11-03T07:00:00Z');
    rig = await startRig({ deck: deckDir, now: () => now });
    const dataDir = rig.dataDir;
    await rig.stop();
    const file = path.join(dataDir, 'station', 'state.json');
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const until = '2026-11-03T07:03:00.000Z';
    fs.writeFileSync(file, JSON.stringify({ ...state, lockout: { failures: 5, until } }));
    rig = await startRig({ deck: deckDir, now: () => now, dataDir });
    expect(rig.station.status().lockedOut).toEqual({ 'poll-worker': until, captain: until, auditor: until });
    expect(await rig.station.login({ role: 'auditor', pin: PINS.auditor })).toMatchObject({ ok: false, error: { code: 'locked-out', message: expect.stringContaining('3 min') } });
  });
});

describe('idle sign-out', () => {
  it('a staff sign-in nobody uses ends by itself, as an audit event; commands keep it going', async () => {
    rig = await startRig({ deck: deckDir, staffIdleSignOutSeconds: 5 });
    const s = rig.station;
    expect((await s.login({ role: 'poll-worker', pin: PINS['poll-worker'] })).ok).toBe(true);
    // a command a second apart, for longer than the idle time: each one starts it over
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      expect((await s.command({ command: 'verify-ledger' })).ok).toBe(false); // a poll worker may not, but asked
      expect(s.status().role).toBe('poll-worker');
    }
    await waitForStatus(s, (st) => st.role === null);
    expect(await s.command({ command: 'pause-polls' })).toMatchObject({ ok: false, error: { code: 'login-required' } });
    const ends = auditEvents(rig.dataDir).filter((e) => e.type === 'logout');
    expect(ends.map((e) => [e.role, e.detail])).toEqual([['poll-worker', { idle: true }]]);
  });

  it('refuses an idle time that is not a positive number of seconds, and station.json takes 15 s to an hour', async () => {
    await expect(startRig({ deck: deckDir, staffIdleSignOutSeconds: 0 })).rejects.toThrow(/staffIdleSignOutSeconds/);
    const base = { data: 'd', election: 'e.json', keys: 'k', precinct: 'p', scanner: { kind: 'sane', device: 'x' } };
    expect(stationConfigSchema.safeParse({ ...base, staffIdleSignOutSeconds: 120 }).success).toBe(true);
    for (const bad of [0, 14, 3601, 1.5, '120']) expect(stationConfigSchema.safeParse({ ...base, staffIdleSignOutSeconds: bad }).success).toBe(false);
  });
});
