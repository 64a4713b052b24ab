import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { checkCall, isKioskPage, KIOSK_PAGE } from '../../app/main/ipc-guard';
import { RemoteStation, serveOverPort, type PortLike } from '../../app/main/station-relay';
import { CHANNEL_PREFIX, EVENT_CHANNEL, KIOSK_CALLS, channelOf } from '../../app/preload/kiosk-api';
import type { StationEvent } from '../../app/station/api';
import { StationDouble } from './station-double';

describe('IPC sender check', () => {
  test('only our kiosk page on the app:// scheme passes', () => {
    for (const ok of ['app://kiosk/index.html', 'app://kiosk/', 'app://kiosk/index.html?x=1', 'app://kiosk/index.html#voter']) expect(isKioskPage(ok)).toBe(true);
    for (const bad of [
      undefined,
      null,
      '',
      'not a url',
      'file:///opt/tallyproof/index.html',
      'http://127.0.0.1:8470/index.html',
      'https://kiosk/index.html',
      'app://evil/index.html',
      'app://kiosk.evil/index.html',
      'app://user:pw@kiosk/index.html',
      'app://kiosk/other.html',
      'app://kiosk/js/app.mjs',
      'about:blank',
      'data:text/html,<script>1</script>',
    ]) {
      expect(isKioskPage(bad)).toBe(false);
    }
  });

  test('a call from another frame is refused whatever its arguments', () => {
    const r = checkCall('https://evil.example/', 'login', [{ role: 'captain', pin: '1234' }]);
    expect(r).toEqual({ ok: false, error: { code: 'wrong-sender', message: 'IPC from a page that is not the kiosk is refused' } });
    expect(checkCall(undefined, 'status', [])).toMatchObject({ ok: false, error: { code: 'wrong-sender' } });
  });
});

describe('IPC argument check', () => {
  test('good calls pass with their parsed arguments', () => {
    expect(checkCall(KIOSK_PAGE, 'status', [])).toEqual({ ok: true, value: { call: 'status' } });
    expect(checkCall(KIOSK_PAGE, 'logout', [])).toEqual({ ok: true, value: { call: 'logout' } });
    expect(checkCall(KIOSK_PAGE, 'login', [{ role: 'auditor', pin: '123456' }])).toEqual({ ok: true, value: { call: 'login', args: { role: 'auditor', pin: '123456' } } });
    expect(checkCall(KIOSK_PAGE, 'command', [{ command: 'open-polls' }])).toEqual({ ok: true, value: { call: 'command', args: { command: 'open-polls' } } });
    expect(checkCall(KIOSK_PAGE, 'command', [{ command: 'open-polls', confirm: true }])).toEqual({ ok: true, value: { call: 'command', args: { command: 'open-polls', confirm: true } } });
    expect(checkCall(KIOSK_PAGE, 'voterDecision', [{ sheetId: 's1', decision: 'return' }])).toMatchObject({ ok: true });
    expect(checkCall(KIOSK_PAGE, 'lookupBallot', [{ ballotId: 'ABC' }])).toMatchObject({ ok: true });
  });

  test('bad calls are refused with the path of the problem', () => {
    const cases: [string, unknown[], string][] = [
      ['subscribe', [], 'no call named subscribe'],
      ['__proto__', [], 'no call named __proto__'],
      ['status', [1], 'status takes no arguments, got 1'],
      ['logout', [{}], 'logout takes no arguments, got 1'],
      ['login', [], 'login takes one argument, got 0'],
      ['login', [{ role: 'captain', pin: '1234' }, 'extra'], 'login takes one argument, got 2'],
      ['login', [{ role: 'captain', pin: '12ab' }], 'login: pin: a PIN is 4 to 12 digits'],
      ['login', [{ role: 'root', pin: '1234' }], 'login: role: '],
      ['command', [{ command: 'format-disk' }], 'command: command: '],
      ['command', [{ command: 'open-polls', as: 'captain' }], 'command: (argument): '],
      ['voterDecision', [{ sheetId: 'x'.repeat(65), decision: 'cast-as-is' }], 'voterDecision: sheetId: '],
      ['lookupBallot', ['ABC'], 'lookupBallot: (argument): '],
    ];
    for (const [call, args, message] of cases) {
      const r = checkCall(KIOSK_PAGE, call, args);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.message.startsWith(message)).toBe(true);
    }
  });
});

describe('the preload', () => {
  test('exposes exactly the kiosk calls on the channels main.ts handles, and nothing else', () => {
    const src = fs.readFileSync(path.join(__dirname, '..', '..', 'app', 'preload', 'preload.ts'), 'utf8');
    const invoked = [...src.matchAll(/invoke\('(\w+)'/g)].map((m) => m[1]);
    expect(invoked.sort()).toEqual([...KIOSK_CALLS].sort());
    expect(src).toContain(`ipcRenderer.invoke(\`${CHANNEL_PREFIX}\${call}\``);
    expect(src).toContain(`'${EVENT_CHANNEL}'`);
    expect([...src.matchAll(/exposeInMainWorld\(/g)]).toHaveLength(1);
    expect(channelOf('login')).toBe('tallyproof:login');
    // Runtime imports other than electron cannot load in a sandboxed preload.
    const runtimeImports = [...src.matchAll(/^import (?!type )[^;]* from '([^']+)'/gm)].map((m) => m[1]);
    expect(runtimeImports).toEqual(['electron']);
  });
});

describe('station relay between the utility process and main', () => {
  function ports(): { a: PortLike; b: PortLike; close(): void } {
    const ch = new MessageChannel();
    const wrap = (p: typeof ch.port1): PortLike => ({ post: (m) => p.postMessage(m), onMessage: (l) => p.on('message', l) });
    return { a: wrap(ch.port1), b: wrap(ch.port2), close: () => ch.port1.close() };
  }

  test('calls and events cross the port; bad arguments are refused on the station side too', async () => {
    const station = new StationDouble();
    const { a, b, close } = ports();
    serveOverPort(station, a);
    const remote = new RemoteStation(b);
    a.post({ kind: 'ready' });
    await remote.ready();
    expect(await remote.status()).toMatchObject({ polls: 'configured' });
    expect(await remote.login({ role: 'captain', pin: '2222' })).toEqual({ ok: true, value: { role: 'captain' } });
    // the yes crosses the port with the call; without it the station refuses
    expect(await remote.command({ command: 'open-polls' })).toMatchObject({ ok: false, error: { code: 'confirmation-required' } });
    expect(await remote.command({ command: 'open-polls', confirm: true })).toMatchObject({ ok: true });
    const events: StationEvent[] = [];
    const got = new Promise<void>((resolve) =>
      remote.subscribe((e) => {
        events.push(e);
        if (e.type === 'status') resolve();
      }),
    );
    station.feedCounted();
    await got;
    expect(events.map((e) => e.type)).toEqual(['sheet', 'cue', 'status']);
    // A forged message straight onto the port (not through checkCall in main) is still checked.
    await expect(remote.call({ call: 'login', args: { role: 'captain', pin: 'x' } as never })).rejects.toThrow('login: pin: a PIN is 4 to 12 digits');
    expect(station.calls.filter((c) => c.method === 'login')).toHaveLength(1);
    close();
  });

  test('a station that fails to start, or stops, fails every waiting call with the reason', async () => {
    const { a, b, close } = ports();
    const remote = new RemoteStation(b);
    const waiting = remote.status();
    a.post({ kind: 'failed', message: 'election.json: no such file' });
    await expect(remote.ready()).rejects.toThrow('election.json: no such file');
    await expect(waiting).rejects.toThrow('election.json: no such file');
    await expect(remote.status()).rejects.toThrow('election.json: no such file');
    close();
  });
});
