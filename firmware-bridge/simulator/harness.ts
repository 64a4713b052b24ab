/**
 * Runs a stream of sheets through simulator + serial driver with a scripted station (accept or return each
 * scanned sheet) and a scripted poll worker (clear jams, close the cover, empty the box), then checks the
 * driver's sheet-done reports against where the simulator says each piece of paper really is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { assertNever } from '../../lib/result';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../clock';
import type { ScannerEvent } from '../driver';
import type { SheetOutcome } from '../lifecycle';
import { SerialScannerDriver, type SerialDriverOptions } from '../serial/serial-driver';
import { deckSource, type DeckSheet } from './deck';
import { noFaults, seededRandom, type FaultPlan } from './faults';
import { FirmwareSimulator, zeroTimings, type MotorTimings, type PhysicalLocation } from './firmware-simulator';
import { mockLink } from './mock-port';
import { attachSimulatorToPort, startPtyPair, type DeviceEnd, type PtyPair } from './pty';

export interface SessionOptions {
  readonly deck: readonly DeckSheet[];
  readonly count: number;
  readonly transport: 'mock' | 'pty';
  readonly faults?: FaultPlan;
  readonly timings?: MotorTimings;
  /** The station's verdict per scanned sheet (default: accept). */
  readonly decide?: (sheetId: string, nth: number) => 'accept' | 'return';
  /** What the station does when the box is full: give the ballot back (default) or wait for the poll worker. */
  readonly onBoxFull?: 'return' | 'wait';
  readonly pollWorker?: { readonly clearJams?: boolean; readonly closeCover?: boolean; readonly emptyBox?: boolean; readonly delayMs?: number };
  readonly driver?: Partial<SerialDriverOptions>;
  readonly seed?: number;
  readonly timeoutMs?: number;
  readonly boxCapacity?: number;
  readonly log?: (message: string) => void;
  readonly onEvent?: (e: ScannerEvent, sim: FirmwareSimulator) => void;
}

export interface SessionReport {
  readonly physicalSheets: number;
  readonly sheetIds: number;
  readonly outcomes: Readonly<Record<string, SheetOutcome>>;
  readonly counts: { box: number; returned: number; flagged: number };
  /** Every problem found; empty means every sheet was accounted for exactly once and correctly. */
  readonly problems: readonly string[];
  readonly events: Readonly<Partial<Record<ScannerEvent['type'], number>>>;
  readonly scannedImages: number;
  readonly imageBytes: number;
  readonly elapsedMs: number;
  readonly malformedFrames: number;
  readonly retransmits: number;
  readonly reconnects: number;
  readonly timedOut: boolean;
}

function expectedKind(location: PhysicalLocation): SheetOutcome['kind'] {
  switch (location) {
    case 'box':
      return 'box';
    case 'returned':
      return 'returned';
    case 'in-path':
    case 'removed-by-poll-worker':
      return 'flagged';
    default:
      return assertNever(location, 'paper location');
  }
}

export async function runSession(o: SessionOptions): Promise<SessionReport> {
  const log = o.log ?? (() => undefined);
  const rnd = seededRandom(o.seed ?? 1);
  let pty: PtyPair | undefined;
  let ptyDir: string | undefined;
  const breakLink = (kind: 'disconnect' | 'power-cycle'): void => {
    if (o.transport === 'mock') {
      link?.unplug();
      setTimeout(() => link?.plug(), kind === 'power-cycle' ? 60 : 30);
      return;
    }
    const p = pty;
    if (!p) return;
    void (async () => {
      await p.stop();
      await new Promise((r) => setTimeout(r, 30));
      await p.start();
      await deviceEnd?.reopen();
    })().catch((e: Error) => log(`socat restart failed: ${e.message}`));
  };
  const sim = new FirmwareSimulator({
    source: deckSource(o.deck, o.count),
    clock: systemClock,
    timings: o.timings ?? zeroTimings,
    faults: o.faults ?? noFaults,
    random: rnd,
    autoFeed: true,
    boxCapacity: o.boxCapacity,
    hostTimeoutMs: 0,
    hooks: { linkBreak: (kind) => setImmediate(() => breakLink(kind)) },
    log,
  });
  const link = o.transport === 'mock' ? mockLink(sim) : undefined;
  let deviceEnd: DeviceEnd | undefined;
  let path: string;
  if (link) {
    path = link.path;
  } else {
    ptyDir = mkdtempSync(join(tmpdir(), 'tp-pty-'));
    pty = await startPtyPair(ptyDir);
    deviceEnd = attachSimulatorToPort(sim, pty.devicePath);
    path = pty.hostPath;
  }
  const driver = new SerialScannerDriver({
    path,
    ...(link ? { opener: link.opener } : {}),
    heartbeatMs: 200,
    deadAfterMs: 2000,
    reconnectMs: 50,
    commandTimeoutMs: 2000,
    log,
    ...o.driver,
  });

  const outcomes: Record<string, SheetOutcome> = {};
  const problems: string[] = [];
  const events: Partial<Record<ScannerEvent['type'], number>> = {};
  const acceptedByStation = new Set<string>();
  const wanted = new Map<string, 'accept' | 'return'>();
  let scannedImages = 0;
  let nth = 0;
  const pw = { clearJams: true, closeCover: true, emptyBox: true, delayMs: 5, ...o.pollWorker };

  const tryDecision = (sheetId: string): void => {
    const d = wanted.get(sheetId);
    if (!d || outcomes[sheetId]) return;
    if (d === 'accept') acceptedByStation.add(sheetId);
    void (d === 'accept' ? driver.accept(sheetId) : driver.returnSheet(sheetId)).then((r) => {
      if (r.ok || outcomes[sheetId]) return;
      if (r.error.kind === 'unknown-sheet') return;
      if (r.error.kind === 'refused' && r.error.reason === 'box-full' && o.onBoxFull !== 'wait') {
        // What a station does with a full box: give the ballot back, the voter feeds it again later.
        wanted.set(sheetId, 'return');
      }
      setTimeout(() => tryDecision(sheetId), 20);
    });
  };

  driver.on((e) => {
    events[e.type] = (events[e.type] ?? 0) + 1;
    o.onEvent?.(e, sim);
    switch (e.type) {
      case 'sheet-scanned': {
        scannedImages += e.back ? 2 : 1;
        const verdict = o.decide ? o.decide(e.sheetId, nth) : 'accept';
        nth += 1;
        wanted.set(e.sheetId, verdict);
        tryDecision(e.sheetId);
        return;
      }
      case 'sheet-done':
        if (outcomes[e.sheetId]) problems.push(`sheet ${e.sheetId} reported done twice`);
        outcomes[e.sheetId] = e.outcome;
        if (e.outcome.kind === 'box' && !acceptedByStation.has(e.sheetId)) problems.push(`sheet ${e.sheetId} went into the box without the station's say-so`);
        wanted.delete(e.sheetId);
        return;
      case 'jam':
        if (pw.clearJams) setTimeout(() => sim.clearJam(), pw.delayMs);
        return;
      case 'double-sheet':
        // the double feed stopped the feeder; the poll worker sees the sheets back to the voter and resumes
        setTimeout(() => void driver.enableFeeding(), pw.delayMs);
        return;
      case 'cover-open':
        if (pw.closeCover) setTimeout(() => sim.closeCover(), pw.delayMs);
        return;
      case 'ballot-box-full':
        if (pw.emptyBox) setTimeout(() => sim.emptyBox(), pw.delayMs * 4);
        return;
      case 'reconnected':
      case 'cover-closed':
      case 'ballot-box-emptied':
        for (const id of wanted.keys()) tryDecision(id);
        return;
      default:
        return;
    }
  });

  const t0 = Date.now();
  const connected = await driver.connect();
  if (!connected.ok) throw new Error(`driver could not connect: ${JSON.stringify(connected.error)}`);
  const enabled = await driver.enableFeeding();
  if (!enabled.ok) throw new Error(`could not enable feeding: ${JSON.stringify(enabled.error)}`);

  const timeoutMs = o.timeoutMs ?? 60_000;
  let timedOut = false;
  let settledAt: number | undefined;
  for (;;) {
    const st = sim.finished && !sim.state.jammed && driver.connected ? await driver.status() : undefined;
    const idle = st !== undefined && st.ok && st.value.connected && st.value.openSheets.length === 0;
    if (idle) {
      // Stay idle a moment: a late retransmission must not produce a second report.
      settledAt ??= Date.now();
      if (Date.now() - settledAt > 100) break;
    } else settledAt = undefined;
    if (Date.now() - t0 > timeoutMs) {
      timedOut = true;
      problems.push(`session did not finish within ${timeoutMs} ms (sim ${JSON.stringify(sim.state)}, finished=${sim.finished})`);
      break;
    }
    await new Promise((r) => setTimeout(r, sim.finished ? 20 : 50));
  }
  const elapsedMs = Date.now() - t0;
  const stats = driver.stats;
  await driver.close();
  sim.shutdown();
  await deviceEnd?.close();
  await pty?.stop();
  if (ptyDir) rmSync(ptyDir, { recursive: true, force: true });

  const byId = new Map<string, PhysicalLocation[]>();
  for (const p of sim.physical) byId.set(p.sheetId, [...(byId.get(p.sheetId) ?? []), p.location]);
  for (const [id, locations] of byId) {
    const out = outcomes[id];
    if (!out) {
      problems.push(`sheet ${id} never reported done (paper: ${locations.join(',')})`);
      continue;
    }
    for (const loc of locations) if (expectedKind(loc) !== out.kind) problems.push(`sheet ${id}: driver says ${out.kind}, paper is ${loc}`);
  }
  for (const id of Object.keys(outcomes)) if (!byId.has(id)) problems.push(`sheet ${id} reported but never fed`);
  const counts = { box: 0, returned: 0, flagged: 0 };
  for (const out of Object.values(outcomes)) counts[out.kind] += 1;
  return {
    physicalSheets: sim.physical.length,
    sheetIds: byId.size,
    outcomes,
    counts,
    problems,
    events,
    scannedImages,
    imageBytes: stats.imageBytes,
    elapsedMs,
    malformedFrames: stats.link.malformed,
    retransmits: stats.link.retransmits,
    reconnects: stats.reconnects,
    timedOut,
  };
}
