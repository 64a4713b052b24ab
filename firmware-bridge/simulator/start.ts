/**
 * Starts the firmware simulator on a fresh socat pty and returns the host-side path: what
 * `tallyproof station --simulate <dir>` and `tallyproof demo` open with the serial driver.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../clock';
import { deckSource, readDeck } from './deck';
import { noFaults, type FaultPlan } from './faults';
import { FirmwareSimulator, realisticTimings, zeroTimings, type MotorTimings } from './firmware-simulator';
import { attachSimulatorToPort, startPtyPair } from './pty';

export interface SimulatedScannerOptions {
  /** Folder of ballot images (a test deck): each PNG/TIFF is one sheet, `x.back.png` the back of `x.png`. */
  readonly deckDir: string;
  /** How many sheets the simulated voters feed; the deck repeats if this is larger. Default: the deck once. */
  readonly count?: number;
  readonly timings?: 'realistic' | 'zero' | MotorTimings;
  readonly faults?: FaultPlan;
  /** Where the pty links go (default: a new temp dir, removed on stop). */
  readonly workDir?: string;
  readonly clock?: Clock;
  readonly log?: (m: string) => void;
  /** The device stops feeding after this long without a frame from the host (default 5000 ms; 0: never). */
  readonly hostTimeoutMs?: number;
}

export interface SimulatedScanner {
  /** Serial device path for SerialScannerDriver. */
  readonly path: string;
  readonly simulator: FirmwareSimulator;
  stop(): Promise<void>;
}

export async function startSimulatedScanner(o: SimulatedScannerOptions): Promise<SimulatedScanner> {
  const deck = readDeck(o.deckDir);
  const timings = o.timings === undefined || o.timings === 'realistic' ? realisticTimings : o.timings === 'zero' ? zeroTimings : o.timings;
  const ownDir = o.workDir === undefined;
  const dir = o.workDir ?? mkdtempSync(join(tmpdir(), 'tp-scanner-'));
  const pty = await startPtyPair(dir);
  const simulator = new FirmwareSimulator({
    source: deckSource(deck, o.count ?? deck.length),
    clock: o.clock ?? systemClock,
    timings,
    faults: o.faults ?? noFaults,
    autoFeed: true,
    hostTimeoutMs: o.hostTimeoutMs ?? 5000,
    ...(o.log ? { log: o.log } : {}),
  });
  const end = attachSimulatorToPort(simulator, pty.devicePath);
  return {
    path: pty.hostPath,
    simulator,
    async stop() {
      simulator.shutdown();
      await end.close();
      await pty.stop();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
