/**
 * What `--serial <path>` must name before the station starts: a serial device. The driver itself retries a
 * port that fails to open every 2 s (a scanner switched on late is normal), so a path that can never be a
 * scanner (a typo, a file, /dev/null) would otherwise leave the station serving with nothing behind it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { err, ok, type Result } from '../../lib/result';

const EXPECTED = "expected the scanner controller's serial port, a character device such as /dev/ttyUSB0 or /dev/ttyACM0";

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFile()) return 'a regular file';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a device';
}

/** Linux device numbers of a character device (glibc's gnu_dev_major/minor layout). */
function deviceNumbers(rdev: number): { major: number; minor: number } {
  const big = BigInt(rdev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return { major, minor };
}

/**
 * The kernel class of a character device from sysfs ('tty', 'mem', …), or undefined where sysfs does not
 * list it (pseudo-terminals, which a simulator or a serial-over-network bridge uses, are not listed).
 */
function deviceClass(st: fs.Stats, sysDevChar: string): string | undefined {
  const { major, minor } = deviceNumbers(st.rdev);
  try {
    return path.basename(fs.realpathSync(path.join(sysDevChar, `${major}:${minor}`, 'subsystem')));
  } catch {
    return undefined;
  }
}

/**
 * Ok when the path exists and is a character device that is a terminal (a serial port) or a device sysfs does
 * not class (a pty); otherwise the sentence to stop with, naming the path and what was expected. It only
 * looks (stat, sysfs): opening the port here would pulse its control lines, which resets some controllers.
 */
export function checkSerialPath(p: string, sysDevChar = '/sys/dev/char'): Result<void, string> {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return err(`${p} does not exist: ${EXPECTED}. Is the scanner plugged in (ls /dev/ttyUSB* /dev/ttyACM*)?`);
    if (code === 'EACCES') return err(`${p} cannot be looked at (permission denied): ${EXPECTED}, readable by this user (the dialout group)`);
    return err(`${p} cannot be looked at (${code ?? (e as Error).message}): ${EXPECTED}`);
  }
  if (!st.isCharacterDevice()) return err(`${p} is ${kindOf(st)}, not a serial device: ${EXPECTED}`);
  const cls = deviceClass(st, sysDevChar);
  if (cls !== undefined && cls !== 'tty') return err(`${p} is a character device of class "${cls}", not a serial port: ${EXPECTED}`);
  try {
    fs.accessSync(p, fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return err(`${p} is a serial device this user may not read and write: add the user to its group (usually dialout), or run the station as one that may`);
  }
  return ok(undefined);
}
