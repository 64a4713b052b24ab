import http from 'node:http';
import { openStream, postJson, request, screenCookie, sessionCookie } from './support/http-client';
import { CONTENT_SECURITY_POLICY, HeadlessServerError, serveStation, type StationServer } from '../../app/station/http-server';
import type { StationStatus } from '../../app/station/api';
import { PUBLIC_ATTENTION } from '../../app/station/public-screen';
import { StationDouble } from './station-double';

describe('headless station HTTP server', () => {
  let station: StationDouble;
  let server: StationServer;

  beforeEach(async () => {
    station = new StationDouble();
    server = await serveStation(station, { port: 0 });
  });
  afterEach(async () => {
    await server.close();
  });

  test('listens on 127.0.0.1 and refuses any other host before opening a socket', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'localhost', '::1']) {
      await expect(serveStation(station, { port: 0, host })).rejects.toThrow(HeadlessServerError);
    }
  });

  test('serves the kiosk page with a strict CSP and no CORS', async () => {
    const r = await request(server.port, 'GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toContain('<html');
    expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const js = await request(server.port, 'GET', '/js/app.mjs');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  test('no file outside the renderer folder is reachable', async () => {
    for (const p of ['/../http-server.ts', '/%2e%2e/http-server.ts', '/js/../../api.ts', '/%2e%2e%2f%2e%2e%2fpackage.json', '/nope.html', '/%E0%A4%A']) {
      const r = await request(server.port, 'GET', p);
      expect([400, 404]).toContain(r.status);
      expect(r.body).not.toContain('serveStation');
    }
  });

  test('status and the calls go through to the station', async () => {
    const s = await request(server.port, 'GET', '/api/status');
    expect(s.status).toBe(200);
    expect(JSON.parse(s.body)).toMatchObject({ polls: 'configured', role: null });

    const bad = await postJson(server.port, '/api/login', { role: 'captain', pin: '9999' });
    expect(bad.status).toBe(200);
    expect(JSON.parse(bad.body)).toEqual({ ok: false, error: { code: 'wrong-pin', message: 'That PIN is not right.' } });
    const good = await postJson(server.port, '/api/login', { role: 'captain', pin: '2222' });
    expect(JSON.parse(good.body)).toEqual({ ok: true, value: { role: 'captain' } });
    const cookie = sessionCookie(good);
    // a client that skips the question is refused: the yes is part of the call, and the schema lets it through
    const unasked = await postJson(server.port, '/api/command', { command: 'open-polls' }, { Cookie: cookie });
    expect(JSON.parse(unasked.body)).toEqual({ ok: false, error: { code: 'confirmation-required', message: expect.stringContaining('Confirm') } });
    expect(JSON.parse((await postJson(server.port, '/api/command', { command: 'open-polls', confirm: 'yes' }, { Cookie: cookie })).body)).toMatchObject({ error: { code: 'bad-input' } });
    const open = await postJson(server.port, '/api/command', { command: 'open-polls', confirm: true }, { Cookie: cookie });
    expect(JSON.parse(open.body)).toMatchObject({ ok: true });
    // the voter's choice comes from the voter screen (the browser signed in on), with the held sheet's token
    const screen = `${cookie}; ${screenCookie(good)}`;
    const voterStream = openStream(server.port, { Cookie: screen });
    await voterStream.until(1);
    const fb = station.feedOvervote();
    const token = await voterStream.token();
    expect(token.sheetId).toBe(fb.sheetId);
    const cast = await postJson(server.port, '/api/voter-decision', { token: token.token, decision: 'cast-as-is' }, { Cookie: screen });
    expect(JSON.parse(cast.body)).toMatchObject({ ok: true, value: { outcome: 'counted' } });
    voterStream.close();
    const out = await request(server.port, 'POST', '/api/logout', { headers: { 'Content-Type': 'application/json', Cookie: cookie } });
    expect(JSON.parse(out.body)).toEqual({ ok: true, value: null });
    expect(station.calls.map((c) => c.method)).toEqual(['status', 'login', 'login', 'command', 'command', 'status', 'voterDecision', 'logout']);
  });

  test('a staff sign-in belongs to the browser that made it: staff calls without its cookie are refused until it ends', async () => {
    // before anyone signs in, a staff call goes to the station, which refuses it for want of a role
    expect(JSON.parse((await postJson(server.port, '/api/command', { command: 'open-polls' })).body)).toMatchObject({ ok: false });
    const wrong = await postJson(server.port, '/api/login', { role: 'captain', pin: '9999' });
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const login = await postJson(server.port, '/api/login', { role: 'captain', pin: '2222' });
    const setCookie = login.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(/^tp_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
    const cookie = sessionCookie(login);
    const before = station.calls.length;
    // another local program, with no cookie or a guessed one: refused, and the station never hears of it
    const strangers: Record<string, string>[] = [{}, { Cookie: 'tp_session=AAAA' }, { Cookie: `other=1; ${cookie.slice(0, -1)}${cookie.endsWith('A') ? 'B' : 'A'}` }];
    for (const headers of strangers) {
      for (const [call, body] of [['/api/command', { command: 'close-polls' }], ['/api/lookup-ballot', { ballotId: 'KNOWN' }], ['/api/logout', {}]] as const) {
        const r = await postJson(server.port, call, body, headers);
        expect([call, r.status, JSON.parse(r.body)]).toEqual([call, 403, { error: { code: 'other-session', message: expect.stringContaining('signed in on another screen') } }]);
      }
    }
    expect(station.calls.length).toBe(before);
    expect(station.status().role).toBe('captain');
    // the voter's choice is not a staff call, but it needs the voter screen's cookie (the signed-in browser has it)
    const fb = station.feedOvervote();
    for (const headers of strangers) expect((await postJson(server.port, '/api/voter-decision', { sheetId: fb.sheetId, decision: 'return' }, headers)).status).toBe(403);
    expect(station.calls.filter((c) => c.method === 'voterDecision')).toEqual([]);
    // the signed-in browser, among its other cookies, goes through
    expect(JSON.parse((await postJson(server.port, '/api/command', { command: 'open-polls', confirm: true }, { Cookie: `lang=es; ${cookie}` })).body)).toMatchObject({ ok: true });
    // a second sign-in (the PIN again) moves the session: the first browser's cookie no longer works
    const again = sessionCookie(await postJson(server.port, '/api/login', { role: 'poll-worker', pin: '1111' }));
    expect(again).not.toBe(cookie);
    expect((await postJson(server.port, '/api/command', { command: 'pause-polls' }, { Cookie: cookie })).status).toBe(403);
    expect(JSON.parse((await postJson(server.port, '/api/command', { command: 'pause-polls' }, { Cookie: again })).body)).toMatchObject({ ok: true });
    // logout clears the cookie; once the station has no role (logout here, or a time-out), calls go to the station again
    const out = await postJson(server.port, '/api/logout', {}, { Cookie: again });
    expect(out.headers['set-cookie']?.[0]).toMatch(/^tp_session=; .*Max-Age=0/);
    const after = await postJson(server.port, '/api/command', { command: 'resume-polls' });
    expect(after.status).toBe(200);
    await postJson(server.port, '/api/login', { role: 'captain', pin: '2222' });
    await station.logout(); // the station ends the sign-in by itself (time-out)
    expect((await postJson(server.port, '/api/command', { command: 'resume-polls' })).status).toBe(200);
  });

  test('bad bodies get 400 with the path of each problem, and never reach the station', async () => {
    const cases: [string, unknown, string[]][] = [
      ['/api/login', { role: 'captain', pin: '12' }, ['pin']],
      ['/api/login', { role: 'mayor', pin: '1234' }, ['role']],
      ['/api/login', { role: 'captain', pin: '1234', extra: 1 }, ['']],
      ['/api/command', { command: 'rm -rf' }, ['command']],
      ['/api/lookup-ballot', {}, ['ballotId']],
      ['/api/logout', { role: 'captain' }, ['']],
      ['/api/login', [1, 2], ['']],
    ];
    for (const [route, body, paths] of cases) {
      const r = await postJson(server.port, route, body);
      expect(r.status).toBe(400);
      const e = JSON.parse(r.body) as { error: { code: string; issues: { path: string }[] } };
      expect(e.error.code).toBe('bad-input');
      expect(e.error.issues.map((i) => i.path).sort()).toEqual(paths.sort());
    }
    const notJson = await request(server.port, 'POST', '/api/login', { body: '{"role":', headers: { 'Content-Type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error.code).toBe('bad-json');
    // A plain HTML form or a text/plain fetch from another page cannot make a JSON call.
    const form = await request(server.port, 'POST', '/api/login', { body: 'role=captain&pin=2222', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect(station.calls).toEqual([]);
  });

  test('oversized bodies get 413, declared or streamed', async () => {
    const big = JSON.stringify({ ballotId: 'x'.repeat(20_000) });
    const declared = await request(server.port, 'POST', '/api/lookup-ballot', { body: big, headers: { 'Content-Type': 'application/json' } });
    expect(declared.status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/lookup-ballot', headers: { Host: `127.0.0.1:${server.port}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 40; i++) req.write('x'.repeat(1000));
      req.end();
    });
    expect(chunked).toBe(413);
    expect(station.calls).toEqual([]);
  });

  test('wrong methods get 405 with Allow, unknown calls 404', async () => {
    const a = await request(server.port, 'GET', '/api/login');
    expect(a.status).toBe(405);
    expect(a.headers.allow).toBe('POST');
    const b = await request(server.port, 'POST', '/api/status', { headers: { 'Content-Type': 'application/json' } });
    expect(b.status).toBe(405);
    expect(b.headers.allow).toBe('GET');
    const c = await request(server.port, 'DELETE', '/index.html');
    expect(c.status).toBe(405);
    const preflight = await request(server.port, 'OPTIONS', '/api/login', { headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const d = await postJson(server.port, '/api/format-disk', {});
    expect(d.status).toBe(404);
  });

  test('a wrong Host (DNS rebinding) or a foreign Origin is refused', async () => {
    const rebound = await request(server.port, 'GET', '/api/status', { headers: { Host: `evil.example:${server.port}` } });
    expect(rebound.status).toBe(421);
    const otherPort = await request(server.port, 'GET', '/', { headers: { Host: `127.0.0.1:${server.port + 1}` } });
    expect(otherPort.status).toBe(421);
    const foreign = await postJson(server.port, '/api/login', { role: 'captain', pin: '2222' }, { Origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const crossSite = await postJson(server.port, '/api/login', { role: 'captain', pin: '2222' }, { 'Sec-Fetch-Site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const own = await postJson(server.port, '/api/login', { role: 'captain', pin: '2222' }, { Origin: `http://127.0.0.1:${server.port}` });
    expect(own.status).toBe(200);
    const viaLocalhost = await request(server.port, 'GET', '/api/status', { headers: { Host: `localhost:${server.port}` } });
    expect(viaLocalhost.status).toBe(200);
    expect(station.calls.filter((c) => c.method === 'login')).toHaveLength(1);
  });

  test('the event stream starts with the status and delivers station events, and unsubscribes on disconnect', async () => {
    const stream = openStream(server.port);
    await stream.until(1);
    station.feedCounted();
    const events = await stream.until(4);
    expect(events[0]).toMatchObject({ type: 'status', status: { polls: 'configured' } });
    expect(events[1]).toMatchObject({ type: 'sheet', feedback: { outcome: 'counted' } });
    expect(events[2]).toEqual({ type: 'cue', cue: 'counted' });
    expect(events[3]).toMatchObject({ type: 'status', status: { counts: { public: 1 } } });
    // one listener is the server's own (it ends a sign-in's session with the station's); the stream adds one
    expect(station.listenerCount).toBe(2);
    stream.close();
    for (let i = 0; i < 100 && station.listenerCount > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(station.listenerCount).toBe(1);
    await server.close();
    expect(station.listenerCount).toBe(0);
  });

  test("the station's instructions, which name ballots, go only to the signed-in browser: status and stream give others a stand-in", async () => {
    const ballotId = 'TPB1-3F2A9C4471D0';
    const publicStream = openStream(server.port);
    await publicStream.until(1);
    station.feedDuplicate(ballotId);
    const seenByAll = await publicStream.until(4);
    expect(seenByAll.map((e) => e.type)).toEqual(['status', 'sheet', 'cue', 'status']);
    expect(JSON.stringify(seenByAll)).not.toContain(ballotId);
    expect(seenByAll[3]).toMatchObject({ type: 'status', status: { attention: PUBLIC_ATTENTION, sheet: { outcome: 'rejected', reasons: [{ code: 'duplicate', voter: 'This ballot has already been counted.', pollWorker: '' }] } } });
    expect((await request(server.port, 'GET', '/api/status')).body).not.toContain(ballotId);

    const cookie = sessionCookie(await postJson(server.port, '/api/login', { role: 'poll-worker', pin: '1111' }));
    // the signed-in browser reads them, on its status and on a stream it opens with its cookie
    expect((JSON.parse((await request(server.port, 'GET', '/api/status', { headers: { Cookie: cookie } })).body) as StationStatus).attention).toContain(ballotId);
    const staffStream = openStream(server.port, { Cookie: cookie });
    const [first] = await staffStream.until(1);
    expect(first).toMatchObject({ type: 'status', status: { role: 'poll-worker', attention: expect.stringContaining(ballotId), sheet: { reasons: [{ pollWorker: expect.stringContaining(ballotId) }] } } });
    // others still do not, nor the stream opened before the sign-in
    expect((await request(server.port, 'GET', '/api/status', { headers: { Cookie: 'tp_session=AAAA' } })).body).not.toContain(ballotId);
    expect(JSON.parse((await postJson(server.port, '/api/command', { command: 'clear-alarm' }, { Cookie: cookie })).body)).toMatchObject({ ok: true });
    const staffSaw = await staffStream.until(2);
    const publicSaw = await publicStream.until(6); // login and the command, each a status
    expect(JSON.stringify(staffSaw[1])).toContain(ballotId);
    expect(JSON.stringify(publicSaw)).not.toContain(ballotId);
    // once the sign-in ends, the staff stream turns public too
    await postJson(server.port, '/api/logout', {}, { Cookie: cookie });
    const afterLogout = await staffStream.until(3);
    expect(afterLogout[2]).toMatchObject({ type: 'status', status: { role: null, attention: PUBLIC_ATTENTION } });
    publicStream.close();
    staffStream.close();
  });
});
