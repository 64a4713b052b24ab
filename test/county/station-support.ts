import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { CountyLog } from '../../app/county/log/county-log';
import { serveCountyLog, type LogServer } from '../../app/county/log/log-server';
import type { StationRegistry } from '../../app/county/log/station-entry';
import { ALG_COSIGNATURE_V1, ALG_ED25519, generateSigner } from '../../app/county/tlog/note';
import { serveWitness, type WitnessServer } from '../../app/county/witness/witness-server';
import { WitnessDb } from '../../app/county/witness/witness-db';
import type { CountyReportSettings } from '../../app/county/report/report-settings';
import { dataLayout } from '../../app/ledger/layout';
import { loadOrCreateStationKey } from '../../app/ledger/station-key';
import { parseElectionText } from '../../ballots/election/load';
import { tempDir } from '../support/ballots';

/** A county log with one in-process witness, and station data directories whose keys the county registered. */

export const ORIGIN = 'county.test/report';
export const logKey = generateSigner(ORIGIN, ALG_ED25519, new Uint8Array(32).fill(31));
export const witnessKey = generateSigner('observer.test/w', ALG_COSIGNATURE_V1, new Uint8Array(32).fill(32));

export function electionHashOf(file: string): string {
  const e = parseElectionText(fs.readFileSync(file, 'utf8'));
  if (!e.ok) throw new Error(`${file} does not parse`);
  return e.value.hash;
}

export interface RunningCounty {
  readonly county: CountyLog;
  readonly server: LogServer;
  stop(): Promise<void>;
}

/** A county log with one witness (quorum 1), serving on `port` (0: any). */
export async function startCounty(dir: string, registry: StationRegistry, port = 0): Promise<RunningCounty> {
  const db = new WitnessDb(path.join(dir, 'witness', 'witness.sqlite'));
  const witness: WitnessServer = await serveWitness({ signers: [witnessKey], logs: [{ origin: ORIGIN, keys: [logKey] }], now: () => BigInt(Math.floor(Date.now() / 1000)) }, db, { port: 0, host: '127.0.0.1' });
  const county = new CountyLog({ dir: path.join(dir, 'log'), origin: ORIGIN, signer: logKey, registry, witnesses: [{ url: witness.url, key: witnessKey }], quorum: 1, intervalMs: 10 });
  const server = await serveCountyLog(county, { port, host: '127.0.0.1' });
  let stopped = false;
  return {
    county,
    server,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await county.stop();
      await witness.close();
      db.close();
    },
  };
}

export const settingsFor = (url: string): CountyReportSettings => ({ url, trust: { log: logKey, witnesses: [witnessKey], quorum: 1 } });

/** A station data directory whose key is made before the day (as the county registers it), and its registry line. */
export function stationWithKey(stationId: string, passphrase: string): { dataDir: string; station: { station: string; publicKey: string } } {
  const dataDir = tempDir('county-station');
  const key = loadOrCreateStationKey(dataLayout(dataDir).stationKey, stationId, passphrase, { N: 1024, r: 8, p: 1 });
  return { dataDir, station: { station: key.stationId, publicKey: Buffer.from(key.publicKey).toString('hex') } };
}

/** A loopback port nothing listens on (the log's machine is off). */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
