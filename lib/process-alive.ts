/**
 * Whether a process id names a running process (signal 0 is delivered to nobody: it only checks). EPERM
 * means it runs under another user: alive. Used to tell a lock or an open-marker left by a killed process
 * from one whose owner still works.
 */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
