/**
 * A pseudo-terminal pair made by socat: the host end looks like a USB-serial device to the driver, the other
 * end is the simulated firmware's UART. Stopping socat makes both ends vanish, like pulling the cable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serialPortOpener, type PortHandle, type PortOpener } from '../serial/port';
import type { FirmwareSimulator } from './firmware-simulator';

export class PtyError extends Error {}

export interface PtyPair {
  readonly hostPath: string;
  readonly devicePath: string;
  /** Kill socat: both paths disappear. */
  stop(): Promise<void>;
  /** Start socat again with the same paths (the device re-enumerates). */
  start(): Promise<void>;
}

function linkExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

export async function startPtyPair(dir: string, name = 'scanner'): Promise<PtyPair> {
  mkdirSync(dir, { recursive: true });
  const hostPath = join(dir, `${name}-host`);
  const devicePath = join(dir, `${name}-device`);
  let proc: ChildProcess | undefined;
  let stderr = '';

  const start = async (): Promise<void> => {
    if (proc) return;
    stderr = '';
    const p = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${devicePath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = p;
    p.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    let exited = false;
    p.on('exit', () => {
      exited = true;
      if (proc === p) proc = undefined;
    });
    const t0 = Date.now();
    while (!(existsSync(hostPath) && existsSync(devicePath) && /starting data transfer loop/.test(stderr))) {
      if (exited) throw new PtyError(`socat exited: ${stderr.trim()}`);
      if (Date.now() - t0 > 5000) throw new PtyError(`socat did not create ${hostPath} and ${devicePath} within 5 s: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p) return;
    proc = undefined;
    await new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
    const t0 = Date.now();
    while ((linkExists(hostPath) || linkExists(devicePath)) && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5));
  };

  await start();
  return { hostPath, devicePath, start, stop };
}

export interface DeviceEnd {
  /** Drop whatever is open and open the device path again (after the pty was recreated). */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

/** Keeps the simulator's UART open on the device end of the pty, reopening whenever the pty comes back. */
export function attachSimulatorToPort(sim: FirmwareSimulator, devicePath: string, opener: PortOpener = serialPortOpener(), retryMs = 20): DeviceEnd {
  let closed = false;
  let handle: PortHandle | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Each open attempt belongs to a generation; a reopen() makes older attempts and their callbacks moot.
  let generation = 0;
  const retry = (gen: number): void => {
    if (closed || gen !== generation) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void open(gen), retryMs);
  };
  const open = async (gen: number): Promise<void> => {
    if (closed || gen !== generation) return;
    const r = await opener.open(devicePath, {
      onData: (b) => {
        if (gen === generation) sim.receive(b);
      },
      onClose: () => {
        if (gen !== generation) return;
        handle = undefined;
        sim.detach();
        retry(gen);
      },
    });
    if (!r.ok) return retry(gen);
    if (closed || gen !== generation) {
      await r.value.close();
      return;
    }
    handle = r.value;
    const h = r.value;
    sim.attach((bytes) => h.write(bytes));
  };
  void open(generation);
  return {
    async reopen() {
      generation += 1;
      if (timer) clearTimeout(timer);
      sim.detach();
      const old = handle;
      handle = undefined;
      await old?.close().catch(() => undefined);
      await open(generation);
    },
    async close() {
      closed = true;
      generation += 1;
      if (timer) clearTimeout(timer);
      sim.detach();
      await handle?.close();
    },
  };
}
