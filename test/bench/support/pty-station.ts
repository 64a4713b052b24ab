import { TestDeck } from '../../../ballots/testdeck';
import { systemClock } from '../../../firmware-bridge/clock';
import { SerialScannerDriver } from '../../../firmware-bridge/serial/serial-driver';
import type { DeckSheet } from '../../../firmware-bridge/simulator/deck';
import { FirmwareSimulator, zeroTimings } from '../../../firmware-bridge/simulator/firmware-simulator';
import { attachSimulatorToPort, startPtyPair } from '../../../firmware-bridge/simulator/pty';
import type { StationStatus } from '../../../app/station/api';
import type { Station, StationOptions } from '../../../app/station/station';
import { startStation } from '../../../app/station/station';
import { deckOptions } from '../../support/reader';
import { ELECTION, PASSPHRASE, PINS, PRECINCT } from '../../station/support/constants';
import { VoterPile, waitForStatus } from '../../station/support/rig';

/**
 * The station benchmarks' rig (station-throughput, continuous-export): the firmware simulator on a socat pty
 * pair, the real serial driver, the reader, the policy and a durable SQLite ledger, in test mode. Every counted
 * ballot needs its own ballot ID, and rendering thousands of distinct 200 dpi pages would take longer than the
 * run, so a bench feeds the same K distinct ballots round after round and the captain clears the test ledger
 * between rounds, as a logic-and-accuracy rerun does.
 */

/** K distinct test-mode ballots of the test election, one marked front each, and the deck that drew them. */
export async function distinctTestSheets(distinct: number): Promise<{ deck: TestDeck; sheets: DeckSheet[] }> {
  const deck = new TestDeck(deckOptions({ dpi: 200, seed: 'station-bench', mode: 'test', precinctId: PRECINCT, kinds: { normal: 1 }, markKinds: ['full', 'check', 'x'] }));
  const sheets: DeckSheet[] = [];
  for (let i = 0; i < distinct; i++) {
    const s = await deck.sheet(i);
    const img = s.images[0];
    if (img === undefined) throw new Error('no image');
    sheets.push({ name: `${i}.png`, front: { format: 'png', bytes: img.bytes } });
  }
  return { deck, sheets };
}

/** What the rig does not fix itself: where the data and the pty links go, the reader's workers, the export, a log. */
export type PtyStationOptions = Omit<StationOptions, 'scanner' | 'election' | 'electionKeys' | 'precinct' | 'stationPassphrase' | 'pins'> & {
  /** the election's public keys file (test/support/ballots writeTestKeys) */
  readonly electionKeys: string;
  /** the folder the pty pair's links are made in */
  readonly ptyDir: string;
};

export interface PtyStation {
  readonly station: Station;
  /** the captain clears the test ledger (enter-test-mode), so the same ballots count again */
  clearTestLedger(): Promise<void>;
  /** lets `n` more sheets into the feeder and waits until the cleared test ledger counts `n`; throws if one was rejected */
  feedRound(n: number): Promise<StationStatus>;
  /** stops the station, the driver, the simulator and the pty pair; the data directory stays */
  stop(): Promise<void>;
}

/** Starts the station on the pty with the test ledger cleared: ready for the first round. */
export async function startPtyStation(sheets: readonly DeckSheet[], o: PtyStationOptions): Promise<PtyStation> {
  const { ptyDir, ...stationOptions } = o;
  // the K sheets in rounds: a round is let through only when the bench says so
  const source = new VoterPile(sheets, { cycle: true });
  const sim = new FirmwareSimulator({ source, clock: systemClock, timings: zeroTimings, autoFeed: true });
  const pty = await startPtyPair(ptyDir);
  const device = attachSimulatorToPort(sim, pty.devicePath);
  const driver = new SerialScannerDriver({ path: pty.hostPath });
  const station = await startStation({ election: ELECTION, precinct: PRECINCT, stationPassphrase: PASSPHRASE, pins: { ...PINS }, ...stationOptions, scanner: driver });
  const clearTestLedger = async (): Promise<void> => {
    const l = await station.login({ role: 'captain', pin: PINS.captain });
    if (!l.ok) throw new Error(l.error.message);
    const r = await station.command({ command: 'enter-test-mode', confirm: true });
    if (!r.ok) throw new Error(`enter-test-mode: ${r.error.message}`);
    await station.logout();
  };
  await clearTestLedger();
  return {
    station,
    clearTestLedger,
    async feedRound(n) {
      source.allow(n);
      // the simulator looks for paper again when feeding is (re)enabled
      await driver.disableFeeding();
      await driver.enableFeeding();
      const s = await waitForStatus(station, (x) => x.counts.public === n);
      if (s.counts.rejected > 0) throw new Error(`${s.counts.rejected} sheet(s) rejected: ${JSON.stringify(s.sheet)}`);
      return s;
    },
    async stop() {
      await station.close();
      await driver.close();
      sim.shutdown();
      await device.close();
      await pty.stop();
    },
  };
}
