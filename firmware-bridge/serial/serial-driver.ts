/**
 * The ScannerDriver for a scanner controller on a serial port (see PROTOCOL.md). It keeps the link alive with
 * heartbeats, reconnects when the device disappears and comes back, and after every (re)connection asks the
 * device where the paper is instead of guessing, so each sheet reaches sheet-done exactly once.
 */
import { randomInt } from 'node:crypto';
import { assertNever, err, ok, type Result } from '../../lib/result';
import { AwakeTicks, afterAwake, systemClock, type Clock } from '../clock';
import {
  EventHub,
  type CalibrationReport,
  type DeviceInfo,
  type DriverError,
  type RefusalReason,
  type ScannedImage,
  type ScannerCapabilities,
  type ScannerDriver,
  type ScannerEvent,
  type ScannerStatus,
  type Unsubscribe,
} from '../driver';
import type { ReturnReason, SheetInput, SheetOutcome, SheetStage } from '../lifecycle';
import type { Frame } from '../protocol/frame';
import { LinkEndpoint, type LinkStats } from '../protocol/link';
import {
  Capability,
  decodeChunk,
  decodeChunkError,
  decodeEvent,
  decodeHeartbeat,
  decodeHelloReply,
  decodeResponse,
  encodeChunkRequest,
  encodeCommand,
  encodeHeartbeat,
  encodeHello,
  MsgType,
  PROTOCOL_VERSION,
  type DeviceCommand,
  type DeviceEvent,
  type HelloReply,
  type ImageDescriptor,
  type Response,
  type ResponseCode,
  type StatusReport,
} from '../protocol/messages';
import { SheetTracker } from '../sheet-tracker';
import { ImageTransfer } from './image-transfer';
import { serialPortOpener, type PortHandle, type PortOpener } from './port';

export interface SerialDriverOptions {
  readonly path: string;
  readonly opener?: PortOpener;
  readonly clock?: Clock;
  readonly log?: (message: string) => void;
  readonly commandTimeoutMs?: number;
  readonly handshakeTries?: number;
  readonly handshakeRetryMs?: number;
  readonly heartbeatMs?: number;
  /** No frame from the device for this long means the link is dead. */
  readonly deadAfterMs?: number;
  readonly reconnectMs?: number;
  readonly retransmitMs?: number;
  readonly maxRetries?: number;
  readonly chunkSize?: number;
  readonly chunkWindow?: number;
  readonly chunkTimeoutMs?: number;
  readonly chunkRetries?: number;
  readonly maxImageBytes?: number;
  /** Protocol versions this host offers (default: exactly PROTOCOL_VERSION). */
  readonly versions?: { readonly min: number; readonly max: number };
  /** Bound on commands waiting for an answer. */
  readonly maxPendingCommands?: number;
}

type ConnState = 'closed' | 'connecting' | 'ready' | 'lost';

interface PendingCommand {
  readonly resolve: (r: Result<Response, DriverError>) => void;
  readonly cancel: () => void;
}

export interface SerialDriverStats {
  readonly link: LinkStats;
  readonly reconnects: number;
  readonly commandTimeouts: number;
  readonly imageBytes: number;
}

export class SerialScannerDriver implements ScannerDriver {
  readonly capabilities: ScannerCapabilities = { canHold: true, canDivert: true, duplex: true, detectsDoubleSheets: true, canCalibrate: true };
  private readonly hub: EventHub;
  private readonly clock: Clock;
  private readonly opener: PortOpener;
  private readonly log: (message: string) => void;
  private state: ConnState = 'closed';
  private port: PortHandle | undefined;
  private link: LinkEndpoint | undefined;
  private hello: HelloReply | undefined;
  private helloWaiter: { nonce: number; resolve: (h: HelloReply) => void } | undefined;
  private readonly pending = new Map<number, PendingCommand>();
  private nextCommandId = 1;
  private lastRxAt = 0;
  private heartbeatCancel: (() => void) | undefined;
  private reconnectCancel: (() => void) | undefined;
  private readonly tracker: SheetTracker;
  private readonly transfers = new Map<string, ImageTransfer>();
  private readonly scanned = new Set<string>();
  private readonly returnReasons = new Map<string, ReturnReason>();
  /** Sheets the device had finished before we first connected: not ours to report. */
  private readonly history = new Set<string>();
  private firstConnect = true;
  private feeding = false;
  private lastStatus: StatusReport | undefined;
  private reconnects = 0;
  private commandTimeouts = 0;
  private imageBytes = 0;
  private linkStatsCarry: LinkStats = addStats(undefined, undefined);

  constructor(private readonly opts: SerialDriverOptions) {
    this.clock = opts.clock ?? systemClock;
    this.opener = opts.opener ?? serialPortOpener();
    this.log = opts.log ?? (() => undefined);
    this.hub = new EventHub((e) => this.log(`listener threw: ${String(e)}`));
    this.tracker = new SheetTracker(
      (sheetId, outcome) => this.onSheetDone(sheetId, outcome),
      (m) => this.log(m),
    );
  }

  on(listener: (event: ScannerEvent) => void): Unsubscribe {
    return this.hub.on(listener);
  }

  get stats(): SerialDriverStats {
    const link = addStats(this.linkStatsCarry, this.link?.stats);
    return { link, reconnects: this.reconnects, commandTimeouts: this.commandTimeouts, imageBytes: this.imageBytes };
  }

  get connected(): boolean {
    return this.state === 'ready';
  }

  // ---- connection ------------------------------------------------------------------------------------------

  async connect(): Promise<Result<DeviceInfo, DriverError>> {
    if (this.state === 'ready' && this.hello) return ok(this.info(this.hello));
    this.state = 'connecting';
    const r = await this.establish();
    if (!r.ok) {
      this.state = 'closed';
      return r;
    }
    return ok(this.info(r.value));
  }

  private info(h: HelloReply): DeviceInfo {
    return { driver: 'serial', model: h.model, serial: h.serial, firmware: h.firmware, protocolVersion: h.version };
  }

  private async establish(): Promise<Result<HelloReply, DriverError>> {
    const opened = await this.opener.open(this.opts.path, {
      onData: (b) => this.link?.receive(b),
      onClose: (reason) => this.lose(reason),
    });
    if (!opened.ok) return err({ kind: 'io', detail: `cannot open ${this.opts.path}: ${opened.error}` });
    if (this.state === 'closed') {
      await opened.value.close();
      return err({ kind: 'disconnected' });
    }
    this.port = opened.value;
    const port = opened.value;
    if (this.link) this.linkStatsCarry = addStats(this.linkStatsCarry, this.link.stats);
    this.link = new LinkEndpoint({
      send: (b) => port.write(b),
      clock: this.clock,
      onFrame: (f) => this.onFrame(f),
      onDead: (reason) => this.lose(`link dead: ${reason}`),
      log: this.log,
      retransmitMs: this.opts.retransmitMs ?? 100,
      maxRetries: this.opts.maxRetries ?? 20,
      maxQueue: 64,
    });
    this.lastRxAt = this.clock.now();
    const hello = await this.handshake();
    if (!hello.ok) {
      await this.dropPort();
      return hello;
    }
    const previousBoot = this.hello?.bootId;
    this.hello = hello.value;
    this.state = 'ready';
    this.startHeartbeat();
    const status = await this.command({ op: 'status' });
    if (!status.ok) {
      this.lose('no status after handshake');
      return err(status.error);
    }
    if (status.value.body.kind === 'status') this.reconcile(status.value.body.status);
    if (!this.firstConnect) this.hub.emit({ type: 'reconnected', powerCycled: previousBoot !== undefined && previousBoot !== hello.value.bootId });
    this.firstConnect = false;
    if (this.feeding) {
      const f = await this.command({ op: 'enable-feed' });
      if (!f.ok) this.log(`could not re-enable feeding: ${JSON.stringify(f.error)}`);
    }
    return hello;
  }

  private async handshake(): Promise<Result<HelloReply, DriverError>> {
    const tries = this.opts.handshakeTries ?? 10;
    const retryMs = this.opts.handshakeRetryMs ?? 200;
    const versions = this.opts.versions ?? { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION };
    for (let i = 0; i < tries; i += 1) {
      if (!this.port || this.state === 'closed') return err({ kind: 'disconnected' });
      const nonce = randomInt(1, 0xffffffff);
      const reply = await new Promise<HelloReply | undefined>((resolve) => {
        // awake time, in short ticks: under sustained load a timer due during a stall fires before the
        // loop reads the reply already waiting, and every try would time out with its answer unread
        const cancel = afterAwake(
          this.clock,
          retryMs,
          () => {
            this.helloWaiter = undefined;
            resolve(undefined);
          },
          Math.max(1, retryMs / 4),
        );
        this.helloWaiter = {
          nonce,
          resolve: (h) => {
            cancel();
            this.helloWaiter = undefined;
            resolve(h);
          },
        };
        this.link?.sendUnreliable(MsgType.hello, encodeHello({ nonce, minVersion: versions.min, maxVersion: versions.max }));
      });
      if (!reply) continue;
      if (reply.version !== PROTOCOL_VERSION) return err({ kind: 'io', detail: `device speaks no protocol version in ${versions.min}..${versions.max}` });
      if ((reply.capabilities & Capability.hold) === 0) this.log('device reports it cannot hold sheets');
      this.link?.reset();
      return ok(reply);
    }
    return err({ kind: 'timeout', command: 'hello', ms: tries * retryMs });
  }

  private startHeartbeat(): void {
    this.heartbeatCancel?.();
    const every = this.opts.heartbeatMs ?? 500;
    const deadAfter = this.opts.deadAfterMs ?? every * 4;
    // Silence is counted in heartbeats this host was awake to send, not in wall time: after a stall of this
    // process (a tape's PDF, a loaded machine) the device's answers are still unread when the first timer fires.
    const missed = new AwakeTicks(this.clock, every, Math.max(1, Math.ceil(deadAfter / every)));
    let heardAt = this.lastRxAt;
    const tick = (): void => {
      if (this.state !== 'ready') return;
      if (this.lastRxAt !== heardAt) {
        heardAt = this.lastRxAt;
        missed.reset();
      } else if (missed.tick()) {
        this.lose(`no frame from the device for ${deadAfter} ms`);
        return;
      }
      this.link?.sendUnreliable(MsgType.heartbeat, encodeHeartbeat({ uptimeMs: 0, bootId: 0 }));
      this.heartbeatCancel = this.clock.after(every, tick);
    };
    this.heartbeatCancel = this.clock.after(every, tick);
  }

  private async dropPort(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.link?.close();
    if (port) await port.close();
  }

  /** The link is gone: fail what waits on it, keep every sheet's state, and try to come back. */
  private lose(reason: string): void {
    if (this.state === 'closed' || this.state === 'lost') return;
    const wasReady = this.state === 'ready';
    this.state = 'lost';
    this.log(`link lost: ${reason}`);
    this.heartbeatCancel?.();
    this.helloWaiter = undefined;
    for (const [id, p] of this.pending) {
      p.cancel();
      p.resolve(err({ kind: 'disconnected' }));
      this.pending.delete(id);
    }
    for (const t of this.transfers.values()) t.pause();
    void this.dropPort();
    if (wasReady) this.hub.emit({ type: 'disconnected', reason });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.reconnectCancel?.();
    this.reconnectCancel = this.clock.after(this.opts.reconnectMs ?? 250, () => {
      if (this.state !== 'lost') return;
      this.state = 'connecting';
      void this.establish().then((r) => {
        if (r.ok) {
          this.reconnects += 1;
          return;
        }
        if (this.state === 'closed') return;
        this.log(`reconnect failed: ${JSON.stringify(r.error)}`);
        if (this.state === 'connecting' || this.state === 'ready') {
          this.state = 'lost';
          this.heartbeatCancel?.();
          void this.dropPort();
        }
        this.scheduleReconnect();
      });
    });
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.heartbeatCancel?.();
    this.reconnectCancel?.();
    for (const [id, p] of this.pending) {
      p.cancel();
      p.resolve(err({ kind: 'disconnected' }));
      this.pending.delete(id);
    }
    for (const t of this.transfers.values()) t.pause();
    await this.dropPort();
  }

  // ---- commands --------------------------------------------------------------------------------------------

  private command(c: DeviceCommand): Promise<Result<Response, DriverError>> {
    const link = this.link;
    if (this.state !== 'ready' || !link) return Promise.resolve(err({ kind: 'disconnected' }));
    if (this.pending.size >= (this.opts.maxPendingCommands ?? 16)) return Promise.resolve(err({ kind: 'busy', detail: `${this.pending.size} commands already waiting` }));
    const id = this.nextCommandId;
    this.nextCommandId = id === 0xffff ? 1 : id + 1;
    const ms = this.opts.commandTimeoutMs ?? 3000;
    return new Promise((resolve) => {
      // awake time, so a stall of this process longer than the timeout does not fail a command whose answer
      // is already waiting to be read
      const cancel = afterAwake(this.clock, ms, () => {
        if (!this.pending.delete(id)) return;
        this.commandTimeouts += 1;
        resolve(err({ kind: 'timeout', command: c.op, ms }));
      });
      this.pending.set(id, { resolve, cancel });
      void link.sendReliable(MsgType.command, encodeCommand(id, c)).then((sent) => {
        if (sent.ok || !this.pending.has(id)) return;
        this.pending.delete(id);
        cancel();
        resolve(err(sent.error === 'queue-full' ? { kind: 'busy', detail: 'link queue full' } : { kind: 'disconnected' }));
      });
    });
  }

  private async simple(c: DeviceCommand): Promise<Result<Response, DriverError>> {
    const r = await this.command(c);
    if (!r.ok) return r;
    if (r.value.code !== 'ok') return err(refusal(c.op, r.value.code));
    return r;
  }

  async enableFeeding(): Promise<Result<void, DriverError>> {
    const r = await this.simple({ op: 'enable-feed' });
    if (!r.ok) return r;
    this.feeding = true;
    return ok(undefined);
  }

  async disableFeeding(): Promise<Result<void, DriverError>> {
    this.feeding = false;
    const r = await this.simple({ op: 'disable-feed' });
    return r.ok ? ok(undefined) : r;
  }

  async scan(): Promise<Result<void, DriverError>> {
    const r = await this.simple({ op: 'scan' });
    return r.ok ? ok(undefined) : r;
  }

  accept(sheetId: string): Promise<Result<void, DriverError>> {
    return this.divert(sheetId, 'accept', 'station');
  }

  returnSheet(sheetId: string): Promise<Result<void, DriverError>> {
    return this.divert(sheetId, 'return', 'station');
  }

  private async divert(sheetId: string, op: 'accept' | 'return', reason: ReturnReason): Promise<Result<void, DriverError>> {
    const stage = this.tracker.stageOf(sheetId);
    if (stage === undefined || stage === 'done') return err({ kind: 'unknown-sheet', sheetId });
    const wanted = op === 'accept' ? 'accepting' : 'returning';
    if (stage === wanted) return ok(undefined);
    if (stage !== 'held') return err({ kind: 'refused', command: op, reason: 'bad-state' });
    if (op === 'return') this.returnReasons.set(sheetId, reason);
    const r = await this.simple({ op, sheetId });
    if (!r.ok) return r;
    if (this.tracker.stageOf(sheetId) === 'held') this.tracker.apply(sheetId, op === 'accept' ? { type: 'accept' } : { type: 'return', reason });
    return ok(undefined);
  }

  async status(): Promise<Result<ScannerStatus, DriverError>> {
    const base = { feeding: this.feeding, openSheets: this.tracker.openSheets() };
    if (this.state !== 'ready') {
      const s = this.lastStatus;
      return ok({ ...base, connected: false, path: s?.path ?? 'idle', coverOpen: s?.coverOpen ?? false, boxFull: s?.boxFull ?? false, recent: s?.recent ?? [] });
    }
    const r = await this.simple({ op: 'status' });
    if (!r.ok) return r;
    if (r.value.body.kind !== 'status') return err({ kind: 'io', detail: 'status reply without a status body' });
    const s = r.value.body.status;
    this.lastStatus = s;
    return ok({ ...base, connected: true, path: s.path, coverOpen: s.coverOpen, boxFull: s.boxFull, recent: s.recent });
  }

  async calibrate(): Promise<Result<CalibrationReport, DriverError>> {
    const r = await this.simple({ op: 'calibrate' });
    if (!r.ok) return r;
    if (r.value.body.kind !== 'calibration') return err({ kind: 'io', detail: 'calibration reply without readings' });
    const names = ['entry', 'scan-head', 'hold', 'box-chute', 'exit'];
    const sensors: Record<string, number> = {};
    r.value.body.calibration.sensors.forEach((v, i) => (sensors[names[i] ?? `sensor-${i}`] = v));
    return ok({ sensors, ok: r.value.body.calibration.ok });
  }

  // ---- frames in ---------------------------------------------------------------------------------------------

  private onFrame(frame: Frame): void {
    this.lastRxAt = this.clock.now();
    switch (frame.type) {
      case MsgType.helloReply: {
        const h = decodeHelloReply(frame.payload);
        if (!h.ok) return this.log(`bad hello reply: ${h.error}`);
        if (this.helloWaiter && this.helloWaiter.nonce === h.value.nonce) this.helloWaiter.resolve(h.value);
        return;
      }
      case MsgType.heartbeat: {
        const hb = decodeHeartbeat(frame.payload);
        if (!hb.ok) return this.log(`bad heartbeat: ${hb.error}`);
        if (this.state === 'ready' && this.hello && hb.value.bootId !== this.hello.bootId) this.lose('device rebooted');
        return;
      }
      case MsgType.response: {
        const r = decodeResponse(frame.payload);
        if (!r.ok) return this.log(`bad response: ${r.error}`);
        const p = this.pending.get(r.value.commandId);
        if (!p) return this.log(`response to unknown command ${r.value.commandId}`);
        this.pending.delete(r.value.commandId);
        p.cancel();
        p.resolve(ok(r.value));
        return;
      }
      case MsgType.event: {
        const e = decodeEvent(frame.payload);
        if (!e.ok) return this.log(`bad event: ${e.error}`);
        this.onDeviceEvent(e.value);
        return;
      }
      case MsgType.chunk: {
        const c = decodeChunk(frame.payload);
        if (!c.ok) return this.log(`bad chunk: ${c.error}`);
        for (const t of this.transfers.values()) if (t.handles.includes(c.value.handle)) t.onChunk(c.value);
        return;
      }
      case MsgType.chunkError: {
        const c = decodeChunkError(frame.payload);
        if (!c.ok) return this.log(`bad chunk error: ${c.error}`);
        for (const t of this.transfers.values()) t.onChunkError(c.value);
        return;
      }
      default:
        this.log(`unexpected frame type 0x${frame.type.toString(16)} from the device`);
    }
  }

  private onDeviceEvent(e: DeviceEvent): void {
    switch (e.kind) {
      case 'sheet-inserted':
        if (this.tracker.begin(e.sheetId)) this.hub.emit({ type: 'sheet-inserted', sheetId: e.sheetId });
        return;
      case 'sheet-held':
        this.sheetHeld(e.sheetId, e.images);
        return;
      case 'sheet-done':
        this.settle(e.sheetId, e.outcome);
        return;
      case 'jam':
        this.hub.emit(e.sheetId ? { type: 'jam', sheetId: e.sheetId, stage: e.stage } : { type: 'jam', stage: e.stage });
        return;
      case 'jam-cleared':
        this.hub.emit({ type: 'jam-cleared' });
        this.resumeFeeding();
        return;
      case 'double-sheet':
        this.hub.emit({ type: 'double-sheet', sheetId: e.sheetId });
        return;
      case 'cover-open':
        this.hub.emit({ type: 'cover-open' });
        return;
      case 'cover-closed':
        this.hub.emit({ type: 'cover-closed' });
        this.resumeFeeding();
        return;
      case 'box-full':
        this.hub.emit({ type: 'ballot-box-full' });
        return;
      case 'box-emptied':
        this.hub.emit({ type: 'ballot-box-emptied' });
        return;
      case 'hardware-error':
        this.hub.emit({ type: 'hardware-error', code: String(e.code), message: e.message });
        return;
      default:
        assertNever(e, 'device event');
    }
  }

  /** A device that rebooted while jammed refused to feed; once the paper is cleared the station's wish stands. */
  private resumeFeeding(): void {
    if (!this.feeding || this.state !== 'ready') return;
    void this.command({ op: 'enable-feed' }).then((r) => {
      if (!r.ok || r.value.code !== 'ok') this.log(`feeding not resumed: ${r.ok ? r.value.code : r.error.kind}`);
    });
  }

  /** Brings the tracked sheet forward to a stage the device reports (events can be missed across a reconnect). */
  private catchUp(sheetId: string, stage: SheetStage): void {
    if (this.tracker.begin(sheetId, stage)) {
      this.hub.emit({ type: 'sheet-inserted', sheetId });
      return;
    }
    for (let step = 0; step < 4; step += 1) {
      const now = this.tracker.stageOf(sheetId);
      if (now === stage || now === undefined || now === 'done') return;
      let input: SheetInput;
      if (now === 'feeding') input = { type: 'scan-started' };
      else if (now === 'scanning') input = { type: 'scanned' };
      else if (now === 'held' && stage === 'accepting') input = { type: 'accept' };
      else if (now === 'held' && stage === 'returning') input = { type: 'return', reason: this.returnReasons.get(sheetId) ?? 'station' };
      else return;
      if (!this.tracker.apply(sheetId, input).ok) return;
    }
  }

  private sheetHeld(sheetId: string, images: readonly ImageDescriptor[]): void {
    if (this.tracker.isDone(sheetId)) return;
    this.catchUp(sheetId, 'held');
    if (this.scanned.has(sheetId)) return;
    const existing = this.transfers.get(sheetId);
    if (existing && existing.matches(images)) {
      existing.start((q) => this.requestChunk(q));
      return;
    }
    if (existing) existing.abort('unknown-image');
    if (images.length === 0) {
      // The device kept the paper but lost its pictures (a power cut): the voter must feed it again.
      void this.divert(sheetId, 'return', 'scan-lost').then((r) => {
        if (!r.ok) this.log(`could not return ${sheetId} after its images were lost: ${JSON.stringify(r.error)}`);
      });
      return;
    }
    const t = new ImageTransfer(images, {
      clock: this.clock,
      chunkSize: this.opts.chunkSize ?? 8192,
      window: this.opts.chunkWindow ?? 4,
      chunkTimeoutMs: this.opts.chunkTimeoutMs ?? 250,
      maxRetries: this.opts.chunkRetries ?? 400,
      maxImageBytes: this.opts.maxImageBytes ?? 32 * 1024 * 1024,
    });
    this.transfers.set(sheetId, t);
    void t.result.then((r) => {
      if (this.transfers.get(sheetId) !== t) return;
      this.transfers.delete(sheetId);
      if (!r.ok) {
        this.log(`images of ${sheetId} failed: ${r.error}`);
        if (this.state === 'ready' && this.tracker.stageOf(sheetId) === 'held') {
          void this.divert(sheetId, 'return', 'scan-lost');
        }
        return;
      }
      this.imageBytes += t.bytesReceived;
      if (this.tracker.stageOf(sheetId) !== 'held' || this.scanned.has(sheetId)) return;
      this.scanned.add(sheetId);
      const front = r.value.find((i) => i.side === 'front');
      const back = r.value.find((i) => i.side === 'back');
      if (!front) {
        void this.divert(sheetId, 'return', 'scan-lost');
        return;
      }
      const event: { type: 'sheet-scanned'; sheetId: string; front: ScannedImage; back?: ScannedImage } = { type: 'sheet-scanned', sheetId, front };
      if (back) event.back = back;
      this.hub.emit(event);
    });
    if (this.state === 'ready') t.start((q) => this.requestChunk(q));
  }

  private requestChunk(q: { handle: number; offset: number; length: number }): void {
    if (this.state !== 'ready') return;
    this.link?.sendUnreliable(MsgType.chunkRequest, encodeChunkRequest(q));
  }

  private settle(sheetId: string, outcome: SheetOutcome): void {
    if (this.tracker.isDone(sheetId)) return;
    // A sheet that came and went while we were away is still announced before its outcome.
    if (!this.tracker.has(sheetId)) this.hub.emit({ type: 'sheet-inserted', sheetId });
    let final = outcome;
    const hostReason = this.returnReasons.get(sheetId);
    if (outcome.kind === 'returned' && outcome.reason === 'station' && hostReason) final = { kind: 'returned', reason: hostReason };
    this.tracker.settle(sheetId, final);
  }

  private onSheetDone(sheetId: string, outcome: SheetOutcome): void {
    this.transfers.get(sheetId)?.pause();
    this.transfers.delete(sheetId);
    this.scanned.delete(sheetId);
    this.returnReasons.delete(sheetId);
    this.hub.emit({ type: 'sheet-done', sheetId, outcome });
  }

  /** After a (re)connect: the device's word on where the paper is replaces whatever we believed. */
  private reconcile(s: StatusReport): void {
    this.lastStatus = s;
    if (this.firstConnect) {
      for (const r of s.recent) this.history.add(r.sheetId);
    } else {
      for (const r of s.recent) {
        if (this.history.has(r.sheetId)) continue;
        this.settle(r.sheetId, r.outcome);
      }
    }
    const cur = s.current;
    // Jam reports sent while we were away are lost with the old session; the paper is still stuck.
    if (s.path === 'jammed') this.hub.emit(cur ? { type: 'jam', sheetId: cur.sheetId, stage: cur.stage } : { type: 'jam', stage: 'idle' });
    if (s.coverOpen) this.hub.emit({ type: 'cover-open' });
    if (s.boxFull) this.hub.emit({ type: 'ballot-box-full' });
    if (cur && !this.tracker.isDone(cur.sheetId)) {
      this.catchUp(cur.sheetId, cur.stage);
      if (cur.stage === 'held') this.sheetHeld(cur.sheetId, cur.images);
    }
    for (const open of this.tracker.openSheets()) {
      if (open.sheetId === cur?.sheetId) continue;
      // The device neither holds it nor remembers finishing it: only the poll worker can say where it is.
      this.tracker.settle(open.sheetId, { kind: 'flagged', reason: 'lost-track', stage: open.stage });
    }
  }
}

function refusal(command: string, code: ResponseCode): DriverError {
  const reason: RefusalReason = (() => {
    switch (code) {
      case 'box-full':
      case 'cover-open':
      case 'jammed':
      case 'no-such-sheet':
      case 'bad-state':
        return code;
      case 'unknown-command':
        return 'unsupported';
      case 'busy':
      case 'ok':
        return 'bad-state';
      default:
        return assertNever(code, 'response code');
    }
  })();
  if (code === 'busy') return { kind: 'busy', detail: `device busy during ${command}` };
  return { kind: 'refused', command, reason };
}

function addStats(a: LinkStats | undefined, b: LinkStats | undefined): LinkStats {
  const zero: LinkStats = { frames: 0, malformed: 0, cobsErrors: 0, crcErrors: 0, shortFrames: 0, oversizeFrames: 0, bytesDiscarded: 0, framesSent: 0, retransmits: 0, duplicates: 0, unknownTypes: 0 };
  const out = { ...zero };
  for (const k of Object.keys(zero) as (keyof LinkStats)[]) out[k] = (a?.[k] ?? 0) + (b?.[k] ?? 0);
  return out;
}
