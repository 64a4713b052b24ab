/**
 * The scanner controller's firmware, simulated: a paper path with five sensors, motor timings, a ballot box,
 * a cover, non-volatile memory for sheet numbers, and the device side of the serial protocol. Faults are
 * injected per sheet from a FaultPlan; line faults go through a FaultyWire.
 */
import { crc32 } from 'node:zlib';
import { assertNever } from '../../lib/result';
import { AwakeTicks, type Clock } from '../clock';
import { SheetLifecycle, type SheetInput, type SheetOutcome, type SheetStage } from '../lifecycle';
import type { Frame } from '../protocol/frame';
import { LinkEndpoint } from '../protocol/link';
import {
  Capability,
  decodeChunkRequest,
  decodeCommand,
  decodeHello,
  encodeChunk,
  encodeChunkError,
  encodeEvent,
  encodeHeartbeat,
  encodeHelloReply,
  encodeResponse,
  MsgType,
  PROTOCOL_VERSION,
  type DeviceCommand,
  type DeviceEvent,
  type ImageDescriptor,
  type PathState,
  type ResponseBody,
  type ResponseCode,
  type StatusReport,
} from '../protocol/messages';
import type { DeckSheet, SheetSource } from './deck';
import type { FaultPlan, LinkBreakPoint, SheetFault } from './faults';
import { FaultyWire, type WireFaults } from './faulty-wire';

export interface MotorTimings {
  /** Voter puts the next sheet in after the path is free. */
  insertMs: number;
  feedMs: number;
  scanMs: number;
  acceptMs: number;
  returnMs: number;
  /** Voter takes a returned sheet from the throat. */
  takeMs: number;
}

export const zeroTimings: MotorTimings = { insertMs: 0, feedMs: 0, scanMs: 0, acceptMs: 0, returnMs: 0, takeMs: 0 };
/** Roughly a precinct scanner: 1.5 s in, 0.8 s scan, 0.7 s to the box. */
export const realisticTimings: MotorTimings = { insertMs: 2000, feedMs: 700, scanMs: 800, acceptMs: 700, returnMs: 600, takeMs: 1500 };

/** Survives power cycles: the sheet counter, the sheet in the path, the last outcomes. */
export interface Nvram {
  nextSheetNo: number;
  bootCount: number;
  currentSheetId?: string;
  recent: { sheetId: string; outcome: SheetOutcome }[];
}

export function freshNvram(): Nvram {
  return { nextSheetNo: 1, bootCount: 0, recent: [] };
}

/** Where each physical sheet really ended up: the ground truth the tests check the driver's reports against. */
export type PhysicalLocation = 'in-path' | 'box' | 'returned' | 'removed-by-poll-worker';

export interface PhysicalSheet {
  readonly deckName: string;
  sheetId: string;
  location: PhysicalLocation;
  fault?: SheetFault;
}

export interface SimulatorHooks {
  /** The simulated cable is pulled (resolve once it is back) or the device loses power. */
  linkBreak?(kind: 'disconnect' | 'power-cycle', at: LinkBreakPoint, sheetId: string): void;
}

export interface SimulatorOptions {
  readonly source: SheetSource;
  readonly clock: Clock;
  readonly timings?: MotorTimings;
  readonly faults?: FaultPlan;
  readonly serial?: string;
  readonly model?: string;
  readonly firmware?: string;
  readonly boxCapacity?: number;
  readonly nvram?: Nvram;
  readonly random?: () => number;
  readonly hooks?: SimulatorHooks;
  /** Feed the next sheet automatically whenever the path is free and feeding is enabled. */
  readonly autoFeed?: boolean;
  /** Without host traffic for this long the firmware stops feeding (the station is gone). 0 disables. */
  readonly hostTimeoutMs?: number;
  readonly log?: (message: string) => void;
  /** Line faults while a slow-link / garbage / corrupt / drop fault is active. */
  readonly faultyWire?: Partial<WireFaults>;
}

interface CurrentSheet {
  readonly sheetId: string;
  readonly lifecycle: SheetLifecycle;
  readonly physical: PhysicalSheet[];
  readonly deck: DeckSheet;
  readonly fault: SheetFault | undefined;
  images: ImageDescriptor[];
  chunkRequests: number;
}

const SENSOR = { entry: 1, scanHead: 2, hold: 4, boxChute: 8, exit: 16 } as const;

export class FirmwareSimulator {
  readonly physical: PhysicalSheet[] = [];
  readonly nvram: Nvram;
  private readonly timings: MotorTimings;
  private readonly clock: Clock;
  private readonly wire: FaultyWire;
  private readonly link: LinkEndpoint;
  private out: ((bytes: Uint8Array) => void) | undefined;
  private bootId = 0;
  private bootedAt = 0;
  private sessionNonce: number | undefined;
  private feedEnabled = false;
  private coverOpen = false;
  private boxFull = false;
  private boxCount = 0;
  private jammed = false;
  private current: CurrentSheet | undefined;
  private readonly images = new Map<number, Uint8Array>();
  private nextHandle = 1;
  private timers: (() => void)[] = [];
  private sheetsFed = 0;
  private lastHostFrameAt = 0;
  private watchdogCancel: (() => void) | undefined;
  private pendingInsert = false;
  private waitingAtEntry: { deck: DeckSheet; index: number } | undefined;
  private poweredOn = true;
  readonly log: (message: string) => void;

  constructor(private readonly opts: SimulatorOptions) {
    this.clock = opts.clock;
    this.timings = opts.timings ?? zeroTimings;
    this.nvram = opts.nvram ?? freshNvram();
    this.log = opts.log ?? (() => undefined);
    const random = opts.random ?? Math.random;
    this.wire = new FaultyWire((b) => this.out?.(b), this.clock, random);
    this.link = new LinkEndpoint({
      send: (b) => this.wire.write(b),
      clock: this.clock,
      onFrame: (f) => this.onFrame(f),
      log: (m) => this.log(`sim ${m}`),
      retransmitMs: 150,
      maxRetries: 20,
    });
    this.boot();
  }

  get wireCounters() {
    return this.wire.counters;
  }

  get linkStats() {
    return this.link.stats;
  }

  // ---- the cable -----------------------------------------------------------------------------------------

  /** Connects the firmware's UART to a byte sink (the pty, the mock port). */
  attach(out: (bytes: Uint8Array) => void): void {
    this.out = out;
  }

  detach(): void {
    this.out = undefined;
  }

  /** Bytes arriving from the host. */
  receive(bytes: Uint8Array): void {
    if (!this.poweredOn) return;
    this.link.receive(bytes);
  }

  /** Stops every timer (end of a test or demo); the simulator does nothing afterwards. */
  shutdown(): void {
    this.poweredOn = false;
    for (const cancel of this.timers.splice(0)) cancel();
    this.watchdogCancel?.();
    this.link.close();
    this.detach();
  }

  // ---- power ----------------------------------------------------------------------------------------------

  private boot(): void {
    this.nvram.bootCount += 1;
    this.bootId = ((this.nvram.bootCount * 2654435761) ^ 0x5eed) >>> 0;
    this.bootedAt = this.clock.now();
    this.feedEnabled = false;
    this.jammed = false;
    this.images.clear();
    this.sessionNonce = undefined;
    this.lastHostFrameAt = this.clock.now();
    this.armWatchdog();
  }

  /** Power cut and restore: RAM (images, link state, timers) is gone; paper and NVRAM stay where they were. */
  powerCycle(): void {
    this.log('sim: power cycle');
    for (const cancel of this.timers.splice(0)) cancel();
    this.watchdogCancel?.();
    this.link.reset();
    this.poweredOn = true;
    const sheet = this.current;
    this.boot();
    if (!sheet) return;
    const stage = sheet.lifecycle.state.stage;
    if (stage === 'held') {
      // The hold sensor still sees the sheet: keep it, but its images were in RAM and are lost.
      sheet.images = [];
      return;
    }
    if (stage === 'done') return;
    // A sheet caught mid-motion: the firmware cannot tell how far it went, so it stops for the poll worker.
    this.stopPath();
    this.finish(sheet, { type: 'stopped', reason: 'power-loss' });
  }

  // ---- poll-worker and voter actions -----------------------------------------------------------------------

  /** The motor stops with paper in the path; the feeder stays off until the host enables it again, so no
   * new sheet goes in behind one whose fate the host has not yet heard. */
  private stopPath(): void {
    this.jammed = true;
    this.feedEnabled = false;
  }

  clearJam(): void {
    if (!this.jammed) return;
    this.jammed = false;
    for (const p of this.physical) if (p.location === 'in-path') p.location = 'removed-by-poll-worker';
    this.current = undefined;
    this.nvram.currentSheetId = undefined;
    this.event({ kind: 'jam-cleared' });
    this.maybeInsert();
  }

  openCover(): void {
    if (this.coverOpen) return;
    this.coverOpen = true;
    this.event({ kind: 'cover-open' });
    const sheet = this.current;
    if (sheet) {
      const stage = sheet.lifecycle.state.stage;
      if (stage !== 'held' && stage !== 'done') {
        for (const cancel of this.timers.splice(0)) cancel();
        this.stopPath();
        this.finish(sheet, { type: 'stopped', reason: 'cover-open' });
      }
    }
  }

  closeCover(): void {
    if (!this.coverOpen) return;
    this.coverOpen = false;
    // Opening the cover is how the poll worker reaches a stuck sheet.
    if (this.jammed) this.clearJam();
    this.event({ kind: 'cover-closed' });
    this.maybeInsert();
  }

  fillBox(): void {
    if (this.boxFull) return;
    this.boxFull = true;
    this.event({ kind: 'box-full' });
  }

  emptyBox(): void {
    this.boxCount = 0;
    if (!this.boxFull) return;
    this.boxFull = false;
    this.event({ kind: 'box-emptied' });
  }

  get state(): { path: PathState; feedEnabled: boolean; coverOpen: boolean; boxFull: boolean; jammed: boolean; sheetId?: string } {
    const base = { path: this.pathState(), feedEnabled: this.feedEnabled, coverOpen: this.coverOpen, boxFull: this.boxFull, jammed: this.jammed };
    return this.current ? { ...base, sheetId: this.current.sheetId } : base;
  }

  /** True once no sheet is in the path and the pile is empty. */
  get finished(): boolean {
    return !this.current && this.opts.source.remaining === 0 && !this.pendingInsert && !this.waitingAtEntry;
  }

  // ---- the paper path ----------------------------------------------------------------------------------------

  private pathState(): PathState {
    if (this.jammed) return 'jammed';
    const s = this.current?.lifecycle.state.stage;
    return s === undefined || s === 'done' ? 'idle' : s;
  }

  private sensors(): number {
    const s = this.current?.lifecycle.state.stage;
    switch (s) {
      case undefined:
      case 'done':
        return 0;
      case 'feeding':
        return SENSOR.entry;
      case 'scanning':
        return SENSOR.scanHead;
      case 'held':
        return SENSOR.hold;
      case 'accepting':
        return SENSOR.boxChute;
      case 'returning':
        return SENSOR.exit;
      default:
        return assertNever(s, 'stage');
    }
  }

  private later(ms: number, fn: () => void): void {
    let cancel: () => void = () => undefined;
    cancel = this.clock.after(ms, () => {
      this.timers = this.timers.filter((c) => c !== cancel);
      fn();
    });
    this.timers.push(cancel);
  }

  private maybeInsert(force = false): void {
    if (this.pendingInsert || this.current || this.jammed || this.coverOpen) return;
    if (!force && !(this.feedEnabled && this.opts.autoFeed !== false)) return;
    if (this.opts.source.remaining === 0 && !this.waitingAtEntry) return;
    this.pendingInsert = true;
    this.later(this.timings.insertMs, () => {
      this.pendingInsert = false;
      if (this.current || this.jammed || this.coverOpen || (!force && !this.feedEnabled)) return;
      this.insert();
    });
  }

  private insert(): void {
    const waiting = this.waitingAtEntry;
    this.waitingAtEntry = undefined;
    const deck = waiting?.deck ?? this.opts.source.next();
    if (!deck) return;
    const index = waiting?.index ?? this.sheetsFed;
    if (!waiting) this.sheetsFed += 1;
    const fault = this.opts.faults?.(index);
    if (!waiting && fault?.kind === 'cover-open' && fault.stage === 'idle') {
      // The cover opens just as the voter arrives; the sheet waits at the entry until it is closed.
      this.waitingAtEntry = { deck, index };
      this.openCover();
      return;
    }
    const sheetId = `${this.opts.serial ?? 'SIM0001'}-${String(this.nvram.nextSheetNo).padStart(6, '0')}`;
    this.nvram.nextSheetNo += 1;
    this.nvram.currentSheetId = sheetId;
    const physical: PhysicalSheet[] = [{ deckName: deck.name, sheetId, location: 'in-path', ...(fault ? { fault } : {}) }];
    if (fault?.kind === 'double-sheet') {
      const extra = this.opts.source.next();
      if (extra) physical.push({ deckName: extra.name, sheetId, location: 'in-path', fault });
    }
    this.physical.push(...physical);
    const sheet: CurrentSheet = { sheetId, lifecycle: new SheetLifecycle(sheetId), physical, deck, fault, images: [], chunkRequests: 0 };
    this.current = sheet;
    this.applyWireFault(fault);
    this.event({ kind: 'sheet-inserted', sheetId });
    this.stageReached(sheet, 'feeding');
  }

  private applyWireFault(fault: SheetFault | undefined): void {
    const w = this.opts.faultyWire ?? {};
    const clean = { garbage: 0, corrupt: 0, drop: 0, bytesPerSecond: 0 };
    switch (fault?.kind) {
      case 'garbage':
        this.wire.faults = { ...clean, garbage: w.garbage ?? 0.5 };
        break;
      case 'corrupt-frames':
        this.wire.faults = { ...clean, corrupt: w.corrupt ?? 0.2 };
        break;
      case 'drop-frames':
        this.wire.faults = { ...clean, drop: w.drop ?? 0.2 };
        break;
      case 'slow-link':
        this.wire.faults = { ...clean, bytesPerSecond: w.bytesPerSecond ?? 100_000 };
        break;
      default:
        this.wire.faults = clean;
    }
  }

  /** Runs the sheet's planned fault if it belongs to this stage; true when the fault took over the sheet. */
  private faultAt(sheet: CurrentSheet, stage: SheetStage): boolean {
    const f = sheet.fault;
    if (!f) return false;
    switch (f.kind) {
      case 'jam':
        if (f.stage !== stage) return false;
        this.stopPath();
        this.event({ kind: 'jam', sheetId: sheet.sheetId, stage });
        this.finish(sheet, { type: 'stopped', reason: 'jam' });
        return true;
      case 'cover-open':
        if (f.stage !== stage) return false;
        this.openCover();
        return stage !== 'held';
      case 'double-sheet':
        if (stage !== 'feeding') return false;
        // As a real document scanner does: the double-feed sensor stops the feeder by itself, so the next
        // sheet of the pile stays in the tray until the host has heard the alarm and enables feeding again.
        // Waiting for the host's own disable-feed instead raced the return: on a busy host the next sheet
        // went in before the command arrived.
        this.feedEnabled = false;
        this.event({ kind: 'double-sheet', sheetId: sheet.sheetId });
        this.move(sheet, { type: 'return', reason: 'double-sheet' });
        this.later(this.timings.returnMs + this.timings.takeMs, () => this.finish(sheet, { type: 'taken-by-voter' }));
        return true;
      case 'box-full':
        if (stage === 'held') this.fillBox();
        return false;
      case 'disconnect':
      case 'power-cycle':
        if (f.at !== stage) return false;
        this.breakLink(f.kind, f.at, sheet);
        return f.kind === 'power-cycle';
      case 'garbage':
      case 'corrupt-frames':
      case 'drop-frames':
      case 'slow-link':
        return false;
      default:
        return assertNever(f, 'fault');
    }
  }

  private breakLink(kind: 'disconnect' | 'power-cycle', at: LinkBreakPoint, sheet: CurrentSheet): void {
    this.log(`sim: ${kind} at ${at} for ${sheet.sheetId}`);
    if (kind === 'power-cycle') this.powerCycle();
    this.opts.hooks?.linkBreak?.(kind, at, sheet.sheetId);
  }

  private stageReached(sheet: CurrentSheet, stage: SheetStage): void {
    if (this.current !== sheet) return;
    if (this.faultAt(sheet, stage)) return;
    switch (stage) {
      case 'feeding':
        this.later(this.timings.feedMs, () => {
          if (this.move(sheet, { type: 'scan-started' })) this.stageReached(sheet, 'scanning');
        });
        return;
      case 'scanning':
        this.later(this.timings.scanMs, () => {
          if (!this.move(sheet, { type: 'scanned' })) return;
          sheet.images = this.storeImages(sheet.deck);
          this.event({ kind: 'sheet-held', sheetId: sheet.sheetId, images: sheet.images });
          this.stageReached(sheet, 'held');
        });
        return;
      case 'held':
        return; // waits for the station
      case 'accepting':
        this.later(this.timings.acceptMs, () => {
          if (this.current !== sheet) return;
          this.boxCount += 1;
          this.finish(sheet, { type: 'dropped-in-box' });
          if (this.opts.boxCapacity !== undefined && this.boxCount >= this.opts.boxCapacity) this.fillBox();
        });
        return;
      case 'returning':
        this.later(this.timings.returnMs + this.timings.takeMs, () => {
          if (this.current === sheet) this.finish(sheet, { type: 'taken-by-voter' });
        });
        return;
      default:
        assertNever(stage, 'stage');
    }
  }

  private storeImages(deck: DeckSheet): ImageDescriptor[] {
    const out: ImageDescriptor[] = [];
    const sides: ['front' | 'back', DeckSheet['front'] | undefined][] = [
      ['front', deck.front],
      ['back', deck.back],
    ];
    for (const [side, img] of sides) {
      if (!img) continue;
      const handle = this.nextHandle;
      this.nextHandle = this.nextHandle >= 0xfffffff0 ? 1 : this.nextHandle + 1;
      this.images.set(handle, img.bytes);
      out.push({ handle, side, format: img.format, length: img.bytes.length, crc32: crc32(img.bytes) });
    }
    return out;
  }

  private move(sheet: CurrentSheet, input: SheetInput): boolean {
    if (this.current !== sheet) return false;
    const r = sheet.lifecycle.apply(input);
    if (!r.ok) {
      this.log(`sim: ${r.error.message}`);
      return false;
    }
    return true;
  }

  private finish(sheet: CurrentSheet, input: SheetInput): void {
    const r = sheet.lifecycle.apply(input);
    if (!r.ok || r.value.stage !== 'done') {
      this.log(`sim: cannot finish ${sheet.sheetId}: ${r.ok ? r.value.stage : r.error.message}`);
      return;
    }
    const outcome = r.value.outcome;
    for (const h of sheet.images) this.images.delete(h.handle);
    switch (outcome.kind) {
      case 'box':
        for (const p of sheet.physical) p.location = 'box';
        break;
      case 'returned':
        for (const p of sheet.physical) p.location = 'returned';
        break;
      case 'flagged':
        break; // stays in the path until the poll worker clears it
      default:
        assertNever(outcome, 'outcome');
    }
    this.nvram.recent.push({ sheetId: sheet.sheetId, outcome });
    if (this.nvram.recent.length > 16) this.nvram.recent.shift();
    if (outcome.kind !== 'flagged') {
      this.current = undefined;
      this.nvram.currentSheetId = undefined;
    }
    this.wire.faults = { garbage: 0, corrupt: 0, drop: 0, bytesPerSecond: 0 };
    this.event({ kind: 'sheet-done', sheetId: sheet.sheetId, outcome });
    this.maybeInsert();
  }

  // ---- protocol --------------------------------------------------------------------------------------------

  private event(e: DeviceEvent): void {
    if (this.sessionNonce === undefined) return; // no host session: the host learns the state from STATUS
    void this.link.sendReliable(MsgType.event, encodeEvent(e));
  }

  private armWatchdog(): void {
    this.watchdogCancel?.();
    const timeout = this.opts.hostTimeoutMs ?? 0;
    if (timeout <= 0) return;
    // A real controller's watchdog runs on its own chip. The simulated one may share the host's event loop (the
    // demo), so it counts the ticks it was awake for: a stall of that loop is not the host falling silent.
    const every = timeout / 4;
    const silent = new AwakeTicks(this.clock, every, 4);
    let heardAt = this.lastHostFrameAt;
    const tick = (): void => {
      if (this.lastHostFrameAt !== heardAt) {
        heardAt = this.lastHostFrameAt;
        silent.reset();
      } else if (silent.tick()) {
        if (this.feedEnabled) this.log('sim: host silent, feeding stopped');
        this.feedEnabled = false;
        silent.reset();
      }
      this.watchdogCancel = this.clock.after(every, tick);
    };
    this.watchdogCancel = this.clock.after(every, tick);
  }

  private onFrame(frame: Frame): void {
    this.lastHostFrameAt = this.clock.now();
    switch (frame.type) {
      case MsgType.hello: {
        const h = decodeHello(frame.payload);
        if (!h.ok) return this.log(`sim: bad hello: ${h.error}`);
        const version = h.value.minVersion <= PROTOCOL_VERSION && PROTOCOL_VERSION <= h.value.maxVersion ? PROTOCOL_VERSION : 0;
        if (this.sessionNonce !== h.value.nonce) {
          this.link.reset();
          this.sessionNonce = version === 0 ? undefined : h.value.nonce;
        }
        this.link.sendUnreliable(
          MsgType.helloReply,
          encodeHelloReply({
            nonce: h.value.nonce,
            version,
            bootId: this.bootId,
            model: this.opts.model ?? 'TP-SIM-1',
            serial: this.opts.serial ?? 'SIM0001',
            firmware: this.opts.firmware ?? '1.0.0-sim',
            capabilities: Capability.hold | Capability.divert | Capability.doubleSheetSensor | Capability.calibrate | Capability.duplex,
          }),
        );
        return;
      }
      case MsgType.heartbeat:
        this.link.sendUnreliable(MsgType.heartbeat, encodeHeartbeat({ uptimeMs: this.clock.now() - this.bootedAt, bootId: this.bootId }));
        return;
      case MsgType.command: {
        const c = decodeCommand(frame.payload);
        if (!c.ok) return this.log(`sim: bad command: ${c.error}`);
        if ('unknownOp' in c.value) return this.respond(c.value.commandId, 'unknown-command');
        const [code, body] = this.execute(c.value.command);
        this.respond(c.value.commandId, code, body);
        return;
      }
      case MsgType.chunkRequest: {
        const q = decodeChunkRequest(frame.payload);
        if (!q.ok) return this.log(`sim: bad chunk request: ${q.error}`);
        this.serveChunk(q.value.handle, q.value.offset, q.value.length);
        return;
      }
      default:
        this.log(`sim: unexpected frame type 0x${frame.type.toString(16)}`);
    }
  }

  private serveChunk(handle: number, offset: number, length: number): void {
    const sheet = this.current;
    if (sheet && sheet.images.some((d) => d.handle === handle)) {
      sheet.chunkRequests += 1;
      const f = sheet.fault;
      // Break the link on the second chunk request, so the image is half across when it happens.
      if (f && (f.kind === 'disconnect' || f.kind === 'power-cycle') && f.at === 'image' && sheet.chunkRequests === 2) {
        this.breakLink(f.kind, 'image', sheet);
        if (f.kind === 'power-cycle') return;
      }
    }
    const bytes = this.images.get(handle);
    if (!bytes) {
      this.link.sendUnreliable(MsgType.chunkError, encodeChunkError({ handle, offset, code: 'unknown-image' }));
      return;
    }
    if (offset > bytes.length || length === 0) {
      this.link.sendUnreliable(MsgType.chunkError, encodeChunkError({ handle, offset, code: 'bad-range' }));
      return;
    }
    const data = bytes.subarray(offset, Math.min(bytes.length, offset + Math.min(length, 8192)));
    this.link.sendUnreliable(MsgType.chunk, encodeChunk({ handle, offset, total: bytes.length, data }));
  }

  private respond(commandId: number, code: ResponseCode, body: ResponseBody = { kind: 'none' }): void {
    void this.link.sendReliable(MsgType.response, encodeResponse({ commandId, code, body }));
  }

  private execute(c: DeviceCommand): [ResponseCode, ResponseBody?] {
    switch (c.op) {
      case 'enable-feed':
        if (this.coverOpen) return ['cover-open'];
        if (this.jammed) return ['jammed'];
        this.feedEnabled = true;
        this.maybeInsert();
        return ['ok'];
      case 'disable-feed':
        this.feedEnabled = false;
        return ['ok'];
      case 'scan':
        if (this.coverOpen) return ['cover-open'];
        if (this.jammed) return ['jammed'];
        if (this.current) return ['busy'];
        this.maybeInsert(true);
        return ['ok'];
      case 'accept':
      case 'return':
        return [this.divert(c.op, c.sheetId)];
      case 'status':
        return ['ok', { kind: 'status', status: this.statusReport() }];
      case 'calibrate':
        if (this.current) return ['busy'];
        if (this.coverOpen) return ['cover-open'];
        return ['ok', { kind: 'calibration', calibration: { ok: true, sensors: [12, 14, 11, 13, 12] } }];
      default:
        return assertNever(c, 'command');
    }
  }

  private divert(op: 'accept' | 'return', sheetId: string): ResponseCode {
    const sheet = this.current;
    const wanted = op === 'accept' ? 'accepting' : 'returning';
    if (sheet?.sheetId === sheetId && sheet.lifecycle.state.stage === wanted) return 'ok'; // repeated after a reconnect
    const done = this.nvram.recent.find((r) => r.sheetId === sheetId);
    if (done) return (op === 'accept' && done.outcome.kind === 'box') || (op === 'return' && done.outcome.kind === 'returned') ? 'ok' : 'bad-state';
    if (!sheet || sheet.sheetId !== sheetId) return 'no-such-sheet';
    if (sheet.lifecycle.state.stage !== 'held') return 'bad-state';
    if (this.coverOpen) return 'cover-open';
    if (this.jammed) return 'jammed';
    if (op === 'accept' && this.boxFull) return 'box-full';
    if (!this.move(sheet, op === 'accept' ? { type: 'accept' } : { type: 'return', reason: 'station' })) return 'bad-state';
    this.stageReached(sheet, wanted);
    return 'ok';
  }

  private statusReport(): StatusReport {
    const base = {
      bootId: this.bootId,
      path: this.pathState(),
      feedEnabled: this.feedEnabled,
      coverOpen: this.coverOpen,
      boxFull: this.boxFull,
      sensors: this.sensors(),
      sheetsFed: this.sheetsFed,
      recent: this.nvram.recent.slice(-8),
    };
    const sheet = this.current;
    const stage = sheet?.lifecycle.state.stage;
    if (!sheet || stage === undefined || stage === 'done') return base;
    return { ...base, current: { sheetId: sheet.sheetId, stage, images: sheet.images } };
  }
}
