import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileSystemFlusher } from '../../app/county/log/fs-flusher';
import { TlogError } from '../../app/county/tlog/stored-hashes';

/**
 * The county log's whole-file-system flush (`sync -f`, the real command) through one small helper shell, so the
 * server is not forked for each flush: the helper is reused, and one that fails, is killed or cannot find `sync`
 * fails only its own flush; the next starts afresh.
 */

let dir: string;
let flusher: FileSystemFlusher;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-flusher-'));
  flusher = new FileSystemFlusher(dir);
});
afterEach(() => {
  flusher.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 25));
  return !alive(pid);
}

test('flushes run through one helper, started once; close ends it', async () => {
  await flusher.flush();
  const pid = flusher.helperPid;
  expect(pid).toBeGreaterThan(0);
  await Promise.all([flusher.flush(), flusher.flush(), flusher.flush()]);
  expect(flusher.helperPid).toBe(pid);
  flusher.close();
  expect(flusher.helperPid).toBeUndefined();
  expect(await gone(pid as number)).toBe(true);
});

test('a helper killed while idle is replaced at the next flush', async () => {
  await flusher.flush();
  const first = flusher.helperPid as number;
  process.kill(first, 'SIGKILL');
  expect(await gone(first)).toBe(true);
  await flusher.flush();
  expect(flusher.helperPid).not.toBe(first);
});

test('a helper killed while a flush waits fails that flush, saying so; the next flush works', async () => {
  await flusher.flush();
  const first = flusher.helperPid as number;
  // stopped, so the request stays unanswered until the kill
  process.kill(first, 'SIGSTOP');
  const waiting = flusher.flush();
  process.kill(first, 'SIGKILL');
  await expect(waiting).rejects.toThrow(/the file system flusher \(\/bin\/sh\) ended \(SIGKILL\) before it answered/);
  await flusher.flush();
  expect(flusher.helperPid).not.toBe(first);
});

test("sync's own failure is the flush's error (a directory that is gone), and the helper after it is a fresh one", async () => {
  const goneDir = path.join(dir, 'not-there');
  const f = new FileSystemFlusher(goneDir);
  try {
    const e = await f.flush().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(TlogError);
    expect((e as Error).message).toMatch(new RegExp(`^sync -f ${goneDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*No such file or directory`));
    expect(f.helperPid).toBeUndefined();
    fs.mkdirSync(goneDir);
    await f.flush();
  } finally {
    f.close();
  }
});

test('no sync command on the PATH: the flush fails naming it; with the PATH back, the next one works', async () => {
  const path0 = process.env.PATH;
  process.env.PATH = path.join(dir, 'no-such-bin');
  try {
    await expect(flusher.flush()).rejects.toThrow(/^sync -f .*: .*sync.*not found/);
  } finally {
    process.env.PATH = path0;
  }
  await flusher.flush();
});

test('an idle helper does not keep the process alive; one flush waiting does', () => {
  const script = `
    const { FileSystemFlusher } = require(${JSON.stringify(path.resolve(__dirname, '../../app/county/log/fs-flusher.ts'))});
    const f = new FileSystemFlusher(${JSON.stringify(dir)});
    // nothing else holds the event loop: the process must stay until the answer, then end by itself
    f.flush().then(() => console.log('flushed'), (e) => console.log('failed', e.message));
  `;
  const r = spawnSync(process.execPath, ['-r', path.resolve(__dirname, '../../scripts/register-ts.js'), '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(r.error).toBeUndefined();
  expect(r.signal).toBeNull();
  expect(r.stdout.trim()).toBe('flushed');
  expect(r.status).toBe(0);
});
