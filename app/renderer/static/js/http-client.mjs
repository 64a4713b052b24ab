// @ts-check
/* global fetch, EventSource -- browser globals: the page is type-checked with the DOM library by app/renderer/tsconfig.json */
/**
 * The kiosk API in a plain browser: the same calls as the Electron preload, made against the headless
 * station's JSON endpoints on this page's own origin, with station events from its SSE stream. Every call
 * is made as the call table routes it (api-routes.mjs, generated from app/station/api.ts).
 */
import { API_ROUTES, EVENTS_PATH } from './api-routes.mjs';

/** @typedef {import('../../../preload/kiosk-api').KioskApi} KioskApi */
/** @typedef {import('../../../station/api').ApiCallName} ApiCallName */
/** @typedef {import('../../../station/api').StationEvent} StationEvent */
/** @typedef {import('../../../station/api').Refusal} Refusal */

/**
 * @template T
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<import('../../../station/api').ApiResult<T>>}
 */
async function post(path, body) {
  let res;
  try {
    res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    return { ok: false, error: { code: 'connection', message: 'The station does not answer.' } };
  }
  const json = await res.json().catch(() => null);
  if (res.ok) return json;
  /** @type {Refusal | undefined} */
  const error = json && typeof json === 'object' && 'error' in json ? json.error : undefined;
  return { ok: false, error: { code: error?.code ?? `http-${res.status}`, message: error?.message ?? `HTTP ${res.status}` } };
}

/**
 * One call as its route says: a GET answers the value itself (and throws on an HTTP error); a POST
 * answers an ApiResult, the station's refusal or the server's.
 * @param {ApiCallName} name
 * @param {unknown} args
 * @returns {Promise<unknown>}
 */
async function callOverHttp(name, args) {
  const route = API_ROUTES[name];
  if (route.method === 'POST') return post(route.path, args ?? {});
  const res = await fetch(route.path, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
  return res.json();
}

/** @param {unknown} r */
const isOk = (r) => typeof r === 'object' && r !== null && 'ok' in r && r.ok === true;

/** @returns {KioskApi} */
export function createHttpClient() {
  /**
   * The open event streams' re-openers. The server shows staff instructions only on the stream of the
   * browser holding the sign-in's session cookie, and a stream carries the cookie it was opened with: a
   * sign-in or sign-out here opens the streams again (each starts with a whole status).
   * @type {Set<() => void>}
   */
  const streams = new Set();
  /**
   * The held ballot's one-time token, which the station sends only on the voter screen's stream: the
   * voter's choice is sent with it instead of the sheet's ID (a program that is not the voter screen has none).
   * @type {{ sheetId: string, token: string } | null}
   */
  let held = null;
  /** @param {MessageEvent<string>} m */
  const onToken = (m) => {
    const t = /** @type {unknown} */ (JSON.parse(m.data));
    if (t !== null && typeof t === 'object' && 'sheetId' in t && 'token' in t && typeof t.sheetId === 'string' && typeof t.token === 'string') held = { sheetId: t.sheetId, token: t.token };
  };
  /** @param {Promise<unknown>} call */
  const thenReopen = async (call) => {
    const r = await call;
    if (isOk(r)) for (const reopen of streams) reopen();
    return r;
  };
  /** @type {Record<string, (args?: unknown) => Promise<unknown>>} */
  const calls = {};
  for (const name of /** @type {ApiCallName[]} */ (Object.keys(API_ROUTES))) {
    calls[name] = API_ROUTES[name].session === undefined ? (args) => callOverHttp(name, args) : (args) => thenReopen(callOverHttp(name, args));
  }
  /** @type {KioskApi['voterDecision']} */
  const voterDecision = async (args) => {
    const h = held;
    // the token names the sheet it was sent for: never spend it on another the page is (still) showing
    if (h === null || h.sheetId !== args.sheetId) return { ok: false, error: { code: 'not-voter-screen', message: 'This screen cannot take the choice for that ballot: ask a poll worker.' } };
    held = null;
    // over HTTP the choice names its ballot by the held ballot's one-time token, not by its sheet ID
    return post(API_ROUTES.voterDecision.path, { token: h.token, decision: args.decision });
  };
  return /** @type {KioskApi} */ ({
    ...calls,
    voterDecision,
    subscribe(listener) {
      /** @param {MessageEvent<string>} m */
      const onMessage = (m) => listener(/** @type {StationEvent} */ (JSON.parse(m.data)));
      /** @type {EventSource | null} */
      let source = null;
      const open = () => {
        source?.close();
        // EventSource reconnects by itself; the server starts every stream with a full status.
        source = new EventSource(EVENTS_PATH);
        for (const type of ['status', 'sheet', 'alarm', 'cue']) source.addEventListener(type, onMessage);
        source.addEventListener('voter-token', onToken);
      };
      open();
      streams.add(open);
      return () => {
        streams.delete(open);
        source?.close();
      };
    },
  });
}
