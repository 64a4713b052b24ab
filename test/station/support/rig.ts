/** A station on real parts: the municipal example election, test-deck images, the firmware simulator behind
 * the real serial driver (binding-mock link), a real SQLite ledger in a temp dir. */
import fs from 'node:fs';
import path from 'node:path';
import type { SheetKind, TruthSheet } from '../../../ballots/testdeck';
import { TestDeck, blankScan, encodeImage } from '../../../ballots/testdeck';
import { systemClock } from '../../../firmware-bridge/clock';
import { SerialScannerDriver } from '../../../firmware-bridge/serial/serial-driver';
import type { DeckSheet, SheetSource } from '../../../firmware-bridge/simulator/deck';
import { deckSource, readDeck } from '../../../firmware-bridge/simulator/deck';
import type { FaultPlan } from '../../../firmware-bridge/simulator/faults';
import { FirmwareSimulator, zeroTimings } from '../../../firmware-bridge/simulator/firmware-simulator';
import type { MockLink } from '../../../firmware-bridge/simulator/mock-port';
import { mockLink } from '../../../firmware-bridge/simulator/mock-port';
import type { AuditEvent } from '../../../app/ledger/events';
import { dataLayout } from '../../../app/ledger/layout';
import { verifyLedgerFile } from '../../../app/ledger/verify';
import type { StationEvent, StationStatus } from '../../../app/station/api';
import type { Station, StationOptions } from '../../../app/station/station';
import { startStation } from '../../../app/station/station';
import { example, tempDir, writeTestKeys } from '../../support/ballots';
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
  /** vertical scanner streaks down the scan (a dirty sensor) */
  readonly streaks?: boolean;
  /** the two-sided general election (precinct GENERAL_PRECINCT) instead of the one-sided municipal one */
  readonly general?: boolean;
  /** scan only the first side of a two-sided sheet (a simplex scanner, or the back lost) */
  readonly frontOnly?: boolean;
  /**
   * a duplex scan with a blank side: 'back' is the unprinted back of a one-sided ballot (or, two-sided, a back
   * that came through blank); 'front' is a one-sided ballot fed face down (the scanner sees the blank side first)
   */
  readonly blank?: 'back' | 'front';
}

/** The general election's precinct the two-sided tests run in. */
export const GENERAL_PRECINCT = 'p-0001';

const decks = new Map<string, TestDeck>();
function deckFor(s: SheetSpec): TestDeck {
  const mode = s.mode ?? 'official';
  const marginal = s.marginal ?? false;
  const streaks = s.streaks ?? false;
  const general = s.general ?? false;
  // the seed keeps the key of the one-sided decks as it was, so their ballots stay the same
  const key = `${s.kind}/${mode}/${marginal}${streaks ? '/streaks' : ''}${general ? '/general' : ''}`;
  let d = decks.get(key);
  if (d === undefined) {
    d = new TestDeck(
      deckOptions({
        dpi: 200,
        seed: `station-${key}`,
        mode,
        ...(general ? { election: example('general'), precinctId: GENERAL_PRECINCT } : { precinctId: PRECINCT }),
        kinds: { [s.kind]: 1 },
        marginalRate: marginal ? 1 : 0,
        markKinds: marginal ? ['full', 'dot'] : ['full'],
        streakRate: streaks ? 1 : 0,
      }),
    );
    decks.set(key, d);
  }
  return d;
}

/**
 * Renders the sheets into a new folder, in feeding order: one PNG per side (`n.png`, and `n.back.png` for the
 * side the scanner sees second, which the simulator sends as the back image); returns the folder and the truth.
 */
export async function writeSheets(specs: readonly SheetSpec[], dir = tempDir('station-deck')): Promise<{ dir: string; truth: TruthSheet[] }> {
  const truth: TruthSheet[] = [];
  for (const [i, s] of specs.entries()) {
    const sheet = await deckFor(s).sheet(s.n ?? 0);
    const [first, second] = sheet.images;
    const raster = sheet.rasters[0];
    if (first === undefined || raster === undefined) throw new Error('a deck sheet without an image');
    const blank = s.blank === undefined ? undefined : await encodeImage(blankScan(raster.width, raster.height, `blank-${i}`), 'png');
    const [side1, side2] = blank === undefined ? [first.bytes, s.frontOnly === true ? undefined : second?.bytes] : s.blank === 'front' ? [blank, first.bytes] : [first.bytes, blank];
    const base = path.join(dir, String(i).padStart(4, '0'));
    fs.writeFileSync(`${base}.png`, side1);
    if (side2 !== undefined) fs.writeFileSync(`${base}.back.png`, side2);
    truth.push(sheet.truth);
  }
  return { dir, truth };
}

export interface Rig {
  readonly station: Station;
  readonly sim: FirmwareSimulator;
  readonly driver: SerialScannerDriver;
  /** the simulated USB cable: unplug() drops the link, plug() lets the driver reconnect */
  readonly link: MockLink;
  readonly dataDir: string;
  readonly events: StationEvent[];
  /** stops the station and the simulator; the data directory stays */
  stop(): Promise<void>;
}

/**
 * The pile in the voters' hands: a sheet goes into the feeder only once the test allows it (the simulator looks
 * for paper when its path frees up or feeding is enabled), so a test can say when a voter feeds again.
 * `cycle` starts the pile over at its end (a benchmark feeding the same ballots round after round).
 */
export class VoterPile implements SheetSource {
  private allowed = 0;
  private i = 0;
  constructor(
    private readonly sheets: readonly DeckSheet[],
    private readonly opts: { readonly cycle?: boolean } = {},
  ) {}
  allow(n: number): void {
    this.allowed += n;
  }
  next(): DeckSheet | undefined {
    const s = this.opts.cycle === true && this.sheets.length > 0 ? this.sheets[this.i % this.sheets.length] : this.sheets[this.i];
    if (this.allowed <= 0 || s === undefined) return undefined;
    this.allowed -= 1;
    this.i += 1;
    return s;
  }
  get remaining(): number {
    return this.opts.cycle === true ? this.allowed : Math.min(this.allowed, this.sheets.length - this.i);
  }
}

export interface RigOptions extends Partial<Omit<StationOptions, 'scanner'>> {
  readonly deck: readonly DeckSheet[] | string;
  /** feeds from this pile instead of the whole deck at once (the deck is then unused) */
  readonly pile?: VoterPile;
  readonly faults?: FaultPlan;
  readonly boxCapacity?: number;
  /** a `disconnect` fault pulls the cable (it stays out until the test plugs it back in) */
  readonly unplugOnLinkFault?: boolean;
}

export async function startRig(o: RigOptions): Promise<Rig> {
  const deck = typeof o.deck === 'string' ? readDeck(o.deck) : o.deck;
  const cable: { link?: MockLink } = {};
  const sim = new FirmwareSimulator({
    source: o.pile ?? deckSource(deck, deck.length),
    clock: systemClock,
    timings: zeroTimings,
    autoFeed: true,
    ...(o.faults ? { faults: o.faults } : {}),
    ...(o.boxCapacity !== undefined ? { boxCapacity: o.boxCapacity } : {}),
    // the firmware calls this mid-step: the cable comes out once that step is done
    ...(o.unplugOnLinkFault === true ? { hooks: { linkBreak: (kind: 'disconnect' | 'power-cycle') => kind === 'disconnect' && setImmediate(() => cable.link?.unplug()) } } : {}),
  });
  const link = mockLink(sim);
  cable.link = link;
  const driver = new SerialScannerDriver({ path: link.path, opener: link.opener, heartbeatMs: 200, deadAfterMs: 10_000, reconnectMs: 50, commandTimeoutMs: 10_000 });
  const dataDir = o.dataDir ?? tempDir('station-data');
  const { deck: _d, faults: _f, boxCapacity: _b, unplugOnLinkFault: _u, pile: _p, ...rest } = o;
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
    link,
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

/**
 * Logs in as captain and gives the commands in order, answering yes to each confirmation (the polls procedure
 * itself is tested in polls-procedure.test.ts): 'print-zero-tape', 'open-polls' opens the polls.
 */
export async function captainDoes(station: Station, ...commands: Parameters<Station['command']>[0]['command'][]): Promise<void> {
  const l = await station.login({ role: 'captain', pin: PINS.captain });
  if (!l.ok) throw new Error(`captain login: ${l.error.message}`);
  for (const command of commands) {
    const r = await station.command({ command, confirm: true });
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

/**
 * Returns once every station task queued so far (scanner events, commands) has run: a voter decision about no
 * sheet goes through the same queue and changes nothing.
 */
export async function stationSettled(station: Station): Promise<void> {
  const r = await station.voterDecision({ sheetId: 'no-such-sheet', decision: 'return' });
  if (r.ok) throw new Error('a decision about no sheet was taken');
}

/** The audit events of a data directory's official ledger, read through a full verify (which must pass). */
export function auditEvents(dataDir: string): AuditEvent[] {
  const events: AuditEvent[] = [];
  const r = verifyLedgerFile(dataLayout(dataDir).ledger('official'), {}, { onEvent: (e) => events.push(e) });
  expect(r.ok).toBe(true);
  return events;
}
