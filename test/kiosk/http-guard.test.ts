/**
 * What another local program can and cannot do to the headless station: decide a voter's held ballot, read
 * sheet IDs, times or who is signed in off the public status and stream, or hold sockets and streams open
 * until the station has no descriptors left.
 */
import net from 'node:net';
import type { StationStatus } from '../../app/station/api';
import { RESERVED_FDS, openFileLimit, socketLimitFor } from '../../app/station/connection-limits';
import { serveStation, type StationServer } from '../../app/station/http-server';
import { openStream, postJson, request, screenCookie, sessionCookie, type Reply } from './support/http-client';
import { StationDouble } from './station-double';

let station: StationDouble;
let server: StationServer;
afterEach(async () => {
  await server.close();
});

/** Signs the captain in and out again: the browser keeps the voter screen's cookie. */
async function registerVoterScreen(): Promise<string> {
  const login = await postJson(server.port, '/api/login', { role: 'captain', pin: '2222' });
  const session = sessionCookie(login);
  const screen = screenCookie(login);
  expect(JSON.parse((await postJson(server.port, '/api/command', { command: 'open-polls', confirm: true }, { Cookie: session })).body)).toMatchObject({ ok: true });
  const out = await postJson(server.port, '/api/logout', {}, { Cookie: `${session}; ${screen}` });
  expect(out.headers['set-cookie']).toEqual([expect.stringMatching(/^tp_session=; /)]);
  return screen;
}

const body = (r: Reply): unknown => JSON.parse(r.body);
const decisions = () => station.calls.filter((c) => c.method === 'voterDecision');

describe("the voter's choice on a held ballot", () => {
  beforeEach(async () => {
    station = new StationDouble();
    server = await serveStation(station, { port: 0 });
  });

  test('a plain local program cannot cast (or return) a held ballot, by its sheet ID or anything else', async () => {
    // a voter screen exists (someone signed in on it); this program never did
    const login = await postJson(server.port, '/api/login', { role: 'captain', pin: '2222' });
    await postJson(server.port, '/api/command', { command: 'open-polls', confirm: true }, { Cookie: sessionCookie(login) });
    await postJson(server.port, '/api/logout', {}, { Cookie: sessionCookie(login) });
    const fb = station.feedOvervote();
    for (const decision of ['cast-as-is', 'return'] as const) {
      const r = await postJson(server.port, '/api/voter-decision', { sheetId: fb.sheetId, decision });
      expect([r.status, body(r)]).toEqual([403, { error: { code: 'not-voter-screen', message: expect.stringContaining('voter screen') } }]);
    }
    // nor with a made-up voter screen cookie and token
    const forged = await postJson(server.port, '/api/voter-decision', { token: 'A'.repeat(43), decision: 'cast-as-is' }, { Cookie: `tp_screen=${'A'.repeat(43)}` });
    expect(forged.status).toBe(403);
    expect(decisions()).toEqual([]);
    expect(station.status().sheet).toMatchObject({ sheetId: fb.sheetId, outcome: 'awaiting-voter' });
  });

  test('the token goes only to the voter screen, is good once, for its own sheet, and dies when the sheet stops waiting', async () => {
    const screen = await registerVoterScreen();
    const voter = openStream(server.port, { Cookie: screen });
    const stranger = openStream(server.port);
    await voter.until(1);
    await stranger.until(1);
    const first = station.feedOvervote();
    const t1 = await voter.token();
    expect(t1.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // the voter screen is not signed in: it names the sheet by the alias public readers see, never the scanner's ID
    const shown = (await voter.until(4)).find((e) => e.type === 'sheet');
    expect(shown).toMatchObject({ type: 'sheet', feedback: { sheetId: t1.sheetId, outcome: 'awaiting-voter' } });
    expect(t1.sheetId).not.toBe(first.sheetId);

    // the token without the screen's cookie, a wrong token with it: nothing happens
    expect((await postJson(server.port, '/api/voter-decision', { token: t1.token, decision: 'cast-as-is' })).status).toBe(403);
    const wrong = await postJson(server.port, '/api/voter-decision', { token: `${t1.token.slice(0, -1)}${t1.token.endsWith('A') ? 'B' : 'A'}`, decision: 'cast-as-is' }, { Cookie: screen });
    expect(body(wrong)).toEqual({ ok: false, error: { code: 'no-such-sheet', message: expect.any(String) } });
    expect(decisions()).toEqual([]);

    // the voter screen's choice goes through, and its answer carries no poll-worker text and no sheet ID
    const chosen = await postJson(server.port, '/api/voter-decision', { token: t1.token, decision: 'return' }, { Cookie: screen });
    expect(body(chosen)).toEqual({ ok: true, value: { sheetId: t1.sheetId, outcome: 'returned', canCastAsIs: false, reasons: [{ code: 'overvote', contests: ['mayor'], voter: 'You marked too many choices in a contest. You may get a new ballot or cast this one as it is; those contests will not count.', pollWorker: '' }] } });
    expect(decisions().map((c) => c.args)).toEqual([{ sheetId: first.sheetId, decision: 'return' }]);
    // used once: again, it does nothing
    expect(body(await postJson(server.port, '/api/voter-decision', { token: t1.token, decision: 'cast-as-is' }, { Cookie: screen }))).toMatchObject({ ok: false, error: { code: 'no-such-sheet' } });

    // the next held sheet gets a new token; it dies when that sheet stops waiting (polls paused: given back)
    station.feedOvervote('council');
    const t2 = await voter.token(2);
    expect(t2.token).not.toBe(t1.token);
    station.feedCounted();
    expect(body(await postJson(server.port, '/api/voter-decision', { token: t2.token, decision: 'cast-as-is' }, { Cookie: screen }))).toMatchObject({ ok: false, error: { code: 'no-such-sheet' } });
    expect(decisions()).toHaveLength(1);

    // no other reader ever saw a token
    expect(stranger.tokens).toEqual([]);
    voter.close();
    stranger.close();
  });

  test('a page opened again while a ballot waits gets the same token; a sign-in on another browser moves the voter screen there', async () => {
    const screen = await registerVoterScreen();
    station.feedOvervote();
    const again = openStream(server.port, { Cookie: screen });
    const t = await again.token();
    const other = await postJson(server.port, '/api/login', { role: 'poll-worker', pin: '1111' });
    const otherScreen = screenCookie(other);
    expect(otherScreen).not.toBe(screen);
    expect((await postJson(server.port, '/api/voter-decision', { token: t.token, decision: 'cast-as-is' }, { Cookie: screen })).status).toBe(403);
    const moved = openStream(server.port, { Cookie: `${sessionCookie(other)}; ${otherScreen}` });
    const t2 = await moved.token();
    // the signed-in browser sees the real sheet ID, and its token names it so
    expect(t2).toEqual({ token: t.token, sheetId: station.status().sheet?.sheetId });
    expect(body(await postJson(server.port, '/api/voter-decision', { token: t.token, decision: 'cast-as-is' }, { Cookie: otherScreen }))).toMatchObject({ ok: true, value: { outcome: 'counted' } });
    again.close();
    moved.close();
  });

  test('bad decision bodies from the voter screen get 400 and never reach the station', async () => {
    const screen = await registerVoterScreen();
    for (const [b, paths] of [
      [{ sheetId: 's-1', decision: 'cast-as-is' }, ['', 'token']],
      [{ token: 'short', decision: 'cast-as-is' }, ['token']],
      [{ token: 'A'.repeat(43), decision: 'maybe' }, ['decision']],
    ] as const) {
      const r = await postJson(server.port, '/api/voter-decision', b, { Cookie: screen });
      expect(r.status).toBe(400);
      expect((body(r) as { error: { issues: { path: string }[] } }).error.issues.map((i) => i.path).sort()).toEqual([...paths].sort());
    }
    expect(decisions()).toEqual([]);
  });
});

describe('what a reader who is not signed in gets', () => {
  beforeEach(async () => {
    station = new StationDouble();
    server = await serveStation(station, { port: 0 });
  });

  test('no sheet IDs, no times, and no role: another browser sees nobody signed in', async () => {
    const stream = openStream(server.port);
    await stream.until(1);
    const login = await postJson(server.port, '/api/login', { role: 'captain', pin: '2222' });
    await postJson(server.port, '/api/command', { command: 'open-polls', confirm: true }, { Cookie: sessionCookie(login) });
    const held = station.feedOvervote();
    const until = '2026-11-03T07:05:00.000Z';
    station.emit({ type: 'status', status: { ...station.status(), lockedOut: { auditor: until } } });
    const status = JSON.parse((await request(server.port, 'GET', '/api/status')).body) as StationStatus;
    expect(status).toMatchObject({ role: null, lockedOut: {}, sheet: { outcome: 'awaiting-voter' } });
    const seen = JSON.stringify([status, ...(await stream.until(7))]);
    expect(seen).not.toContain(held.sheetId);
    expect(seen).not.toContain('captain');
    expect(seen).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    // the same sheet keeps its alias everywhere
    expect(new Set([...seen.matchAll(/"sheetId":"([^"]+)"/g)].map((m) => m[1])).size).toBe(1);
    // the signed-in browser sees all of it
    const staff = JSON.parse((await request(server.port, 'GET', '/api/status', { headers: { Cookie: sessionCookie(login) } })).body) as StationStatus;
    expect(staff).toMatchObject({ role: 'captain', sheet: { sheetId: held.sheetId } });
    stream.close();
  });
});

describe('sockets and event streams are bounded', () => {
  test('public streams over the limit push out the oldest; the screens keep theirs', async () => {
    station = new StationDouble();
    server = await serveStation(station, { port: 0, limits: { maxStreams: 3 } });
    const screen = await registerVoterScreen();
    const voter = openStream(server.port, { Cookie: screen });
    await voter.until(1);
    const strangers = Array.from({ length: 10 }, () => openStream(server.port));
    for (const s of strangers) await s.until(1);
    await Promise.all(strangers.slice(0, 7).map((s) => s.ended));
    // listeners: the server's own, the voter screen's, three strangers'
    expect(station.listenerCount).toBe(5);
    station.feedOvervote();
    expect((await voter.token()).token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const s of strangers.slice(7)) expect((await s.until(3)).length).toBeGreaterThanOrEqual(3);
    for (const s of [voter, ...strangers]) s.close();
  });

  test('sockets over the limit push out the oldest that never showed a screen cookie; idle ones time out', async () => {
    station = new StationDouble();
    server = await serveStation(station, { port: 0, limits: { maxSockets: 8, idleSocketMs: 1000 } });
    const screen = await registerVoterScreen();
    // the voter screen's kept-alive socket, marked by its cookie
    const kept = new net.Socket();
    await new Promise<void>((resolve) => kept.connect(server.port, '127.0.0.1', resolve));
    const keptAnswers: string[] = [];
    kept.on('data', (d: Buffer) => keptAnswers.push(d.toString('latin1')));
    const ask = () => kept.write(`GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nCookie: ${screen}\r\n\r\n`);
    ask();
    while (!keptAnswers.join('').includes('"polls"')) await new Promise((r) => setTimeout(r, 10));
    const idle: { socket: net.Socket; closed: boolean }[] = [];
    for (let i = 0; i < 40; i++) {
      const socket = net.connect(server.port, '127.0.0.1');
      const entry = { socket, closed: false };
      socket.on('close', () => (entry.closed = true));
      socket.on('error', () => undefined);
      idle.push(entry);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()).once('close', () => resolve()));
    }
    // at most 8 held (the screen's one among them); the newest strangers are the ones still open
    while (idle.filter((e) => !e.closed).length > 7) await new Promise((r) => setTimeout(r, 10));
    expect(idle.slice(0, 33).every((e) => e.closed)).toBe(true);
    keptAnswers.length = 0;
    ask();
    while (!keptAnswers.join('').includes('"polls"')) await new Promise((r) => setTimeout(r, 10));
    // a socket that never sends a request is closed once the idle time-out passes
    await Promise.all(idle.map((e) => new Promise<void>((resolve) => (e.closed ? resolve() : e.socket.once('close', () => resolve())))));
    kept.destroy();
  }, 60_000);

  test('the socket limit leaves the station descriptors of its own under a low ulimit -n', () => {
    expect(socketLimitFor(null)).toBe(256);
    expect(socketLimitFor(1024)).toBe(256);
    expect(socketLimitFor(300)).toBe(300 - RESERVED_FDS);
    expect(socketLimitFor(100)).toBe(16);
    const mine = openFileLimit();
    expect(mine).toBeGreaterThan(0);
  });
});
