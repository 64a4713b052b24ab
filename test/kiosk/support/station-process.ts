/**
 * `tallyproof station --headless` as a child process from the sources, as an operator starts it: resolves once
 * the station says where its screens are served. The output is kept for a failure's message.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');
const CLI_CHILD = path.join(__dirname, 'cli-child.ts');

export interface StationProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** resolves with the exit code */
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** Ctrl-C, as an operator stops it; resolves with the exit code */
  stop(): Promise<number | null>;
}

/** `args` are the CLI's (`station --serial … --headless --port 0 …`); `env` is added to this process's. */
export async function startStationProcess(args: readonly string[], env: Record<string, string>, cwd: string): Promise<StationProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'run-ts.js'), CLI_CHILD, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const m = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`station exited ${code} before serving:\n${out}\n${err}`)));
  });
  return {
    url,
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

/** Any other `tallyproof` command as a child process (what an auditor types); never throws on a non-zero exit. */
export function runCliProcess(args: readonly string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts', 'run-ts.js'), CLI_CHILD, ...args], { cwd, maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
