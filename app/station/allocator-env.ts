/**
 * The C allocator settings the station process runs with. Every sheet's decoded page is a few megabytes;
 * glibc's malloc serves a block that large with mmap at first, then (its threshold rising to the largest
 * block freed) from its per-thread arenas, which it rarely gives back: the process then grew by ~7 MB per
 * 1,000 ballots and never came down (test/bench/station-throughput.bench.ts). A fixed threshold keeps every
 * block of 128 KiB or more in its own mapping, returned to the system when freed: measured flat over 5,000
 * ballots and ~90 MB lower from the start. glibc reads these only when a process starts, so whatever
 * starts a station (bin/tallyproof, npm start, the Electron main process) passes them in its environment.
 * The price is CPU: every such block is mapped and faulted in afresh. Measured alternately on a 2-core
 * machine: decoding a 200 dpi letter page 18 -> 30 ms; the station 1,576-1,707 -> 1,170-1,213 ballots/min
 * (3,000 ballots, one reader thread), twice the 600/min budget still. Thresholds of 1 and 2 MiB cost the
 * same (the page-sized blocks are the ones that matter), so the lowest, which leaves least in the arenas.
 */
export const STATION_ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/** `env` with the station's allocator settings; a value the operator set already is kept. */
export function withStationAllocator(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [k, v] of Object.entries(STATION_ALLOCATOR_ENV)) if (out[k] === undefined) out[k] = v;
  return out;
}

/** True when this process started without them (a station run some other way than its launchers). */
export function missingAllocatorSettings(env: NodeJS.ProcessEnv = process.env): string[] {
  return process.platform === 'linux' ? Object.keys(STATION_ALLOCATOR_ENV).filter((k) => env[k] === undefined) : [];
}
