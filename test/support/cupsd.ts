import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/*
 * A private CUPS scheduler (Debian cups-daemon) for printing tests: its own ServerRoot, spool and log in a temp
 * directory, listening only on a Unix socket, so `lp` with CUPS_SERVER set to that socket talks to it and to
 * nothing else on the machine. Its queues print through `tapeout`, a backend in the test's own ServerBin (the
 * system's filters and backends linked beside it) that stands for the printer's USB port: it writes each job's
 * bytes and the arguments CUPS gave the backend (job id, user, title, copies, options) to `out`.
 */

export interface PrivateCups {
  /** CUPS_SERVER for lp and lpadmin */
  readonly socket: string;
  /** where the tapeout backend writes job-<id>.bin and job-<id>.args */
  readonly out: string;
  /** adds an enabled queue that accepts jobs */
  addQueue(name: string): void;
  /** runs a CUPS command-line tool against this scheduler */
  run(tool: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string };
  /** waits until job `id` has gone through the backend and returns its bytes and backend arguments */
  job(id: string, timeoutMs?: number): Promise<{ bytes: Buffer; args: string[] }>;
  stop(): Promise<void>;
  log(): string;
}

const TAPEOUT = `#!/bin/sh
# CUPS backend: with no arguments it describes itself; with a job it copies the job to the directory in its URI
if [ $# -eq 0 ]; then echo 'direct tapeout "Unknown" "Tallyproof test tape output"'; exit 0; fi
out="\${DEVICE_URI#tapeout:}"
if [ $# -ge 6 ]; then cat "$6" > "$out/.job-$1.tmp"; else cat > "$out/.job-$1.tmp"; fi
printf '%s\\n' "$@" > "$out/job-$1.args"
mv "$out/.job-$1.tmp" "$out/job-$1.bin"
`;

export async function startCups(): Promise<PrivateCups> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tallyproof-cups-'));
  fs.chmodSync(dir, 0o755);
  for (const d of ['root', 'cache', 'state', 'log', 'spool', 'tmp', 'bin/backend', 'out']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  // the backend runs as root only when it is mode 0700; the spool and output must be reachable by the `lp` user
  fs.chmodSync(path.join(dir, 'out'), 0o777);
  for (const e of fs.readdirSync('/usr/lib/cups')) if (e !== 'backend') fs.symlinkSync(path.join('/usr/lib/cups', e), path.join(dir, 'bin', e));
  for (const e of fs.readdirSync('/usr/lib/cups/backend')) fs.symlinkSync(path.join('/usr/lib/cups/backend', e), path.join(dir, 'bin/backend', e));
  fs.writeFileSync(path.join(dir, 'bin/backend/tapeout'), TAPEOUT, { mode: 0o700 });
  const socket = path.join(dir, 'cups.sock');
  const allowAll = (loc: string): string => `<Location ${loc}>\n  Order allow,deny\n  Allow all\n</Location>\n`;
  fs.writeFileSync(path.join(dir, 'root/cupsd.conf'), `Listen ${socket}\nLogLevel info\nWebInterface No\nBrowsing No\n${allowAll('/')}${allowAll('/admin')}<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n`);
  const files = { ServerRoot: 'root', RequestRoot: 'spool', CacheDir: 'cache', StateDir: 'state', TempDir: 'tmp', ErrorLog: 'log/error_log', AccessLog: 'log/access_log', PageLog: 'log/page_log', ServerBin: 'bin' };
  fs.writeFileSync(
    path.join(dir, 'root/cups-files.conf'),
    `${Object.entries(files).map(([k, v]) => `${k} ${path.join(dir, v)}`).join('\n')}\nDataDir /usr/share/cups\nSystemGroup root\n`,
  );
  const child: ChildProcess = spawn('/usr/sbin/cupsd', ['-f', '-c', path.join(dir, 'root/cupsd.conf'), '-s', path.join(dir, 'root/cups-files.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const env = { ...process.env, CUPS_SERVER: socket };
  const run = (tool: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(tool, args, { env, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const log = (): string => `${stderr}${fs.existsSync(path.join(dir, 'log/error_log')) ? fs.readFileSync(path.join(dir, 'log/error_log'), 'utf8') : ''}`;
  const deadline = Date.now() + 20_000;
  while (run('lpstat', ['-r']).stdout.trim() !== 'scheduler is running') {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the private cupsd did not start:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    socket,
    out: path.join(dir, 'out'),
    addQueue(name) {
      const r = run('lpadmin', ['-p', name, '-v', `tapeout:${path.join(dir, 'out')}`, '-E']);
      if (r.status !== 0) throw new Error(`lpadmin -p ${name}: ${r.stderr}`);
    },
    run,
    async job(id, timeoutMs = 30_000) {
      const bin = path.join(dir, 'out', `job-${id}.bin`);
      const end = Date.now() + timeoutMs;
      while (!fs.existsSync(bin)) {
        if (Date.now() > end) throw new Error(`job ${id} never reached the backend:\n${log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return { bytes: fs.readFileSync(bin), args: fs.readFileSync(path.join(dir, 'out', `job-${id}.args`), 'utf8').trimEnd().split('\n') };
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    log,
  };
}
