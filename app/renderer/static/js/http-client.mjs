// @ts-check
/* global fetch, EventSource -- browser globals: the page is type-checked with the DOM library by app/renderer/tsconfig.json */
/**
 * The kiosk API in a plain browser: the same calls as the Electron preload, made against the headless
 * station's JSON endpoints on this page's own origin, with station events from its SSE stream.
 */

/** @typedef {import('../../../preload/kiosk-api').KioskApi} KioskApi */
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
  /**
   * @template T
   * @param {Promise<import('../../../station/api').ApiResult<T>>} call
   */
  const thenReopen = async (call) => {
    const r = await call;
    if (r.ok) for (const reopen of streams) reopen();
    return r;
  };
  return {
    async status() {
      const res = await fetch('/api/status', { credentials: 'same-origin' });
      if (!res.ok) throw new Error(`status: HTTP ${res.status}`);
      return res.json();
    },
    login: (args) => thenReopen(post('/api/login', args)),
    logout: () => thenReopen(post('/api/logout', {})),
    command: (args) => post('/api/command', args),
    async voterDecision(args) {
      const h = held;
      // the token names the sheet it was sent for: never spend it on another the page is (still) showing
      if (h === null || h.sheetId !== args.sheetId) return { ok: false, error: { code: 'not-voter-screen', message: 'This screen cannot take the choice for that ballot: ask a poll worker.' } };
      held = null;
      return post('/api/voter-decision', { token: h.token, decision: args.decision });
    },
    lookupBallot: (args) => post('/api/lookup-ballot', args),
    subscribe(listener) {
      /** @param {MessageEvent<string>} m */
      const onMessage = (m) => listener(/** @type {StationEvent} */ (JSON.parse(m.data)));
      /** @type {EventSource | null} */
      let source = null;
      const open = () => {
        source?.close();
        // EventSource reconnects by itself; the server starts every stream with a full status.
        source = new EventSource('/api/events');
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
  };
}
