import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CountyLog } from '../../app/county/log/county-log';
import { serveCountyLog } from '../../app/county/log/log-server';
import { LogClient } from '../../app/county/client/log-client';
import { Monitor } from '../../app/county/client/monitor';
import { ALG_ED25519, generateSigner } from '../../app/county/tlog/note';
import { makeStations, registryOf, stationEntry } from './support';

/**
 * The monitor's entry checks run on worker threads, several bundles at once: what it reports must still be
 * every entry in log order, each bad one named by its own index, across bundles and across polls that start
 * in the middle of a bundle.
 */

const ORIGIN = 'county.test/workers';
const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(41));
const stations = makeStations(6);
const registry = registryOf(stations.slice(0, 5));

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'monitor-workers-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('bad entries among 700 are named by index, in order, whether a poll starts at 0 or inside a bundle', async () => {
  const entries = Array.from({ length: 700 }, (_, i) => stationEntry(stations[i % 5] as (typeof stations)[number], Math.floor(i / 5) + 1));
  const forged = Buffer.from(stationEntry(stations[0] as (typeof stations)[number], 999));
  forged.write(forged.subarray(-3, -2).toString() === '0' ? '1' : '0', forged.length - 3);
  entries[5] = stationEntry(stations[5] as (typeof stations)[number], 1); // not registered
  entries[300] = forged; // bad signature, in the second bundle
  entries[699] = Buffer.from('not a checkpoint\n');

  const county = new CountyLog({ dir, origin: ORIGIN, signer: logKey, registry, witnesses: [], quorum: 0, intervalMs: 10 });
  const server = await serveCountyLog(county, { port: 0, host: '127.0.0.1' });
  try {
    // the operator writes entries past its own checks, and publishes (quorum 0)
    await county.log.append(entries.slice(0, 300));
    await county.round();
    const monitor = new Monitor(new LogClient(server.url, { log: logKey, witnesses: [], quorum: 0 }), registry, 2);
    const first = await monitor.poll();
    expect(first).toMatchObject({ size: 300, entriesChecked: 300 });
    expect(first.alarms).toEqual([{ kind: 'bad-entry', index: 5, message: expect.stringMatching(/station-006.*not registered/) }]);

    // the next poll starts at entry 300, 44 entries into bundle 1
    await county.log.append(entries.slice(300));
    await county.round();
    const whole = await monitor.poll();
    expect(whole).toMatchObject({ size: 700, entriesChecked: 700 });
    expect(whole.alarms.map((a) => (a.kind === 'bad-entry' ? [a.index, a.message] : a.kind))).toEqual([
      [5, expect.stringMatching(/not registered/)],
      [300, expect.stringMatching(/signature is not station station-001/)],
      [699, expect.stringMatching(/./)],
    ]);
    // 697 good entries, counted per station; the root matched (no 'inconsistent' alarm above)
    expect([...whole.stations.values()].reduce((a, b) => a + b, 0)).toBe(697);

    // a second monitor from scratch sees the same
    const fresh = await new Monitor(new LogClient(server.url, { log: logKey, witnesses: [], quorum: 0 }), registry, 2).poll();
    expect(fresh.alarms.map((a) => (a.kind === 'bad-entry' ? a.index : a.kind))).toEqual([5, 300, 699]);
  } finally {
    await server.close();
    await county.stop();
  }
});
