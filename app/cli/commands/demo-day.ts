/**
 * The demo's election day, unattended: the real station service drives the firmware simulator over a serial
 * pty; a scripted voter answers the held-ballot screen and a scripted poll worker clears the alarms, both
 * through the station's own API in-process (what a screen calls), reacting to the station's events. Nothing
 * waits on a guessed time: the day ends when every feed has its outcome and the station is quiet, and only
 * an overall safety limit (far above any real run) stops it, with the station's state, if it never is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SerialScannerDriver } from '../../../firmware-bridge/serial/serial-driver';
import { ok } from '../../../lib/result';
import { noFaults, parseFaultPlan } from '../../../firmware-bridge/simulator/faults';
import type { SimulatedScanner } from '../../../firmware-bridge/simulator/start';
import { startSimulatedScanner } from '../../../firmware-bridge/simulator/start';
import type { ApiResult, CommandOutcome, ScannerAlarm, SheetFeedback, StationCommand, StationStatus } from '../../station/api';
import type { Station } from '../../station/station';
import { startStation } from '../../station/station';
import { CommandFailure } from '../context';
import type { DemoPile, ExpectedOutcome, PileFeed } from './demo-deck';
import { pileFaults } from './demo-deck';

export const DEMO_PINS = { 'poll-worker': '1111', captain: '2222', auditor: '3333' } as const;
export const DEMO_STATION_PASSPHRASE = 'demo station only - never use for an election';
/** Offline signing needs coins to spend; these are made up, so the signed transactions can never be mined. */
const DEMO_COIN_TXID = 'de'.repeat(32);

export interface DayInput {
  readonly dataDir: string;
  readonly electionFile: string;
  readonly publicKeysFile: string;
  readonly precinct: string;
  readonly pileDir: string;
  readonly pile: DemoPile;
  readonly say: (line: string) => void;
  readonly log: (line: string) => void;
  /** the day fails, with the station's state, if it has not ended after this long (ms) */
  readonly safetyLimitMs: number;
  /** continuous export to this directory (a plain directory standing in for the USB stick) */
  readonly exportDir?: string;
}

/** One feed's outcome as the station gave it, beside what the deck says it must be. */
export interface FeedResult {
  readonly feed: PileFeed;
  readonly sheetId: string | null;
  readonly got: SheetFeedback | null;
  readonly expected: ExpectedOutcome;
  readonly agrees: boolean;
}

export interface DayResult {
  readonly dataDir: string;
  readonly chainsFile: string;
  readonly fundingFile: string;
  readonly passphraseFile: string;
  readonly tapes: readonly string[];
  readonly feeds: readonly FeedResult[];
  readonly counts: StationStatus['counts'];
  /** alarms the poll worker ended, in order (a jam is cleared by opening the path, the rest by clear-alarm) */
  readonly alarmsCleared: readonly string[];
  readonly castAsIs: number;
  readonly disagreements: readonly string[];
}

const FINAL: ReadonlySet<SheetFeedback['outcome']> = new Set(['counted', 'returned', 'rejected']);
/** alarms the scripted poll worker knows how to end; any other one stops the day at the safety limit */
const WORKER_CLEARS = ['streaks', 'double-sheet'] as const satisfies readonly ScannerAlarm[];
const CLEARED_WORDS: Readonly<Record<(typeof WORKER_CLEARS)[number], string>> = { streaks: 'scanner streaks (sensor wiped)', 'double-sheet': 'double feed (both sheets back to the voter)' };
/** the reason on the sheet the voter gets back with each of those alarms */
const ALARM_REASON: Readonly<Partial<Record<ScannerAlarm, string>>> = { streaks: 'scanner-streaks', 'double-sheet': 'double-sheet' };

/**
 * The voter's answer to the held-ballot screen, given through the station's API as the voter's screen gives
 * it: the decision names the sheet the screen was shown (its feedback), and nothing else.
 */
export function voterChooses(station: Station, shown: SheetFeedback, decision: 'return' | 'cast-as-is'): Promise<ApiResult<SheetFeedback>> {
  return station.voterDecision({ sheetId: shown.sheetId, decision });
}

function writeDayFiles(dataDir: string): { passphraseFile: string; chainsFile: string; fundingFile: string } {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const passphraseFile = path.join(dataDir, 'DEMO-STATION-PASSPHRASE.txt');
  fs.writeFileSync(passphraseFile, `${DEMO_STATION_PASSPHRASE}\n`, { mode: 0o600 });
  const chainsFile = path.join(dataDir, 'chains.json');
  const chains = {
    format: 'tallyproof-chains/1',
    records: { name: 'florincoin-regtest', network: 'florincoin-regtest', carrier: 'flodata', maxDataBytes: 1040, address: 'p2pkh', feeFloorSatPerVb: 1, confTarget: 6, confirmations: 1 },
    anchor: { name: 'bitcoin-regtest', network: 'bitcoin-regtest', address: 'p2wpkh', feeFloorSatPerVb: 2, confTarget: 6, confirmations: 1, rbf: { bumpAfterBlocks: 3, factor: 1.5, maxSatPerVb: 500 } },
  };
  fs.writeFileSync(chainsFile, `${JSON.stringify(chains, null, 2)}\n`);
  const fundingFile = path.join(dataDir, 'demo-coins.json');
  const funding = {
    format: 'tallyproof-funding/1',
    coins: [
      { role: 'records', txid: DEMO_COIN_TXID, vout: 0, valueSat: '100000000' },
      { role: 'anchor', txid: DEMO_COIN_TXID, vout: 1, valueSat: '100000000' },
    ],
  };
  fs.writeFileSync(fundingFile, `${JSON.stringify(funding, null, 2)}\n`);
  return { passphraseFile, chainsFile, fundingFile };
}

export async function electionDay(d: DayInput): Promise<DayResult> {
  const { say } = d;
  const files = writeDayFiles(d.dataDir);
  const spec = pileFaults(d.pile);
  const faults = spec === '' ? ok(noFaults) : parseFaultPlan(spec);
  if (!faults.ok) throw new Error(`the demo pile's fault plan "${spec}": ${faults.error}`);
  const scannerSheets = d.pile.feeds.filter((f) => f.pulledInWithPrevious !== true);
  say(`\n== election day: ${d.pile.feeds.length} sheets fed through a simulated scanner, a ledger in ${d.dataDir}`);

  let sim: SimulatedScanner | undefined;
  let driver: SerialScannerDriver | undefined;
  let station: Station | undefined;
  try {
    // The simulator and the station share this process's event loop, so anything that holds it (a tape's PDF, a
    // busy machine) stalls both ends at once; the link and the device's watchdog count silence in time they were
    // awake for (firmware-bridge/clock.ts AwakeTicks), so the usual limits hold here as on a real cable.
    sim = await startSimulatedScanner({ deckDir: d.pileDir, timings: 'zero', faults: faults.value, log: d.log });
    driver = new SerialScannerDriver({ path: sim.path, log: d.log });
    station = await startStation({
      dataDir: d.dataDir,
      election: d.electionFile,
      electionKeys: d.publicKeysFile,
      precinct: d.precinct,
      scanner: driver,
      stationPassphrase: DEMO_STATION_PASSPHRASE,
      pins: { ...DEMO_PINS },
      chains: files.chainsFile,
      publishOffline: true,
      // read in a worker thread, so that reading a sheet does not hold the event loop the serial link runs on
      readerWorkers: 1,
      ...(d.exportDir === undefined ? {} : { continuousExport: { dir: d.exportDir, whenDeviceFails: 'stop' as const, mustBeMountPoint: false } }),
      log: d.log,
    });
    const day = await runDay(station, sim, scannerSheets, d);
    return { ...files, dataDir: d.dataDir, ...day };
  } finally {
    await station?.close();
    await driver?.close();
    await sim?.stop();
  }
}

async function runDay(st: Station, sim: SimulatedScanner, scannerSheets: readonly PileFeed[], d: DayInput): Promise<Omit<DayResult, 'dataDir' | 'chainsFile' | 'fundingFile' | 'passphraseFile'>> {
  const { say } = d;
  const tapes: string[] = [];
  const must = async <T>(what: string, r: Promise<ApiResult<T>>): Promise<T> => {
    const out = await r;
    if (!out.ok) throw new CommandFailure(`demo: ${what} was refused: ${out.error.message}`);
    return out.value;
  };
  const command = async (c: StationCommand): Promise<CommandOutcome> => {
    // the scripted captain answers yes where the station asks for a confirmation (open, close)
    const out = await must(c, st.command({ command: c, confirm: true }));
    say(`  ${c}: ${out.message}${out.file ? ` (${out.file})` : ''}`);
    if (out.file !== undefined && out.file.endsWith('.pdf')) tapes.push(out.file);
    return out;
  };

  /** Hands the station to `role`: whoever is signed in signs out first (an idle sign-out may have done it already). */
  const signIn = async (role: keyof typeof DEMO_PINS): Promise<void> => {
    if (st.status().role !== null) await must('logout', st.logout());
    await must(`${role} login`, st.login({ role, pin: DEMO_PINS[role] }));
  };

  // the captain prints the zero tape before the polls open, then hands the station to the poll worker
  await signIn('captain');
  await command('print-zero-tape');

  const finals = new Map<string, SheetFeedback>();
  let lastFinal: SheetFeedback | undefined;
  const decisions = scannerSheets.flatMap((f) => (f.voter === undefined ? [] : [f.voter]));
  const alarmsCleared: string[] = [];
  const problems: string[] = [];
  let castAsIs = 0;
  let holds = 0;
  let finish: (() => void) | undefined;
  let fail: ((e: Error) => void) | undefined;
  const over = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const dayIsOver = (s: StationStatus) => finals.size >= scannerSheets.length && s.scanner.alarms.length === 0 && s.attention === null && s.sheet?.outcome !== 'awaiting-voter';

  // the poll worker: one thing at a time, looking at the station again after each
  let working = false;
  let lookAgain = false;
  const attendOnce = async (): Promise<void> => {
    const s = st.status();
    if (s.scanner.alarms.includes('jam')) {
      // a person opens the paper path and takes the sheet out; the station hears it from the scanner
      if (sim.simulator.state.jammed) {
        sim.simulator.clearJam();
        alarmsCleared.push('jam (paper path opened, sheet taken out)');
      }
      return;
    }
    const alarm = WORKER_CLEARS.find((a) => s.scanner.alarms.includes(a));
    if (alarm === undefined && s.attention === null) return;
    // as the poll worker's line says: clear once the voter has the sheet(s) back (and the sensor is wiped)
    if (alarm !== undefined && !(lastFinal?.reasons.some((r) => r.code === ALARM_REASON[alarm]) ?? false)) return;
    // a busy day can outlast the idle sign-out between two alarms: the poll worker signs in again, as a person would
    if (st.status().role !== 'poll-worker') await signIn('poll-worker');
    const r = await st.command({ command: 'clear-alarm' });
    if (r.ok) alarmsCleared.push(alarm === undefined ? "the jammed ballot's instruction (not counted, fed again)" : CLEARED_WORDS[alarm]);
    else problems.push(`the poll worker's clear-alarm was refused: ${r.error.message}`);
  };
  const attend = async (): Promise<void> => {
    if (working) {
      lookAgain = true;
      return;
    }
    working = true;
    try {
      do {
        lookAgain = false;
        await attendOnce();
      } while (lookAgain);
      if (dayIsOver(st.status())) finish?.();
    } catch (e) {
      fail?.(e instanceof Error ? e : new Error(String(e)));
    } finally {
      working = false;
    }
  };

  const unsubscribe = st.subscribe((e) => {
    if (e.type === 'sheet') {
      const f = e.feedback;
      if (f.outcome === 'awaiting-voter') {
        // the voter reads the screen and chooses what the story of their ballot says
        const decision = decisions[holds] ?? 'return';
        if (decisions[holds] === undefined) problems.push(`sheet ${f.sheetId} was held (${f.reasons.map((r) => r.code).join(', ')}) though no ballot in the pile should be`);
        holds += 1;
        if (decision === 'cast-as-is') castAsIs += 1;
        void voterChooses(st, f, decision).then((r) => {
          if (!r.ok) problems.push(`the voter's choice on sheet ${f.sheetId} was refused: ${r.error.message}`);
        });
      } else if (FINAL.has(f.outcome)) {
        finals.set(f.sheetId, f);
        lastFinal = f;
      }
    }
    if (e.type === 'status' || e.type === 'alarm' || e.type === 'sheet') void attend();
  });

  const stateNow = () => {
    const s = st.status();
    return `${finals.size} of ${scannerSheets.length} sheets finished; station: polls ${s.polls}, scanner ${s.scanner.state}${s.scanner.connected ? '' : ' (disconnected)'}, alarms [${s.scanner.alarms.join(', ')}], attention ${s.attention === null ? 'none' : `"${s.attention}"`}, last sheet ${s.sheet === null ? 'none' : `${s.sheet.sheetId} ${s.sheet.outcome} ${s.sheet.reasons.map((r) => r.code).join(',')}`}; simulator: ${JSON.stringify(sim.simulator.state)}, ${sim.simulator.finished ? 'pile fed' : 'pile not all fed'}`;
  };
  const limit = setTimeout(() => fail?.(new CommandFailure(`demo: election day did not end within ${Math.round(d.safetyLimitMs / 1000)} s: ${stateNow()}`)), d.safetyLimitMs);
  try {
    await command('open-polls');
    await signIn('poll-worker');
    void attend();
    await over;
  } finally {
    clearTimeout(limit);
    unsubscribe();
  }
  await signIn('captain');
  await command('close-polls');
  await command('print-results-tape');
  const counts = st.status().counts;
  if (st.status().role !== null) await must('logout', st.logout());

  // each scanner sheet's outcome, in feeding order, against the pile's story
  const order = [...finals.keys()].sort();
  const feeds: FeedResult[] = scannerSheets.map((feed, i) => {
    const sheetId = order[i] ?? null;
    const got = sheetId === null ? null : (finals.get(sheetId) ?? null);
    const expected = feed.expect ?? { outcome: 'counted' };
    const agrees = got !== null && got.outcome === expected.outcome && (expected.reason === undefined || got.reasons.some((r) => r.code === expected.reason));
    return { feed, sheetId, got, expected, agrees };
  });
  const disagreements = [...problems];
  for (const f of feeds) {
    if (!f.agrees) disagreements.push(`${f.feed.file} (${f.feed.what}): expected ${f.expected.outcome}${f.expected.reason ? ` (${f.expected.reason})` : ''}, the station said ${f.got === null ? 'nothing' : `${f.got.outcome}${f.got.reasons.length ? ` (${f.got.reasons.map((r) => r.code).join(', ')})` : ''}`}`);
  }
  const counted = feeds.filter((f) => f.expected.outcome === 'counted').length;
  const wantCastAsIs = scannerSheets.filter((f) => f.voter === 'cast-as-is').length;
  if (counts.public !== counted) disagreements.push(`the station counts ${counts.public} ballots, the deck says ${counted}`);
  if (counts.castAsIs !== wantCastAsIs) disagreements.push(`the station counts ${counts.castAsIs} cast as is, the voters cast ${wantCastAsIs}`);
  return { tapes, feeds, counts, alarmsCleared, castAsIs, disagreements };
}
