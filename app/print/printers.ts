import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Result } from '../../lib/result';
import { assertNever, err, ok } from '../../lib/result';
import type { Paper } from '../reports/paper';
import type { PrinterConfig } from './config';
import { PrintError } from './errors';
import { escposJob } from './escpos';
import { rasterisePdf } from './raster';

export interface PrintJob {
  /** the tape as rendered for this printer's paper */
  readonly pdf: Uint8Array;
  /** a short job name (lp -t) */
  readonly title: string;
  readonly copies: number;
}

export interface PrintReceipt {
  /** where it went, for the poll worker's message and the ledger event: "escpos /dev/usb/lp0", "cups q-12" */
  readonly printer: string;
}

export interface TapePrinter {
  readonly kind: PrinterConfig['kind'];
  /** the paper the station lays tapes out for */
  readonly paper: Paper;
  print(job: PrintJob): Promise<Result<PrintReceipt, PrintError>>;
}

/** How long a printer may take to accept a job before the poll worker is told it is not answering. */
export const PRINT_TIMEOUT_MS = 60_000;

export function openPrinter(config: PrinterConfig, opts: { timeoutMs?: number } = {}): TapePrinter {
  const timeoutMs = opts.timeoutMs ?? PRINT_TIMEOUT_MS;
  switch (config.kind) {
    case 'escpos':
      return {
        kind: 'escpos',
        paper: 'roll80',
        print: (job) =>
          guard(async () => {
            const stream = escposJob(await rasterisePdf(job.pdf, config.dotsPerLine), { copies: job.copies, cutter: config.cutter });
            await writeDevice(config.device, stream, timeoutMs);
            return { printer: `escpos ${config.device}` };
          }),
      };
    case 'cups':
      return { kind: 'cups', paper: config.paper, print: (job) => guard(() => lp(config, job, timeoutMs)) };
    case 'simulated':
      return { kind: 'simulated', paper: config.paper, print: (job) => guard(() => simulate(config, job)) };
    case 'none':
      return { kind: 'none', paper: config.paper, print: async () => ok({ printer: 'none (PDF file only)' }) };
    default:
      return assertNever(config, 'printer config');
  }
}

async function guard(fn: () => Promise<PrintReceipt>): Promise<Result<PrintReceipt, PrintError>> {
  try {
    return ok(await fn());
  } catch (e) {
    if (e instanceof PrintError) return err(e);
    throw e;
  }
}

/**
 * Writes the job to the printer's device file. The file must already exist and be a device (or a FIFO):
 * opening with O_CREAT would turn an unplugged printer's path into a regular file that "prints" silently.
 */
async function writeDevice(device: string, bytes: Buffer, timeoutMs: number): Promise<void> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(device, fs.constants.O_WRONLY | fs.constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such device: is the printer plugged in and switched on?' : code === 'EACCES' || code === 'EPERM' ? 'permission denied (the station user needs the lp or dialout group)' : code === 'EBUSY' ? 'the device is busy' : (e as Error).message;
    throw new PrintError('device', `cannot open the thermal printer ${device}: ${why}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isCharacterDevice() && !st.isFIFO()) throw new PrintError('device', `${device} is not a printer device (it is a ${st.isFile() ? 'regular file' : st.isDirectory() ? 'directory' : 'special file'})`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PrintError('timeout', `the thermal printer ${device} took no data for ${Math.round(timeoutMs / 1000)} s: check paper and cover`)), timeoutMs);
    });
    try {
      await Promise.race([writeAll(fh, bytes), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (e) {
    if (e instanceof PrintError) throw e;
    throw new PrintError('device', `writing to the thermal printer ${device} failed: ${(e as Error).message}`);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function writeAll(fh: fs.promises.FileHandle, bytes: Buffer): Promise<void> {
  let at = 0;
  while (at < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, at, Math.min(4096, bytes.length - at));
    at += bytesWritten;
  }
}

/** `lp -d QUEUE -n COPIES -t TITLE -o media=…`, the PDF on standard input; CUPS answers "request id is Q-12". */
function lp(config: Extract<PrinterConfig, { kind: 'cups' }>, job: PrintJob, timeoutMs: number): Promise<PrintReceipt> {
  const args = [...(config.queue === undefined ? [] : ['-d', config.queue]), '-n', String(job.copies), '-t', job.title, '-o', config.paper === 'letter' ? 'media=Letter' : 'media=Custom.80x297mm', '-o', 'fit-to-page', '--', '-'];
  return new Promise((resolve, reject) => {
    const child = spawn(config.lp, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs, env: process.env });
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => errOut.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => reject(new PrintError('lp', e.code === 'ENOENT' ? `${config.lp} is not installed (Debian cups-client)` : `${config.lp}: ${e.message}`)));
    child.stdin.on('error', () => undefined); // lp that exits early: its exit status says why
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(errOut).toString('utf8').trim();
      if (code !== 0) {
        const why = stderr || (signal !== null ? `stopped by ${signal}` : `exit ${code}`);
        // lp says "The printer or class does not exist" also when it cannot reach the scheduler at all
        const down = schedulerDown(config.lp) ? 'the print service (CUPS scheduler) is not running; ' : '';
        reject(new PrintError('lp', `${down}${config.lp} refused the tape${config.queue === undefined ? '' : ` for ${config.queue}`}: ${why}`));
        return;
      }
      const id = /request id is (\S+)/.exec(Buffer.concat(out).toString('utf8'))?.[1];
      resolve({ printer: `cups ${id ?? config.queue ?? 'default queue'}` });
    });
    child.stdin.end(Buffer.from(job.pdf));
  });
}

/** `lpstat -r` (beside the configured lp) answers "scheduler is not running" when lp has no CUPS to talk to. */
function schedulerDown(lpProgram: string): boolean {
  const lpstat = lpProgram.includes('/') ? path.join(path.dirname(lpProgram), 'lpstat') : 'lpstat';
  const r = spawnSync(lpstat, ['-r'], { encoding: 'utf8', timeout: 10_000, env: process.env });
  return r.status !== null && /scheduler is not running/.test(r.stdout);
}

let simulatedJobs = 0;

/** What a printer would get, in files: the ESC/POS stream for a roll, the PDF for letter. */
async function simulate(config: Extract<PrinterConfig, { kind: 'simulated' }>, job: PrintJob): Promise<PrintReceipt> {
  fs.mkdirSync(config.dir, { recursive: true });
  simulatedJobs += 1;
  const base = `${new Date().toISOString().replace(/[-:.]/g, '')}-${process.pid}-${simulatedJobs}-${job.title.replace(/[^A-Za-z0-9-]+/g, '_').slice(0, 60)}`;
  if (config.paper === 'roll80') {
    const file = path.join(config.dir, `${base}.escpos`);
    fs.writeFileSync(file, escposJob(await rasterisePdf(job.pdf, 576), { copies: job.copies, cutter: true }));
    return { printer: `simulated ${file}` };
  }
  const file = path.join(config.dir, `${base}.x${job.copies}.pdf`);
  fs.writeFileSync(file, job.pdf);
  return { printer: `simulated ${file}` };
}
