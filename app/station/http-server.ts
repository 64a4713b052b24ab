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
import type { StationApi, StationEvent } from './api';
import { CommandInput, LoginInput, LookupInput } from './api';
import type { ConnectionLimits } from './connection-limits';
import { DEFAULT_CONNECTION_LIMITS, SocketPool, StreamSet, openFileLimit, socketLimitFor } from './connection-limits';
import { CONTENT_SECURITY_POLICY, RENDERER_STATIC_DIR, contentTypeFor, staticFileFor } from './page-files';
import { publicEvent, publicSheet, publicStatus, type SheetAlias } from './public-screen';
import { TOKEN_PATTERN, VoterTokens } from './voter-token';

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

const EmptyInput = z.strictObject({});

const SESSION_COOKIE = 'tp_session';
/** Marks the voter screen: the browser a staff member last signed in on keeps it after signing out. */
const SCREEN_COOKIE = 'tp_screen';
/** Calls that act with the signed-in role: they must come from the browser that signed in. */
const STAFF_CALLS: ReadonlySet<string> = new Set(['/api/logout', '/api/command', '/api/lookup-ballot']);
const VOTER_DECISION = '/api/voter-decision';

/** The voter's choice as the voter screen sends it: the held sheet's one-time token, not its ID. */
export const VoterDecisionByToken = z.strictObject({
  token: z.string().regex(TOKEN_PATTERN, "the held ballot's token, as the voter screen received it"),
  decision: z.enum(['cast-as-is', 'return']),
});

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

/** What a call needs besides its body: the station, and (for the voter's choice) the held sheet's token. */
interface CallContext {
  readonly api: StationApi;
  decideByToken(token: string, decision: z.infer<typeof VoterDecisionByToken>['decision']): Promise<unknown>;
}

/** One POST endpoint per StationApi call that takes input; the path names are part of the headless contract. */
const CALLS: Readonly<Record<string, (ctx: CallContext, body: unknown) => Promise<unknown> | { issues: z.core.$ZodIssue[] }>> = {
  '/api/login': (c, body) => parsed(LoginInput, body, (a) => c.api.login(a)),
  '/api/logout': (c, body) => parsed(EmptyInput, body, () => c.api.logout()),
  '/api/command': (c, body) => parsed(CommandInput, body, (a) => c.api.command(a)),
  [VOTER_DECISION]: (c, body) => parsed(VoterDecisionByToken, body, (a) => c.decideByToken(a.token, a.decision)),
  '/api/lookup-ballot': (c, body) => parsed(LookupInput, body, (a) => c.api.lookupBallot(a)),
};

function parsed<S extends z.ZodType>(schema: S, body: unknown, call: (args: z.infer<S>) => Promise<unknown>): Promise<unknown> | { issues: z.core.$ZodIssue[] } {
  const r = schema.safeParse(body);
  if (!r.success) return { issues: r.error.issues };
  return call(r.data);
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

    if (route === '/api/status') {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, isStaffScreen(req) ? api.status() : publicStatus(api.status(), alias));
    }
    if (route === '/api/events') {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      return openEventStream(req, res);
    }
    const call = CALLS[route];
    if (call !== undefined) {
      if (method !== 'POST') return methodNotAllowed(res, 'POST');
      if (STAFF_CALLS.has(route) && session !== null && !isStaffScreen(req)) {
        return sendJson(res, 403, { error: { code: 'other-session', message: 'a staff member is signed in on another screen: sign in here with your PIN first' } });
      }
      if (route === VOTER_DECISION && !isVoterScreen(req)) {
        return sendJson(res, 403, { error: { code: 'not-voter-screen', message: "only the station's voter screen takes the voter's choice: a poll worker signs in on it once" } });
      }
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') {
        return sendJson(res, 415, { error: { code: 'not-json', message: 'send the arguments as Content-Type: application/json' } });
      }
      const body = await readBody(req, maxBody);
      if (body === 'too-large') {
        res.setHeader('Connection', 'close');
        return sendJson(res, 413, { error: { code: 'too-large', message: `request bodies are limited to ${maxBody} bytes` } });
      }
      let json: unknown;
      try {
        json = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch (e) {
        return sendJson(res, 400, { error: { code: 'bad-json', message: `the body is not JSON: ${(e as Error).message}` } });
      }
      const out = call({ api, decideByToken: (token, decision) => decideByToken(req, token, decision) }, json);
      if ('issues' in out) {
        const issues = out.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
        const message = issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ');
        return sendJson(res, 400, { error: { code: 'bad-input', message, issues } });
      }
      const answer = await out;
      if (route === '/api/login' && isOk(answer)) {
        session = randomBytes(32).toString('base64url');
        const cookies = [`${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`];
        // the browser staff sign in on is the one voters use: it becomes (or stays) the voter screen
        if (!isVoterScreen(req)) {
          screen = randomBytes(32).toString('base64url');
          cookies.push(`${SCREEN_COOKIE}=${screen}; HttpOnly; SameSite=Strict; Path=/`);
        }
        res.setHeader('Set-Cookie', cookies);
      } else if (route === '/api/logout' && isOk(answer)) {
        session = null;
        res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
      }
      return sendJson(res, 200, answer);
    }
    if (route.startsWith('/api/')) return sendJson(res, 404, { error: { code: 'no-such-call', message: `no API call ${route}` } });
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    return serveFile(res, route, method === 'HEAD');
  }

  /** The request comes from the browser holding the signed-in role's session. */
  function isStaffScreen(req: http.IncomingMessage): boolean {
    return session !== null && sameSecret(cookieValue(req.headers.cookie, SESSION_COOKIE), session);
  }

  /** The request comes from the voter screen. */
  function isVoterScreen(req: http.IncomingMessage): boolean {
    return screen !== null && sameSecret(cookieValue(req.headers.cookie, SCREEN_COOKIE), screen);
  }

  /** The voter's choice: the token names the sheet; the answer is shown as the asking screen may see it. */
  async function decideByToken(req: http.IncomingMessage, token: string, decision: 'cast-as-is' | 'return'): Promise<unknown> {
    const sheetId = tokens.take(token);
    if (sheetId === null) return { ok: false, error: { code: 'no-such-sheet', message: 'That ballot is no longer waiting for your choice.' } };
    const answer = await api.voterDecision({ sheetId, decision });
    if (!answer.ok || isStaffScreen(req)) return answer;
    return { ok: true, value: publicSheet(answer.value, alias) };
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
