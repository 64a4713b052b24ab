/**
 * A local program floods the headless station with event streams while voters feed ballots: 20,000 streams,
 * up to 480 held at once, against a station whose process may hold 400 descriptors (`ulimit -n`), the
 * pool its scanner link (a pty), ledger and sheet journal draw from too. The station must keep its
 * descriptors bounded, answer the captain, and count every ballot. Loopback only; the flood is bounded in
 * count and time and stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { StationStatus } from '../../app/station/api';
import { EXAMPLES, tempDir, writeTestKeys } from '../support/ballots';
import { writeSheets } from '../station/support/rig';

const ROOT = path.join(__dirname, '..', '..');
const BALLOTS = 10;
const STREAMS = 20_000;
/** below the listen backlog (511), so the kernel queues every connection rather than making clients retry */
const AT_ONCE = 480;
/** under what the flood holds at once: without limits, the station runs out of descriptors */
const FD_LIMIT = 400;
/**
 * the flood stops here whatever happened (a server without limits never lets a stream go). The station
 * spends about 12 s of CPU in all (its start and the ballots' reading included); the limit is for a 2-core
 * machine that other work loads many times over.
 */
const FLOOD_MS = 100_000;
/** a flood stream the server has not cut by then is let go by the program itself */
const HOLD_MS = 5_000;

let child: ChildProcess | undefined;
afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
});

function call(port: number, method: 'GET' | 'POST', route: string, body?: unknown, cookie?: string): Promise<{ status: number; json: unknown; cookies: string[] }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { host: '127.0.0.1', port, method, path: route, agent: false, headers: { Host: `127.0.0.1:${port}`, ...(data ? { 'Content-Type': 'application/json' } : {}), ...(cookie ? { Cookie: cookie } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')), cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? '') }));
      },
    );
    req.on('error', (e) => reject(new Error(`${method} ${route}: ${e.message}`)));
    req.end(data);
  });
}

/** CPU seconds a process has used (user + system). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Opens `total` event streams, `atOnce` at a time, each held until the server cuts it or HOLD_MS pass. */
function flood(port: number, total: number, atOnce: number, deadline: number): { done: Promise<{ started: number; cutByServer: number }>; stop: () => void } {
  let started = 0;
  let cutByServer = 0;
  let live = 0;
  let stopped = false;
  let finish!: (v: { started: number; cutByServer: number }) => void;
  const done = new Promise<{ started: number; cutByServer: number }>((r) => (finish = r));
  const request = `GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`;
  const next = (): void => {
    while (!stopped && live < atOnce && started < total && Date.now() < deadline) {
      started += 1;
      live += 1;
      const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
      let mine = false;
      const hold = setTimeout(() => {
        mine = true;
        socket.destroy();
      }, HOLD_MS);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(hold);
        if (!mine) cutByServer += 1;
        live -= 1;
        if (live === 0 && (stopped || started >= total || Date.now() >= deadline)) finish({ started, cutByServer });
        else setImmediate(next);
      });
    }
  };
  next();
  return { done, stop: () => (stopped = true) };
}

test(`${STREAMS} event streams while ${BALLOTS} ballots feed: descriptors stay bounded, the captain is answered, every ballot is counted`, async () => {
  const work = tempDir('headless-soak');
  const keys = writeTestKeys(work);
  fs.mkdirSync(path.join(work, 'deck'));
  const deck = await writeSheets(
    Array.from({ length: BALLOTS }, (_, n) => ({ kind: 'normal' as const, n })),
    path.join(work, 'deck'),
  );
  const station = spawn(
    'bash',
    [
      '-c',
      `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`,
      process.execPath,
      path.join(ROOT, 'scripts', 'run-ts.js'),
      path.join(__dirname, 'support', 'cli-child.ts'),
      'station',
      '--simulate',
      deck.dir,
      '--simulate-timings',
      'zero',
      '--headless',
      '--port',
      '0',
      '--data',
      path.join(work, 'data'),
      '--election',
      path.join(EXAMPLES, 'municipal.json'),
      '--keys',
      keys,
      '--precinct',
      'p-101',
    ],
    { cwd: work, env: { ...process.env, TALLYPROOF_PINS: 'poll-worker=1111,captain=2222,auditor=3333', TALLYPROOF_STATION_PASSPHRASE: 'soak station passphrase' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = station;
  let stdout = '';
  let stderr = '';
  station.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  station.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => station.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    station.stdout?.on('data', () => {
      const m = /open http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout);
      if (m?.[1] !== undefined) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`station exited ${code} before serving:\n${stdout}\n${stderr}`)));
  });
  const pid = station.pid as number;
  expect(fs.readFileSync(`/proc/${pid}/limits`, 'utf8')).toMatch(new RegExp(`Max open files\\s+${FD_LIMIT}\\s`));
  const baseline = openFds(pid);
  let maxFds = baseline;
  const sampler = setInterval(() => (maxFds = Math.max(maxFds, openFds(pid))), 100);

  const f = flood(port, STREAMS, AT_ONCE, Date.now() + FLOOD_MS);
  try {
    // the flood is on: the captain signs in, opens the polls and signs out; the scanner feeds the pile
    await new Promise((r) => setTimeout(r, 1000));
    const login = await call(port, 'POST', '/api/login', { role: 'captain', pin: '2222' });
    expect(login.json).toEqual({ ok: true, value: { role: 'captain' } });
    const cookie = login.cookies.join('; ');
    expect(await call(port, 'POST', '/api/command', { command: 'print-zero-tape' }, cookie)).toMatchObject({ json: { ok: true } });
    expect(await call(port, 'POST', '/api/command', { command: 'open-polls', confirm: true }, cookie)).toMatchObject({ json: { ok: true } });
    expect(await call(port, 'POST', '/api/logout', {}, cookie)).toMatchObject({ json: { ok: true } });
    // every ballot is counted while the flood goes on
    let counted = 0;
    while (counted < BALLOTS) {
      await new Promise((r) => setTimeout(r, 200));
      counted = ((await call(port, 'GET', '/api/status')).json as StationStatus).counts.public;
    }
  } finally {
    const result = await f.done;
    clearInterval(sampler);
    process.stdout.write(`soak: ${JSON.stringify({ ...result, baselineFds: baseline, maxFds, stationCpuSeconds: cpuSeconds(pid) })}\n`);
  }
  const { started, cutByServer } = await f.done;
  expect(started).toBe(STREAMS);
  // the station cut the streams over its limit itself (a few the program let go of were still queued)
  expect(cutByServer).toBeGreaterThan(STREAMS * 0.9);
  expect(maxFds).toBeLessThanOrEqual(baseline + 256 + 32);

  // after the flood: the ledger verifies with every ballot in it, and no request was lost on the way
  const auditor = await call(port, 'POST', '/api/login', { role: 'auditor', pin: '3333' });
  const verified = await call(port, 'POST', '/api/command', { command: 'verify-ledger' }, auditor.cookies.join('; '));
  expect(verified.json).toMatchObject({ ok: true, value: { message: expect.stringContaining(`${BALLOTS} cast`) } });
  station.kill('SIGINT');
  expect(await exited).toBe(0);
}, 240_000);
