import { spawn } from 'node:child_process';
import { missingAllocatorSettings, withStationAllocator } from '../station/allocator-env';
import { LAUNCHER_PID_ENV } from './launcher-watch';
import { main } from './main';

/**
 * The process entry of `tallyproof` (bin/tallyproof). A station must run with the allocator settings of
 * app/station/allocator-env.ts, which glibc reads only when a process starts: started without them,
 * `tallyproof station` starts itself again with them and waits for that process. `entry` is the node
 * arguments that start this entry again.
 */
export function launch(entry: readonly string[]): void {
  const args = process.argv.slice(2);
  if (args[0] !== 'station' || missingAllocatorSettings().length === 0) {
    main();
    return;
  }
  // its own process group: a Ctrl-C at the terminal reaches the station once, passed on from here (two
  // would stop it the hard way)
  const env = { ...withStationAllocator(process.env), [LAUNCHER_PID_ENV]: String(process.pid) };
  const child = spawn(process.execPath, [...process.execArgv, ...entry, ...args], { stdio: 'inherit', env, detached: true });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => {
    process.stderr.write(`tallyproof: cannot start the station process: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
}
