/** A plain HTTP client of the headless server, as a browser or any other local program would talk to it. */
import http from 'node:http';
import type { StationEvent } from '../../../app/station/api';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(port: number, method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { Host: `127.0.0.1:${port}`, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export const postJson = (port: number, path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(port, 'POST', path, { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });

/** `tp_session=…` from a login answer, as a browser would send it back. */
export function sessionCookie(r: Reply): string {
  const c = r.headers['set-cookie']?.[0]?.split(';')[0];
  if (c === undefined) throw new Error('no session cookie');
  return c;
}

/** `tp_screen=…` (the voter screen's cookie) from a login answer. */
export function screenCookie(r: Reply): string {
  const c = r.headers['set-cookie']?.find((x) => x.startsWith('tp_screen='))?.split(';')[0];
  if (c === undefined) throw new Error('no voter screen cookie');
  return c;
}

export interface VoterToken {
  sheetId: string;
  token: string;
}

export interface Stream {
  until: (n: number) => Promise<StationEvent[]>;
  /** the n-th voter-token event this stream received (1 = the first) */
  token: (n?: number) => Promise<VoterToken>;
  readonly tokens: VoterToken[];
  /** resolves when the server ends the stream */
  readonly ended: Promise<void>;
  close: () => void;
}

/** An SSE client of /api/events that keeps every event (voter tokens apart). */
export function openStream(port: number, headers: Record<string, string> = {}): Stream {
  const events: StationEvent[] = [];
  const tokens: VoterToken[] = [];
  const waiting: { ready: () => boolean; resolve: () => void }[] = [];
  let ended!: () => void;
  const endedP = new Promise<void>((r) => (ended = r));
  const req = http.request({ host: '127.0.0.1', port, path: '/api/events', headers: { Host: `127.0.0.1:${port}`, Accept: 'text/event-stream', ...headers } }, (res) => {
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    let buf = '';
    res.setEncoding('utf8');
    res.on('close', () => ended());
    res.on('data', (chunk: string) => {
      buf += chunk;
      let at: number;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, at);
        buf = buf.slice(at + 2);
        const lines = block.split('\n');
        const data = lines.find((l) => l.startsWith('data: '));
        const name = lines.find((l) => l.startsWith('event: '))?.slice(7);
        if (data === undefined) continue;
        if (name === 'voter-token') tokens.push(JSON.parse(data.slice(6)) as VoterToken);
        else events.push(JSON.parse(data.slice(6)) as StationEvent);
      }
      for (const w of waiting.filter((x) => x.ready())) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  req.on('error', () => ended()); // closed by the test or the server
  req.end();
  const wait = <T>(ready: () => boolean, value: () => T): Promise<T> =>
    ready() ? Promise.resolve(value()) : new Promise<T>((resolve) => waiting.push({ ready, resolve: () => resolve(value()) }));
  return {
    until: (n) => wait(() => events.length >= n, () => [...events]),
    token: (n = 1) => wait(() => tokens.length >= n, () => tokens[n - 1] as VoterToken),
    tokens,
    ended: endedP,
    close: () => req.destroy(),
  };
}
