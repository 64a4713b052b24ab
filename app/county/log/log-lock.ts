import fs from 'node:fs';
import path from 'node:path';
import { processAlive } from '../../../lib/process-alive';
import { TlogError } from '../tlog/stored-hashes';

/**
 * One process opens a county log directory at a time: opening replays and cuts the journal, and two servers
 * appending to one log would interleave records and checkpoints. `log.lock` holds the owner's pid and the
 * kernel's boot id; a lock left by a process that is gone, or by a boot before this one (an appliance
 * restarted: its pids are handed out again), is taken over. The same process may open the log again (a test,
 * or a server reopening after a failed batch).
 */

export const LOCK = 'log.lock';

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function readLock(file: string): { pid: number; boot: string } | undefined {
  try {
    const m = /^(\d{1,10}) (\S{1,64})\n$/.exec(fs.readFileSync(file, 'utf8'));
    return m === null ? undefined : { pid: Number(m[1]), boot: m[2] as string };
  } catch {
    return undefined;
  }
}

export class LogLock {
  private constructor(
    private readonly file: string,
    private readonly mine: string,
  ) {}

  static acquire(dir: string): LogLock {
    const file = path.join(dir, LOCK);
    const mine = `${process.pid} ${bootId()}\n`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, mine, { flag: 'wx', mode: 0o644 });
        return new LogLock(file, mine);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const held = readLock(file);
      const stale = held === undefined || held.boot !== bootId() || held.pid === process.pid || !processAlive(held.pid);
      if (!stale) {
        throw new TlogError(
          `${dir} is open in another process (pid ${held.pid}): a county log has one server; stop it first, or delete ${file} if no process serves this log`,
        );
      }
      fs.rmSync(file, { force: true });
    }
    throw new TlogError(`${dir}: another process took ${file} while this one was taking over a stale lock`);
  }

  /** Gives the lock up (only if it is still this process's). */
  release(): void {
    try {
      if (fs.readFileSync(this.file, 'utf8') === this.mine) fs.rmSync(this.file, { force: true });
    } catch {
      // already gone
    }
  }
}
