/** A station on real parts: the municipal example election, test-deck images, the firmware simulator behind
 * the real serial driver (binding-mock link), a real SQLite ledger in a temp dir. */
import fs from 'node:fs';
import path from 'node:path';
import type { SheetKind, TruthSheet } from '../../../ballots/testdeck';
import { TestDeck } from '../../../ballots/testdeck';
import { systemClock } from '../../../firmware-bridge/clock';
import { SerialScannerDriver } from '../../../firmware-bridge/serial/serial-driver';
import type { DeckSheet } from '../../../firmware-bridge/simulator/deck';
import { deckSource, readDeck } from '../../../firmware-bridge/simulator/deck';
import type { FaultPlan } from '../../../firmware-bridge/simulator/faults';
import { FirmwareSimulator, zeroTimings } from '../../../firmware-bridge/simulator/firmware-simulator';
import { mockLink } from '../../../firmware-bridge/simulator/mock-port';
import type { StationEvent, StationStatus } from '../../../app/station/api';
import type { Station, StationOptions } from '../../../app/station/station';
import { startStation } from '../../../app/station/station';
import { tempDir, writeTestKeys } from '../../support/ballots';
import { deckOptions } from '../../support/reader';

import { ELECTION, PASSPHRASE, PINS, PRECINCT } from './constants';

export { ELECTION, PASSPHRASE, PINS, PRECINCT };

let keysFile: string | undefined;
/** election-public.json of the test keys (written once per test file). */
export function electionKeysFile(): string {
  if (keysFile === undefined) keysFile = path.join(writeTestKeys(tempDir('station-keys')), 'election-public.json');
  return keysFile;
}

/** What a sheet of the deck should be. */
export interface SheetSpec {
  readonly kind: SheetKind;
  /** nth sheet of that kind in its own deck (different n, different ballot) */
  readonly n?: number;
  readonly mode?: 'official' | 'test';
  /** a marginal dot on an unvoted target */
  readonly marginal?: boolean;
}

const decks = new Map<string, TestDeck>();
function deckFor(kind: SheetKind, mode: 'official' | 'test', marginal: boolean): TestDeck {
  const key = `${kind}/${mode}/${marginal}`;
  let d = decks.get(key);
  if (d === undefined) {
    d = new TestDeck(deckOptions({ dpi: 200, seed: `station-${key}`, mode, precinctId: PRECINCT, kinds: { [kind]: 1 }, marginalRate: marginal ? 1 : 0, markKinds: marginal ? ['full', 'dot'] : ['full'] }));
    decks.set(key, d);
  }
  return d;
}

/** Renders the sheets into a new folder, one PNG each, in feeding order; returns the folder and the truth. */
export async function writeSheets(specs: readonly SheetSpec[], dir = tempDir('station-deck')): Promise<{ dir: string; truth: TruthSheet[] }> {
  const truth: TruthSheet[] = [];
  for (const [i, s] of specs.entries()) {
    const deck = deckFor(s.kind, s.mode ?? 'official', s.marginal ?? false);
    const sheet = await deck.sheet(s.n ?? 0);
    const img = sheet.images[0];
    if (img === undefined) throw new Error('a deck sheet without an image');
    fs.writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}.png`), img.bytes);
    truth.push(sheet.truth);
  }
  return { dir, truth };
}

export interface Rig {
  readonly station: Station;
  readonly sim: FirmwareSimulator;
  readonly driver: SerialScannerDriver;
  readonly dataDir: string;
  readonly events: StationEvent[];
  /** stops the station and the simulator; the data directory stays */
  stop(): Promise<void>;
}

export interface RigOptions extends Partial<Omit<StationOptions, 'scanner'>> {
  readonly deck: readonly DeckSheet[] | string;
  readonly faults?: FaultPlan;
  readonly boxCapacity?: number;
}

export async function startRig(o: RigOptions): Promise<Rig> {
  const deck = typeof o.deck === 'string' ? readDeck(o.deck) : o.deck;
  const sim = new FirmwareSimulator({
    source: deckSource(deck, deck.length),
    clock: systemClock,
    timings: zeroTimings,
    autoFeed: true,
    ...(o.faults ? { faults: o.faults } : {}),
    ...(o.boxCapacity !== undefined ? { boxCapacity: o.boxCapacity } : {}),
  });
  const link = mockLink(sim);
  const driver = new SerialScannerDriver({ path: link.path, opener: link.opener, heartbeatMs: 200, deadAfterMs: 10_000, reconnectMs: 50, commandTimeoutMs: 10_000 });
  const dataDir = o.dataDir ?? tempDir('station-data');
  const { deck: _d, faults: _f, boxCapacity: _b, ...rest } = o;
  const station = await startStation({
    election: ELECTION,
    electionKeys: electionKeysFile(),
    precinct: PRECINCT,
    stationPassphrase: PASSPHRASE,
    pins: { ...PINS },
    readerWorkers: 0,
    ...rest,
    dataDir,
    scanner: driver,
  });
  const events: StationEvent[] = [];
  station.subscribe((e) => events.push(e));
  return {
    station,
    sim,
    driver,
    dataDir,
    events,
    async stop() {
      await station.close();
      await driver.close();
      sim.shutdown();
    },
  };
}

/** Waits until the station's status satisfies `pred` (no timing is asserted: Jest's timeout is the limit). */
export function waitForStatus(station: Station, pred: (s: StationStatus) => boolean): Promise<StationStatus> {
  return new Promise((resolve) => {
    const now = station.status();
    if (pred(now)) {
      resolve(now);
      return;
    }
    const off = station.subscribe((e) => {
      if (e.type === 'status' && pred(e.status)) {
        off();
        resolve(e.status);
      }
    });
  });
}

/** Logs in as captain and opens the polls (or enters test mode). */
export async function captainDoes(station: Station, ...commands: Parameters<Station['command']>[0]['command'][]): Promise<void> {
  const l = await station.login({ role: 'captain', pin: PINS.captain });
  if (!l.ok) throw new Error(`captain login: ${l.error.message}`);
  for (const command of commands) {
    const r = await station.command({ command });
    if (!r.ok) throw new Error(`${command}: ${r.error.message}`);
  }
  await station.logout();
}

export function sheetFeedbacks(events: readonly StationEvent[]): Extract<StationEvent, { type: 'sheet' }>['feedback'][] {
  return events.flatMap((e) => (e.type === 'sheet' ? [e.feedback] : []));
}

/** Polls until `pred` holds (the paper moves on the simulator's own timers). */
export async function waitUntil(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 10));
}

/** Where each fed sheet is, once no sheet is in motion any more. */
export async function paperLocations(rig: Rig, sheets: number): Promise<string[]> {
  await waitUntil(() => rig.sim.physical.length === sheets && rig.sim.physical.every((p) => p.location !== 'in-path'));
  return rig.sim.physical.map((p) => p.location);
}
