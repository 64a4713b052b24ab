/**
 * `tallyproof station --headless`: the kiosk page and the StationApi over HTTP on the loopback interface,
 * for machines where Electron is unavailable. The station decides who may count and close polls, so the
 * server must never be reachable from another machine or from another web site in the same browser:
 * it binds 127.0.0.1 only, answers only requests whose Host (and Origin, when sent) is its own loopback
 * origin (DNS rebinding), sends no CORS headers, and takes only JSON bodies (no form or text/plain CSRF).
 * A staff sign-in belongs to the browser that made it: the login answer sets an HttpOnly session cookie, and
 * while a role is signed in, staff calls without that cookie are refused (another local program that never
 * typed the PIN cannot ride on the captain's sign-in). The station's instructions, which name ballots by
 * ID, reach only that browser too; every other reader of the status or the event stream gets a stand-in
 * (public-screen.ts), with no sheet IDs, times or role.
 * The voter's choice on a held ballot needs the voter screen's cookie (given to the browser a staff member
 * last signed in on) and a one-time token sent only on that screen's event stream (voter-token.ts).
 * Sockets and event streams are bounded, so no local program can take the descriptors the scanner link
 * and the ledger need (connection-limits.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { API_CALLS, API_CALL_NAMES, EVENTS_PATH, type ApiCallName, type CallAccess, type HttpBodyCall, type HttpBodyOf, type NonStaffCall, type Refusal, type ResultOf, type SheetFeedback, type ApiResult, type StationApi, type StationEvent } from './api';
import { callStation, checkArgs, issuesOf, specOf, type ArgIssue } from './api-dispatch';
import type { ConnectionLimits } from './connection-limits';
import { DEFAULT_CONNECTION_LIMITS, SocketPool, StreamSet, openFileLimit, socketLimitFor } from './connection-limits';
import { CONTENT_SECURITY_POLICY, RENDERER_STATIC_DIR, contentTypeFor, staticFileFor } from './page-files';
import { publicEvent, publicSheet, publicStatus, type SheetAlias } from './public-screen';
import { VoterTokens } from './voter-token';
import { assertNever } from '../../lib/result';

export interface ServeOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Loopback only; anything else is refused before a socket is opened. */
  readonly host?: string;
  /** The renderer's files; default: app/renderer/static next to this module (sources and dist/ alike). */
  readonly staticDir?: string;
  /** Largest accepted request body in bytes (default 16 KiB: the biggest real call is a few hundred bytes). */
  readonly maxBodyBytes?: number;
  /** Seconds between SSE keep-alive comments (default 15). */
  readonly keepAliveSeconds?: number;
  /** Sockets and event streams held at once (connection-limits.ts). */
  readonly limits?: Partial<ConnectionLimits>;
}

export interface StationServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const LOOPBACK_HOST = '127.0.0.1';
/** The page's policy, re-exported for the callers that knew it from here. */
export { CONTENT_SECURITY_POLICY };
const DEFAULT_MAX_BODY = 16 * 1024;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), payment=()',
  'Cache-Control': 'no-store',
};

/** The body of a POST call that takes no argument. */
const EmptyInput = z.strictObject({});

const SESSION_COOKIE = 'tp_session';
/** Marks the voter screen: the browser a staff member last signed in on keeps it after signing out. */
const SCREEN_COOKIE = 'tp_screen';

/** Every call's route, from the call table (api.ts); the paths are part of the headless contract. */
const ROUTES: ReadonlyMap<string, ApiCallName> = new Map(API_CALL_NAMES.map((name) => [API_CALLS[name].http.path, name]));

/** The voter's choice as the voter screen sends it (moved to the call table; named here as before). */
export { VoterDecisionByToken } from './api';

/**
 * What a browser no staff member signed in on is answered, for each call it may make: a call the table
 * opens to anyone or to the voter screen fails the type check until it is decided here.
 */
const PUBLIC_VIEWS: { readonly [K in NonStaffCall]: (answer: ResultOf<K>, alias: SheetAlias) => ResultOf<K> } = {
  status: (status, alias) => publicStatus(status, alias),
  // the role whose PIN the caller typed, nothing else
  login: (answer) => answer,
  voterDecision: (answer, alias) => (answer.ok ? { ok: true, value: publicSheet(answer.value, alias) } : answer),
};

function isNonStaffCall(name: ApiCallName): name is NonStaffCall {
  return specOf(name).access !== 'staff';
}

function isHttpBodyCall(name: ApiCallName): name is HttpBodyCall {
  const http = specOf(name).http;
  return 'body' in http && http.body !== undefined;
}

function publicView(name: ApiCallName, answer: unknown, alias: SheetAlias): unknown {
  // staff calls reach the station from elsewhere only while nobody is signed in, and it refuses them then
  if (!isNonStaffCall(name)) return answer;
  // the answer is the one this call's method gave; TypeScript cannot follow a name chosen at run time
  return (PUBLIC_VIEWS[name] as (answer: unknown, alias: SheetAlias) => unknown)(answer, alias);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function isOk(answer: unknown): boolean {
  return typeof answer === 'object' && answer !== null && (answer as { ok?: unknown }).ok === true;
}

function isLoopback(host: string): boolean {
  return host === LOOPBACK_HOST;
}

export class HeadlessServerError extends Error {
  override readonly name = 'HeadlessServerError';
}

/** Starts the headless server; resolves once it listens. */
export async function serveStation(api: StationApi, opts: ServeOptions): Promise<StationServer> {
  const host = opts.host ?? LOOPBACK_HOST;
  if (!isLoopback(host)) {
    throw new HeadlessServerError(`the headless station listens on ${LOOPBACK_HOST} only, not on "${host}": anyone who can reach it can run the polls`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new HeadlessServerError(`port must be 0..65535, got ${opts.port}`);
  const staticDir = path.resolve(opts.staticDir ?? RENDERER_STATIC_DIR);
  if (!fs.existsSync(path.join(staticDir, 'index.html'))) throw new HeadlessServerError(`the kiosk page is missing: no index.html in ${staticDir}`);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const keepAliveMs = (opts.keepAliveSeconds ?? 15) * 1000;

  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, maxSockets: socketLimitFor(openFileLimit()), ...opts.limits };
  const cut = (res: http.ServerResponse) => res.destroy();
  /** event streams of readers that are neither the signed-in browser nor the voter screen */
  const streams = new StreamSet<http.ServerResponse>(limits.maxStreams, cut);
  /** event streams opened with the signed-in browser's or the voter screen's cookie */
  const screenStreams = new StreamSet<http.ServerResponse>(limits.maxScreenStreams, cut);
  let port = 0;
  /** the signed-in browser's session secret; null while nobody is signed in */
  let session: string | null = null;
  /** the voter screen's secret: the browser a staff member last signed in on; null until someone does */
  let screen: string | null = null;
  const tokens = new VoterTokens();
  const aliasKey = randomBytes(32);
  const alias: SheetAlias = (sheetId) => `sheet-${createHmac('sha256', aliasKey).update(sheetId).digest('base64url').slice(0, 22)}`;
  const server = http.createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: e instanceof Error ? e.message : String(e) } });
      else res.destroy();
    });
  });
  // Slow-loris bodies and idle sockets must not pin the station's only process.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  const sockets = new SocketPool(server, limits.maxSockets, limits.idleSocketMs);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const origins = [`http://${LOOPBACK_HOST}:${port}`, `http://localhost:${port}`];
    const hostHeader = req.headers.host;
    if (hostHeader === undefined || !origins.some((o) => o === `http://${hostHeader.toLowerCase()}`)) {
      return sendJson(res, 421, { error: { code: 'wrong-host', message: `this station answers only at ${origins[0]}` } });
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.includes(origin.toLowerCase())) {
      return sendJson(res, 403, { error: { code: 'wrong-origin', message: 'requests from other web pages are refused' } });
    }
    if (req.headers['sec-fetch-site'] === 'cross-site') {
      return sendJson(res, 403, { error: { code: 'wrong-origin', message: 'requests from other web pages are refused' } });
    }
    const url = new URL(req.url ?? '/', origins[0]);
    const route = url.pathname;
    const method = req.method ?? 'GET';
    if (isStaffScreen(req) || isVoterScreen(req)) sockets.markScreen(req.socket);

    if (route === EVENTS_PATH) {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      return openEventStream(req, res);
    }
    const call = ROUTES.get(route);
    if (call !== undefined) return answerCall(call, req, res);
    if (route.startsWith('/api/')) return sendJson(res, 404, { error: { code: 'no-such-call', message: `no API call ${route}` } });
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    return serveFile(res, route, method === 'HEAD');
  }

  /** One call of the table: its method, its access rule, its body, the station's answer as this browser may see it. */
  async function answerCall(name: ApiCallName, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const spec = specOf(name);
    if ((req.method ?? 'GET') !== spec.http.method) return methodNotAllowed(res, spec.http.method);
    const refusal = accessRefusal(spec.access, req);
    if (refusal !== null) return sendJson(res, 403, { error: refusal });
    let answer: unknown;
    if (spec.http.method === 'GET') {
      // a GET call takes no argument (the table's type allows no other)
      const c = checkArgs(name, []);
      if (!c.ok) return badInput(res, [{ path: '', message: `${name} takes an argument: it cannot be a GET call` }]);
      answer = await callStation(api, c.value);
    } else {
      const json = await jsonBody(req, res);
      if (json === ANSWERED) return;
      if (isHttpBodyCall(name)) {
        const r = API_CALLS[name].http.body.safeParse(json);
        if (!r.success) return badInput(res, issuesOf(r.error));
        answer = await byBody[name](r.data);
      } else {
        let args: unknown[] = [json];
        if (spec.input === null) {
          const empty = EmptyInput.safeParse(json);
          if (!empty.success) return badInput(res, issuesOf(empty.error));
          args = [];
        }
        const c = checkArgs(name, args);
        if (!c.ok) return badInput(res, c.error.kind === 'schema' ? c.error.issues : [{ path: '', message: `${name} takes an argument` }]);
        answer = await callStation(api, c.value);
      }
    }
    if (spec.session === 'begins' && isOk(answer)) {
      session = randomBytes(32).toString('base64url');
      const cookies = [`${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`];
      // the browser staff sign in on is the one voters use: it becomes (or stays) the voter screen
      if (!isVoterScreen(req)) {
        screen = randomBytes(32).toString('base64url');
        cookies.push(`${SCREEN_COOKIE}=${screen}; HttpOnly; SameSite=Strict; Path=/`);
      }
      res.setHeader('Set-Cookie', cookies);
    } else if (spec.session === 'ends' && isOk(answer)) {
      session = null;
      res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    }
    return sendJson(res, 200, isStaffScreen(req) ? answer : publicView(name, answer, alias));
  }

  /** Why this browser may not make a call with this access rule (api.ts, CallAccess), or null when it may. */
  function accessRefusal(access: CallAccess, req: http.IncomingMessage): Refusal | null {
    switch (access) {
      case 'anyone':
        return null;
      case 'staff':
        return session !== null && !isStaffScreen(req) ? { code: 'other-session', message: 'a staff member is signed in on another screen: sign in here with your PIN first' } : null;
      case 'voter-screen':
        return isVoterScreen(req) ? null : { code: 'not-voter-screen', message: "only the station's voter screen takes the voter's choice: a poll worker signs in on it once" };
      default:
        return assertNever(access, 'call access');
    }
  }

  /** The JSON body of a POST call, or ANSWERED once it was refused (not JSON, too large, not parseable). */
  async function jsonBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<unknown> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      sendJson(res, 415, { error: { code: 'not-json', message: 'send the arguments as Content-Type: application/json' } });
      return ANSWERED;
    }
    const body = await readBody(req, maxBody);
    if (body === 'too-large') {
      res.setHeader('Connection', 'close');
      sendJson(res, 413, { error: { code: 'too-large', message: `request bodies are limited to ${maxBody} bytes` } });
      return ANSWERED;
    }
    try {
      return body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch (e) {
      sendJson(res, 400, { error: { code: 'bad-json', message: `the body is not JSON: ${(e as Error).message}` } });
      return ANSWERED;
    }
  }

  /** The calls whose HTTP body is not their argument: how the body becomes the call. */
  const byBody: { readonly [K in HttpBodyCall]: (body: HttpBodyOf<K>) => Promise<ResultOf<K>> } = {
    voterDecision: (body) => decideByToken(body.token, body.decision),
  };

  /** The request comes from the browser holding the signed-in role's session. */
  function isStaffScreen(req: http.IncomingMessage): boolean {
    return session !== null && sameSecret(cookieValue(req.headers.cookie, SESSION_COOKIE), session);
  }

  /** The request comes from the voter screen. */
  function isVoterScreen(req: http.IncomingMessage): boolean {
    return screen !== null && sameSecret(cookieValue(req.headers.cookie, SCREEN_COOKIE), screen);
  }

  /** The voter's choice: the token names the sheet (the answer is shown as the asking screen may see it by answerCall). */
  async function decideByToken(token: string, decision: 'cast-as-is' | 'return'): Promise<ApiResult<SheetFeedback>> {
    const sheetId = tokens.take(token);
    if (sheetId === null) return { ok: false, error: { code: 'no-such-sheet', message: 'That ballot is no longer waiting for your choice.' } };
    return api.voterDecision({ sheetId, decision });
  }

  function openEventStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    sockets.markStream(req.socket);
    const write = (text: string) => {
      // a reader that does not read is cut before its backlog grows without bound
      if (res.writableLength > limits.maxStreamBacklog) res.destroy();
      else res.write(text);
    };
    let tokenSent: string | null = null;
    // judged per event: a stream opened before a sign-in stays public, and one opened after it turns public
    // when the sign-in ends (the page opens a new stream when it signs in)
    const send = (e: StationEvent) => {
      const staff = isStaffScreen(req);
      const shown = staff ? e : publicEvent(e, alias);
      write(`event: ${shown.type}\ndata: ${JSON.stringify(shown)}\n\n`);
      // the held sheet's token goes to the voter screen only, once per stream
      const held = tokens.current;
      if (held !== null && held.token !== tokenSent && isVoterScreen(req)) {
        tokenSent = held.token;
        write(`event: voter-token\ndata: ${JSON.stringify({ sheetId: staff ? held.sheetId : alias(held.sheetId), token: held.token })}\n\n`);
      }
    };
    // The page may have missed events while it loaded: start every stream with the whole picture.
    res.write('retry: 1000\n\n');
    const first: StationEvent = { type: 'status', status: api.status() };
    // a sheet may have been waiting for the voter since before this server started
    tokens.observe(first);
    send(first);
    const unsubscribe = api.subscribe(send);
    const keepAlive = setInterval(() => write(': keep-alive\n\n'), keepAliveMs);
    keepAlive.unref();
    const set = isStaffScreen(req) || isVoterScreen(req) ? screenStreams : streams;
    const end = () => {
      clearInterval(keepAlive);
      unsubscribe();
      set.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
    res.on('error', end);
    set.add(res);
  }

  function serveFile(res: http.ServerResponse, route: string, headOnly: boolean): void {
    const file = staticFileFor(staticDir, route);
    if (file === 'bad-path') return sendJson(res, 400, { error: { code: 'bad-path', message: 'the path is not valid percent-encoding' } });
    let data: Buffer;
    try {
      if (file === null || !fs.statSync(file).isFile()) throw new Error('not a file');
      data = fs.readFileSync(file);
    } catch {
      return sendJson(res, 404, { error: { code: 'not-found', message: 'no such file' } });
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': contentTypeFor(file), 'Content-Length': data.length });
    res.end(headOnly ? undefined : data);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  // a sign-in that ends in the station (logout, time-out, lock-out) takes its session with it
  const endSessions = api.subscribe((e) => {
    if (e.type === 'status' && e.status.role === null) session = null;
    // subscribed before any stream: the token is minted before the streams hear of the held sheet
    tokens.observe(e);
  });
  return {
    url: `http://${LOOPBACK_HOST}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        endSessions();
        for (const s of [...streams.values(), ...screenStreams.values()]) s.end();
        streams.clear();
        screenStreams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function badInput(res: http.ServerResponse, issues: readonly ArgIssue[]): void {
  const message = issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ');
  sendJson(res, 400, { error: { code: 'bad-input', message, issues } });
}

/** jsonBody's answer when it has already answered the request (its refusal is sent). */
const ANSWERED: unique symbol = Symbol('answered');

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': data.length });
  res.end(data);
}

function methodNotAllowed(res: http.ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendJson(res, 405, { error: { code: 'method-not-allowed', message: `use ${allow}` } });
}

/** The body, or 'too-large' as soon as it passes the limit (the rest is not read). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve('too-large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!done) reject(e);
    });
  });
}
