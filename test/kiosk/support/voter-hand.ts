/**
 * The simulated scanner on a socat pty, in the test's own process, so the test plays the people at the
 * machine: the voter who puts the next sheet in (only when the test says) and the poll worker who opens the
 * paper path to take out a jammed sheet. The station, in its own process, opens the pty as a serial port.
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../../../firmware-bridge/clock';
import type { DeckSheet } from '../../../firmware-bridge/simulator/deck';
import { deckSource } from '../../../firmware-bridge/simulator/deck';
import type { FaultPlan } from '../../../firmware-bridge/simulator/faults';
import { FirmwareSimulator, zeroTimings } from '../../../firmware-bridge/simulator/firmware-simulator';
import { attachSimulatorToPort, startPtyPair } from '../../../firmware-bridge/simulator/pty';

/**
 * The firmware takes the next sheet `insertMs` after its path frees up (or feeding is enabled). That delay
 * is the next voter walking up: this clock holds each such timer until the test says the voter feeds, and
 * runs every other timer (watchdog, motor) on the system clock.
 */
const VOTER_MS = 3_600_000;

class VoterClock implements Clock {
  readonly waiting: (() => void)[] = [];
  now(): number {
    return Date.now();
  }
  after(ms: number, fn: () => void): () => void {
    if (ms !== VOTER_MS) return systemClock.after(ms, fn);
    this.waiting.push(fn);
    return () => {
      const i = this.waiting.indexOf(fn);
      if (i >= 0) this.waiting.splice(i, 1);
    };
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

export interface PtyScanner {
  /** the host end of the pty: what `tallyproof station --serial` opens */
  readonly path: string;
  readonly simulator: FirmwareSimulator;
  /** The next voter puts the next sheet of the pile into the feeder; resolves once the scanner took it in. */
  voterFeeds(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPtyScanner(sheets: readonly DeckSheet[], faults: FaultPlan, workDir: string): Promise<PtyScanner> {
  fs.mkdirSync(workDir, { recursive: true });
  const pty = await startPtyPair(workDir);
  const clock = new VoterClock();
  const simulator = new FirmwareSimulator({
    source: deckSource(sheets),
    clock,
    timings: { ...zeroTimings, insertMs: VOTER_MS },
    faults,
    autoFeed: true,
    // the firmware's "station gone" watchdog stops feeding without telling the host; this test's station never
    // goes, but on a loaded machine it can be silent for seconds, and the next voter would wait forever
    hostTimeoutMs: 0,
  });
  const end = attachSimulatorToPort(simulator, pty.devicePath);
  return {
    path: pty.hostPath,
    simulator,
    async voterFeeds() {
      const before = simulator.physical.length;
      const limit = Date.now() + 60_000;
      // The scanner looks for paper only while it feeds: a voter who comes while it does not waits at the slot.
      // A sheet offered just as feeding stops is not taken; the voter offers it again when the scanner asks.
      while (simulator.physical.length === before) {
        if (Date.now() > limit) throw new Error(`the scanner did not take sheet ${before + 1} within a minute (state: ${JSON.stringify(simulator.state)})`);
        const fn = clock.waiting.shift();
        if (fn === undefined) await tick();
        else fn();
      }
    },
    async stop() {
      simulator.shutdown();
      await end.close();
      await pty.stop();
    },
  };
}

/** Writes a rendered test-deck sheet as the simulator's deck files (`x.png`, and `x.back.png` for a second side). */
export function writeDeckSheet(dir: string, name: string, images: readonly { readonly bytes: Uint8Array }[]): void {
  const [front, back] = images;
  if (front === undefined) throw new Error(`deck sheet ${name} has no image`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.png`), front.bytes);
  if (back !== undefined) fs.writeFileSync(path.join(dir, `${name}.back.png`), back.bytes);
}
