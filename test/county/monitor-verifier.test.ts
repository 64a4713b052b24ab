import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as MonitorModule from '../../app/county/client/monitor';
import type { Monitor as MonitorClass, MonitorReport } from '../../app/county/client/monitor';
import { CountyLog } from '../../app/county/log/county-log';
import { serveCountyLog, type LogServer } from '../../app/county/log/log-server';
import { LogClient } from '../../app/county/client/log-client';
import { ALG_ED25519, generateSigner } from '../../app/county/tlog/note';
import { makeStations, registryOf, stationEntry } from './support';

/**
 * Which verifier the monitor checks station signatures with: the native one where it is built, otherwise
 * tiny-secp256k1, named in the report with the reason; never silently. `native` refuses where it is not
 * built (the benchmark asks for it). Whatever runs, the verdicts are the same.
 */

const ORIGIN = 'county.test/verifier';
const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(43));
const stations = makeStations(3);
const registry = registryOf(stations);
const trust = { log: logKey, witnesses: [], quorum: 0 };

let dir: string;
let county: CountyLog;
let server: LogServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'monitor-verifier-'));
  const entries = Array.from({ length: 300 }, (_, i) => stationEntry(stations[i % 3]!, Math.floor(i / 3) + 1));
  const forged = Buffer.from(entries[260]!);
  forged[forged.length - 2] = forged[forged.length - 2] === 0x30 ? 0x31 : 0x30; // the signature's last hex digit
  entries[260] = forged;
  county = new CountyLog({ dir, origin: ORIGIN, signer: logKey, registry, witnesses: [], quorum: 0, intervalMs: 10 });
  await county.log.append(entries); // past the log's own checks, as a dishonest operator would
  await county.round();
  server = await serveCountyLog(county, { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await server.close();
  await county.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const verdicts = (r: MonitorReport): unknown => ({ size: r.size, entriesChecked: r.entriesChecked, stations: [...r.stations], alarms: r.alarms });

test('native where built, and the same verdicts as tiny-secp256k1: the forged entry 260 named, every other entry counted', async () => {
  const { Monitor } = await import('../../app/county/client/monitor');
  const native = await new Monitor(new LogClient(server.url, trust), registry, 2).poll();
  const wasm = await new Monitor(new LogClient(server.url, trust), registry, 2, 'wasm').poll();
  expect(native.verifier).toEqual({ kind: 'native', description: expect.stringMatching(/libsecp256k1.*native\/bip340/) });
  expect(wasm.verifier).toEqual({ kind: 'wasm', description: expect.stringMatching(/^tiny-secp256k1 \(WebAssembly/) });
  expect(verdicts(native)).toEqual(verdicts(wasm));
  expect(native.alarms).toEqual([{ kind: 'bad-entry', index: 260, message: "the signature is not station station-003's" }]);
  expect([...native.stations.values()]).toEqual([100, 100, 99]);
});

test('where the addon is not built: `auto` falls back to tiny-secp256k1 and says why; `native` refuses with the build command', async () => {
  let Monitor: typeof MonitorClass | undefined;
  let VerifierUnavailableError: (new (m: string) => Error) | undefined;
  jest.isolateModules(() => {
    jest.doMock('../../lib/bip340-native', () => ({
      loadNativeBip340: () => ({ ok: false, error: { kind: 'native-bip340-unavailable', message: 'the native BIP-340 verifier is not built (native/bip340): run node scripts/build-native.js' } }),
    }));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module graph that sees the mock
    ({ Monitor, VerifierUnavailableError } = require('../../app/county/client/monitor') as typeof MonitorModule);
  });
  const M = Monitor as typeof MonitorClass;
  const report = await new M(new LogClient(server.url, trust), registry, 2).poll();
  expect(report.verifier).toEqual({ kind: 'wasm', description: expect.stringMatching(/tiny-secp256k1 .*: the native BIP-340 verifier is not built .*build-native\.js/) });
  // a monitor that fell back still checks every signature
  expect(report.alarms.map((a) => (a.kind === 'bad-entry' ? a.index : a.kind))).toEqual([260]);
  expect(() => new M(new LogClient(server.url, trust), registry, 2, 'native')).toThrow(VerifierUnavailableError as new (m: string) => Error);
  expect(() => new M(new LogClient(server.url, trust), registry, 2, 'native')).toThrow(/not built.*build-native/);
});
