import { parentPort, workerData } from 'node:worker_threads';
import { badSignature, readStationEntry } from '../log/station-entry';
import { stationSignatureVerifier } from '../log/station-signature';
import { splitBundle } from '../log/tile-store';
import { leafHashInto } from '../tlog/hash-into';
import type { BundleJob, BundleOutcome, EntryCheckWorkerData } from './entry-check-pool';

/**
 * A worker thread of the monitor's entry check: splits an entry bundle, hashes each entry as an RFC 6962
 * leaf, reads it as a registered station's checkpoint, then checks the bundle's signatures in one call of
 * the verifier the monitor chose (the BIP-340 checks are most of the work, which is why this runs on
 * every core, and why they cross into native code once per bundle rather than once per entry).
 */
const data = workerData as EntryCheckWorkerData;
const chosen = stationSignatureVerifier(data.verifier);
const stationIndex = new Map(data.registry.stations.map((s, i) => [s.station, i]));
// the registry's keys parsed once for every bundle this thread checks
const verifyBundle = chosen.ok ? chosen.value.forKeys(data.registry.stations.map((s) => Uint8Array.from(Buffer.from(s.publicKey, 'hex')))) : undefined;

function check(job: BundleJob): BundleOutcome {
  // the monitor chose this verifier in its own thread; a worker that cannot load it stops the check
  if (!chosen.ok || verifyBundle === undefined) return { id: job.id, error: chosen.ok ? 'no verifier' : chosen.error };
  let entries: Uint8Array[];
  try {
    entries = splitBundle(new Uint8Array(job.bundle), undefined);
  } catch (e) {
    return { id: job.id, error: `entry bundle ${job.n}: ${(e as Error).message}` };
  }
  if (entries.length < job.w) return { id: job.id, error: `entry bundle ${job.n} holds ${entries.length} entries, fewer than ${job.w}` };
  const count = job.w - job.from;
  const leaves = Buffer.from(new ArrayBuffer(count * 32));
  const stations = new Int32Array(count).fill(-1);
  const problems: { k: number; message: string }[] = [];
  // the signed entries, packed for one batch verification; `signed[j]` is the entry the j-th one is
  const digests = new Uint8Array(count * 32);
  const keyIndexes = new Uint32Array(count);
  const signatures = new Uint8Array(count * 64);
  const signed: number[] = [];
  for (let k = job.from; k < job.w; k++) {
    const entry = entries[k] as Uint8Array;
    leafHashInto(entry, leaves, (k - job.from) * 32);
    const read = readStationEntry(entry, data.registry);
    if (read.ok) {
      const j = signed.length;
      const station = stationIndex.get(read.value.checkpoint.station) as number;
      digests.set(read.value.digest, j * 32);
      keyIndexes[j] = station;
      signatures.set(read.value.signature, j * 64);
      signed.push(k);
      stations[k - job.from] = station;
    } else {
      problems.push({ k, message: read.error.message });
    }
  }
  const n = signed.length;
  const valid = verifyBundle(digests.subarray(0, n * 32), keyIndexes.subarray(0, n), signatures.subarray(0, n * 64));
  for (let j = 0; j < n; j++) {
    if (valid[j] === 1) continue;
    const k = signed[j] as number;
    const name = data.registry.stations[stations[k - job.from] as number]?.station as string;
    problems.push({ k, message: badSignature(name).message });
    stations[k - job.from] = -1;
  }
  problems.sort((a, b) => a.k - b.k);
  return { id: job.id, leaves: leaves.buffer as ArrayBuffer, stations: stations.buffer, problems };
}

parentPort?.on('message', (job: BundleJob) => {
  const out = check(job);
  parentPort?.postMessage(out, 'leaves' in out ? [out.leaves, out.stations] : []);
});
