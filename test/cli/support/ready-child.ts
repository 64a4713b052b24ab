import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const LAUNCH_CLI = path.join(ROOT, 'test', 'cli', 'support', 'launch-child.ts');

export interface ReadyChild {
  readonly child: ChildProcess;
  /** the first match of the ready pattern in the output; rejects with all the output if the process exits first */
  readonly ready: Promise<RegExpExecArray>;
  readonly exited: Promise<number | null>;
  output(): string;
}

/**
 * Starts a process that serves (the CLI from the sources, or another TypeScript file) in `cwd`, pushed onto
 * `children` for the test's clean-up, and watches its output (stdout and stderr together) for the line that
 * says it is ready.
 */
export function startChild(o: { readonly cwd: string; readonly children: ChildProcess[]; readonly script?: string }, args: readonly string[], ready: RegExp): ReadyChild {
  const script = o.script ?? LAUNCH_CLI;
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'run-ts.js'), script, ...args], { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  o.children.push(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const readyP = new Promise<RegExpExecArray>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const m = ready.exec(out);
      if (m !== null) resolve(m);
    });
    void exited.then((code) => reject(new Error(`${path.basename(script)} ${args[0] ?? ''} exited ${code}: ${out}`)));
  });
  return { child, ready: readyP, exited, output: () => out };
}
