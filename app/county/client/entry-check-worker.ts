import { parentPort, workerData } from 'node:worker_threads';
import { parseStationEntry, type StationRegistry } from '../log/station-entry';
import { splitBundle } from '../log/tile-store';
import { leafHashInto } from '../tlog/hash-into';
import type { BundleJob, BundleOutcome } from './entry-check-pool';

/**
 * A worker thread of the monitor's entry check: splits an entry bundle, hashes each entry as an RFC 6962
 * leaf and checks it as a registered station's signed checkpoint (the BIP-340 check is most of the work,
 * which is why it runs on every core).
 */
const registry = (workerData as { registry: StationRegistry }).registry;

function check(job: BundleJob): BundleOutcome {
  let entries: Uint8Array[];
  try {
    entries = splitBundle(new Uint8Array(job.bundle), undefined);
  } catch (e) {
    return { id: job.id, error: `entry bundle ${job.n}: ${(e as Error).message}` };
  }
  if (entries.length < job.w) return { id: job.id, error: `entry bundle ${job.n} holds ${entries.length} entries, fewer than ${job.w}` };
  const count = job.w - job.from;
  const leaves = Buffer.from(new ArrayBuffer(count * 32));
  const stations: string[] = [];
  const problems: { k: number; message: string }[] = [];
  for (let k = job.from; k < job.w; k++) {
    const entry = entries[k] as Uint8Array;
    leafHashInto(entry, leaves, (k - job.from) * 32);
    const parsed = parseStationEntry(entry, registry);
    if (parsed.ok) stations.push(parsed.value.checkpoint.station);
    else {
      stations.push('');
      problems.push({ k, message: parsed.error.message });
    }
  }
  return { id: job.id, leaves: leaves.buffer as ArrayBuffer, stations, problems };
}

parentPort?.on('message', (job: BundleJob) => {
  const out = check(job);
  parentPort?.postMessage(out, 'leaves' in out ? [out.leaves] : []);
});
