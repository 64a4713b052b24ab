/** Set in the station process started by launch(): the launcher's pid, watched so the station stops with it. */
export const LAUNCHER_PID_ENV = 'TALLYPROOF_LAUNCHER_PID';

/**
 * Resolves when the launcher that started this process is gone without passing a signal on (killed with
 * SIGKILL, say): the station then stops the orderly way instead of running on unseen, holding the scanner
 * and the port. Never resolves in a process no launcher started. The returned function stops the watch.
 */
export function whenLauncherGone(env: NodeJS.ProcessEnv = process.env, everyMs = 1000): { gone: Promise<void>; stop: () => void } {
  const launcher = Number(env[LAUNCHER_PID_ENV]);
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<void>((resolve) => {
    if (!Number.isInteger(launcher) || launcher <= 0) return;
    timer = setInterval(() => {
      // an orphan is re-parented (to init or a subreaper): its parent pid changes
      if (process.ppid !== launcher) resolve();
    }, everyMs);
    timer.unref();
  });
  return { gone, stop: () => clearInterval(timer) };
}
