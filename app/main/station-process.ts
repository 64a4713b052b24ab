/**
 * Entry of the Electron utility process that runs the station service: reads the station settings
 * named on its command line, opens the scanner, starts the station and answers the main process over
 * parentPort (station-relay.ts). Nothing here needs electron itself; parentPort is Electron's addition
 * to `process` in a utility process.
 */
import { openScanner, type OpenedScanner } from '../../firmware-bridge/config';
import { readStationPassphrase } from '../ledger/passphrase';
import { DEFAULT_READER_WORKERS, startStation, type Station } from '../station/station';
import { checkScannerDevice, electionPublicKeyFile, loadStationConfig, readPins } from '../station/station-config';
import { serveOverPort, type PortLike } from './station-relay';

interface ElectronParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

async function run(parent: ElectronParentPort, configFile: string | undefined): Promise<void> {
  const port: PortLike = { post: (m) => parent.postMessage(m), onMessage: (l) => parent.on('message', (e) => l(e.data)) };
  let opened: OpenedScanner | undefined;
  let station: Station | undefined;
  const stop = async (code: number) => {
    await station?.close();
    await opened?.close();
    process.exit(code);
  };
  parent.on('message', (e) => {
    if (typeof e.data === 'object' && e.data !== null && (e.data as { kind?: unknown }).kind === 'stop') void stop(0);
  });
  try {
    if (configFile === undefined) throw new Error('the station process needs the station settings file as its argument');
    const config = loadStationConfig(configFile);
    if (!config.ok) throw new Error(config.error);
    const c = config.value;
    const device = checkScannerDevice(c.scanner, `${configFile} scanner.path`);
    if (!device.ok) throw new Error(device.error);
    const pins = readPins(c.pinsFile);
    if (!pins.ok) throw new Error(pins.error);
    const passphrase = readStationPassphrase(c.passphraseFile);
    const log = (m: string) => process.stderr.write(`station: ${m}\n`);
    opened = await openScanner(c.scanner, log);
    station = await startStation({
      dataDir: c.data,
      election: c.election,
      electionKeys: electionPublicKeyFile(c.keys),
      precinct: c.precinct,
      ...(c.calibration !== undefined ? { calibration: c.calibration } : {}),
      scanner: opened.driver,
      stationPassphrase: passphrase,
      pins: pins.value,
      ...(c.streakAlarmAfter !== undefined ? { streakAlarmAfter: c.streakAlarmAfter } : {}),
      ...(c.staffIdleSignOutSeconds !== undefined ? { staffIdleSignOutSeconds: c.staffIdleSignOutSeconds } : {}),
      readerWorkers: c.readerWorkers ?? DEFAULT_READER_WORKERS,
      ...(c.printer !== undefined ? { printer: c.printer } : {}),
      ...(c.signedHeadsDir !== undefined ? { signedHeadsDir: c.signedHeadsDir } : {}),
      ...(c.signHeadsEvery !== undefined ? { signHeadsEvery: c.signHeadsEvery } : {}),
      ...(c.continuousExport !== undefined ? { continuousExport: c.continuousExport } : {}),
      ...(c.imageRetention !== undefined ? { imageRetention: c.imageRetention } : {}),
      log,
    });
    serveOverPort(station, port);
    port.post({ kind: 'ready' });
  } catch (e) {
    port.post({ kind: 'failed', message: e instanceof Error ? e.message : String(e) });
    await stop(1);
  }
}

const parent = (process as NodeJS.Process & { parentPort?: ElectronParentPort }).parentPort;
if (parent === undefined) {
  process.stderr.write('app/main/station-process runs inside Electron (utilityProcess.fork); use `tallyproof station --headless` elsewhere\n');
  process.exitCode = 2;
} else void run(parent, process.argv[2]);
