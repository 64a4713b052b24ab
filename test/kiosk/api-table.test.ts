/**
 * The call table (app/station/api.ts) walked through both transports: every call is reachable over IPC
 * from the kiosk page and over HTTP with the credentials its access rule names, and refused without them;
 * names that are not calls are refused by both. The samples below are typed by the table, so a call added
 * to it fails the type check here until it has samples, and so is walked too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { checkCall, KIOSK_PAGE } from '../../app/main/ipc-guard';
import { RemoteStation, serveOverPort, type PortLike } from '../../app/main/station-relay';
import { KIOSK_CALLS } from '../../app/preload/kiosk-api';
import { API_CALLS, API_CALL_NAMES, EVENTS_PATH, type ApiCallName, type ArgsOf, type HttpBodyOf } from '../../app/station/api';
import { checkArgs, specOf } from '../../app/station/api-dispatch';
import { API_ROUTES_MODULE, apiRoutesModuleText, browserRoutes } from '../../app/station/api-routes-module';
import { serveStation, type StationServer } from '../../app/station/http-server';
import { openStream, postJson, request, screenCookie, sessionCookie, type Reply } from './support/http-client';
import { StationDouble } from './station-double';

/** What a walk needs to make a call: the ballot held for the voter (its scanner ID, and its token on HTTP). */
interface Held {
  readonly sheetId: string;
  readonly token: string;
}

/** Each call's argument over IPC. */
const IPC_ARGS: { readonly [K in ApiCallName]: (held: Held) => ArgsOf<K> } = {
  status: () => undefined,
  login: () => ({ role: 'poll-worker', pin: '1111' }),
  logout: () => undefined,
  command: () => ({ command: 'pause-polls' }),
  voterDecision: (held) => ({ sheetId: held.sheetId, decision: 'return' }),
  lookupBallot: () => ({ ballotId: 'KNOWN' }),
  adjudicationList: () => ({ all: true }),
  adjudicate: () => ({ ballotId: 'A00000000001', contest: 'mayor', option: 'write-in-1', decision: 'write-in', name: 'Jane' }),
};

/** Each call's HTTP body (undefined: a GET). */
const HTTP_BODY: { readonly [K in ApiCallName]: (held: Held) => HttpBodyOf<K> | Record<string, never> } = {
  status: () => undefined,
  login: () => ({ role: 'poll-worker', pin: '1111' }),
  logout: () => ({}),
  command: () => ({ command: 'pause-polls' }),
  voterDecision: (held) => ({ token: held.token, decision: 'return' }),
  lookupBallot: () => ({ ballotId: 'KNOWN' }),
  adjudicationList: () => ({ all: true }),
  adjudicate: () => ({ ballotId: 'A00000000001', contest: 'mayor', option: 'write-in-1', decision: 'write-in', name: 'Jane' }),
};

/** Names that are not calls: prototype members, the push channel, HTTP paths, other spellings. */
const NOT_CALLS = ['subscribe', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'close', '', '/api/login', 'lookup-ballot', 'voter-decision', 'Status', 'status '];

describe('the call table', () => {
  test('one route per call, under /api/, apart from the event stream; a GET takes no argument', () => {
    const paths = API_CALL_NAMES.map((n) => API_CALLS[n].http.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const n of API_CALL_NAMES) {
      const spec = specOf(n);
      expect(spec.http.path).toMatch(/^\/api\/[a-z][a-z-]*$/);
      expect(spec.http.path).not.toBe(EVENTS_PATH);
      if (spec.http.method === 'GET') expect([n, spec.input]).toEqual([n, null]);
    }
    expect([...KIOSK_CALLS]).toEqual([...API_CALL_NAMES]);
  });

  test("the browser's routes module is the table's, as generated", () => {
    expect(fs.readFileSync(API_ROUTES_MODULE, 'utf8')).toBe(apiRoutesModuleText());
    expect(Object.keys(browserRoutes())).toEqual([...API_CALL_NAMES]);
    for (const n of API_CALL_NAMES) expect(browserRoutes()[n]).toEqual({ method: API_CALLS[n].http.method, path: API_CALLS[n].http.path, ...('session' in API_CALLS[n] ? { session: API_CALLS[n].session } : {}) });
  });
});

test('the Electron main process does not load the headless HTTP server: the page helpers both need are in page-files.ts', () => {
  const dir = path.join(__dirname, '..', '..', 'app', 'main');
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const imports = [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/^import [^;]* from '([^']+)'/gm)].map((m) => m[1]);
    expect([f, imports.filter((i) => i?.endsWith('/http-server'))]).toEqual([f, []]);
  }
});

describe('every call over IPC', () => {
  function ports(): { a: PortLike; b: PortLike; close(): void } {
    const ch = new MessageChannel();
    const wrap = (p: typeof ch.port1): PortLike => ({ post: (m) => p.postMessage(m), onMessage: (l) => p.on('message', l) });
    return { a: wrap(ch.port1), b: wrap(ch.port2), close: () => ch.port1.close() };
  }

  test.each(API_CALL_NAMES.map((n) => [n]))('%s: from the kiosk page it reaches the station; from another frame, or with another argument count, it does not', async (name) => {
    const station = new StationDouble();
    const { a, b, close } = ports();
    serveOverPort(station, a);
    const remote = new RemoteStation(b);
    a.post({ kind: 'ready' });
    await remote.ready();
    await remote.login({ role: 'captain', pin: '2222' });
    await remote.command({ command: 'open-polls', confirm: true });
    const held = { sheetId: station.feedOvervote().sheetId, token: '' };
    const arg = IPC_ARGS[name](held);
    const args = arg === undefined ? [] : [arg];

    for (const sender of ['https://evil.example/', 'app://kiosk/other.html', undefined]) expect(checkCall(sender, name, args)).toMatchObject({ ok: false, error: { code: 'wrong-sender' } });
    for (const wrong of [[...args, {}], args.length === 0 ? [{}] : []]) {
      expect(checkCall(KIOSK_PAGE, name, wrong)).toMatchObject({ ok: false, error: { code: 'bad-arguments', message: expect.stringMatching(new RegExp(`^${name} takes (no arguments|one argument), got ${wrong.length}$`)) } });
      await expect(remote.call({ call: name, ...(wrong.length === 1 ? { args: wrong[0] } : {}) } as never)).rejects.toThrow(`${name} takes`);
    }

    const checked = checkCall(KIOSK_PAGE, name, args);
    expect(checked).toEqual({ ok: true, value: arg === undefined ? { call: name } : { call: name, args: arg } });
    if (!checked.ok) return;
    const before = station.calls.length;
    await remote.call(checked.value);
    expect(station.calls.slice(before).map((c) => c.method)).toEqual([name]);
    close();
  });

  test('names that are not calls are refused by the guard, and a forged message with one never reaches the station', async () => {
    for (const n of NOT_CALLS) expect(checkCall(KIOSK_PAGE, n, [])).toEqual({ ok: false, error: { code: 'unknown-call', message: `no call named ${n}` } });
    const station = new StationDouble();
    const { a, b, close } = ports();
    serveOverPort(station, a);
    const answers: unknown[] = [];
    b.onMessage((m) => answers.push(m));
    for (const [i, n] of NOT_CALLS.entries()) b.post({ kind: 'call', id: 1000 + i, call: n, args: [] });
    // messages on a port arrive in order: once this call's answer is back, the forged ones were heard and dropped
    const remote = new RemoteStation(b);
    a.post({ kind: 'ready' });
    await remote.ready();
    await remote.status();
    expect(station.calls.map((c) => c.method)).toEqual(['status']);
    expect(answers.filter((m) => typeof m === 'object' && m !== null && 'id' in m && (m as { id: number }).id >= 1000)).toEqual([]);
    close();
  });

  test('the argument check is the one the table gives: the HTTP body of the voter choice is not an IPC argument', () => {
    // the voter screen's token is HTTP's way to name the held ballot; the kiosk page names it by its sheet ID
    expect(checkArgs('voterDecision', [{ token: 'A'.repeat(43), decision: 'return' }])).toMatchObject({ ok: false, error: { kind: 'schema' } });
    expect(checkCall(KIOSK_PAGE, 'voterDecision', [{ token: 'A'.repeat(43), decision: 'return' }])).toMatchObject({ ok: false, error: { code: 'bad-arguments' } });
  });
});

describe('every call over HTTP', () => {
  let station: StationDouble;
  let server: StationServer;
  afterEach(async () => {
    await server.close();
  });

  const body = (r: Reply): unknown => JSON.parse(r.body);
  function send(name: ApiCallName, held: Held, headers: Record<string, string>): Promise<Reply> {
    const route = API_CALLS[name].http;
    const b = HTTP_BODY[name](held);
    return route.method === 'GET' ? request(server.port, 'GET', route.path, { headers }) : postJson(server.port, route.path, b, headers);
  }

  test.each(API_CALL_NAMES.map((n) => [n, API_CALLS[n].access]))('%s (%s): reachable with the credentials its access names, refused without them', async (name, access) => {
    station = new StationDouble();
    server = await serveStation(station, { port: 0 });
    // a captain signs in on the kiosk browser: it holds the staff session and is the voter screen
    const login = await postJson(server.port, '/api/login', { role: 'captain', pin: '2222' });
    const session = sessionCookie(login);
    const screen = screenCookie(login);
    await postJson(server.port, '/api/command', { command: 'open-polls', confirm: true }, { Cookie: session });
    const voterStream = openStream(server.port, { Cookie: `${session}; ${screen}` });
    await voterStream.until(1);
    station.feedOvervote();
    const held = await voterStream.token();
    voterStream.close();

    const route = API_CALLS[name].http;
    const other = route.method === 'GET' ? 'POST' : 'GET';
    const wrongMethod = await request(server.port, other, route.path, { headers: { 'Content-Type': 'application/json', Cookie: `${session}; ${screen}` } });
    expect([wrongMethod.status, wrongMethod.headers.allow]).toEqual([405, route.method]);

    const heard = async (r: Promise<Reply>): Promise<{ reply: Reply; methods: string[] }> => {
      const before = station.calls.length;
      const reply = await r;
      return { reply, methods: station.calls.slice(before).map((c) => c.method) };
    };
    // who may not: a program with no cookie, or a made-up one, and (for the voter's choice) the staff session alone
    const strangers: Record<string, string>[] = [{}, { Cookie: 'tp_session=AAAA; tp_screen=AAAA' }];
    const refused: Record<string, string>[] = access === 'voter-screen' ? [...strangers, { Cookie: session }] : access === 'staff' ? strangers : [];
    for (const headers of refused) {
      const { reply, methods } = await heard(send(name, held, headers));
      expect([reply.status, body(reply), methods]).toEqual([403, { error: { code: access === 'staff' ? 'other-session' : 'not-voter-screen', message: expect.any(String) } }, []]);
    }
    // who may
    const allowed: Record<string, string> = access === 'anyone' ? {} : access === 'staff' ? { Cookie: session } : { Cookie: screen };
    const { reply, methods } = await heard(send(name, held, allowed));
    expect([reply.status, methods]).toEqual([200, [name]]);
    if (route.method === 'POST') expect(body(reply)).toHaveProperty('ok');
  });

  test('with nobody signed in, the server leaves staff calls to the station (it refuses them for want of a role)', async () => {
    station = new StationDouble();
    server = await serveStation(station, { port: 0 });
    const held = { sheetId: '', token: '' };
    for (const name of API_CALL_NAMES.filter((n) => API_CALLS[n].access === 'staff')) {
      const before = station.calls.length;
      const r = await send(name, held, {});
      expect([name, r.status, station.calls.slice(before).map((c) => c.method)]).toEqual([name, 200, [name]]);
    }
  });

  test('paths that are not calls get 404, and IPC names are not paths', async () => {
    station = new StationDouble();
    server = await serveStation(station, { port: 0 });
    for (const p of ['/api/voterDecision', '/api/lookupBallot', '/api/subscribe', '/api/__proto__', '/api/constructor', '/api/toString', '/api/', '/api/events/x', '/api/status/', '/api/login/..']) {
      const r = await postJson(server.port, p, {});
      expect([p, r.status, (body(r) as { error: { code: string } }).error.code]).toEqual([p, 404, 'no-such-call']);
    }
    expect(station.calls).toEqual([]);
  });
});
