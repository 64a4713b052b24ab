/**
 * The messages carried in frames, and their binary payloads (all integers little-endian). PROTOCOL.md is the
 * reference; the tables here and there must agree (test/bridge/protocol-messages.test.ts checks the examples).
 */
import { assertNever, type Result } from '../../lib/result';
import type { FlagReason, ReturnReason, SheetOutcome, SheetStage } from '../lifecycle';
import { BinaryWriter, parsePayload, type BinaryReader } from './binary';

export const PROTOCOL_VERSION = 1;

export const MsgType = {
  hello: 0x01,
  helloReply: 0x02,
  ack: 0x03,
  heartbeat: 0x04,
  command: 0x10,
  response: 0x11,
  event: 0x20,
  chunkRequest: 0x30,
  chunk: 0x31,
  chunkError: 0x32,
} as const;
export type MsgTypeCode = (typeof MsgType)[keyof typeof MsgType];

export interface Hello {
  readonly nonce: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

export interface HelloReply {
  readonly nonce: number;
  /** 0 when the device speaks none of the host's versions. */
  readonly version: number;
  readonly bootId: number;
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  readonly capabilities: number;
}

export const Capability = { duplex: 0x01, hold: 0x02, divert: 0x04, doubleSheetSensor: 0x08, calibrate: 0x10 } as const;

export type ImageFormatCode = 'png' | 'tiff';

export interface ImageDescriptor {
  readonly handle: number;
  readonly side: 'front' | 'back';
  readonly format: ImageFormatCode;
  readonly length: number;
  readonly crc32: number;
}

export type DeviceCommand =
  | { readonly op: 'enable-feed' }
  | { readonly op: 'disable-feed' }
  | { readonly op: 'scan' }
  | { readonly op: 'accept'; readonly sheetId: string }
  | { readonly op: 'return'; readonly sheetId: string }
  | { readonly op: 'status' }
  | { readonly op: 'calibrate' };

const OP_CODES = { 'enable-feed': 1, 'disable-feed': 2, scan: 3, accept: 4, return: 5, status: 6, calibrate: 7 } as const;

export type ResponseCode = 'ok' | 'unknown-command' | 'no-such-sheet' | 'box-full' | 'cover-open' | 'jammed' | 'busy' | 'bad-state';
const RESPONSE_CODES: readonly ResponseCode[] = ['ok', 'unknown-command', 'no-such-sheet', 'box-full', 'cover-open', 'jammed', 'busy', 'bad-state'];

export type PathState = 'idle' | SheetStage | 'jammed';
const PATH_STATES: readonly PathState[] = ['idle', 'feeding', 'scanning', 'held', 'accepting', 'returning', 'jammed'];
const STAGES: readonly SheetStage[] = ['feeding', 'scanning', 'held', 'accepting', 'returning'];

export interface StatusReport {
  readonly bootId: number;
  readonly path: PathState;
  readonly feedEnabled: boolean;
  readonly coverOpen: boolean;
  readonly boxFull: boolean;
  /** Bit per paper sensor: 0 entry, 1 scan head, 2 hold, 3 box chute, 4 exit. */
  readonly sensors: number;
  readonly sheetsFed: number;
  readonly current?: { readonly sheetId: string; readonly stage: SheetStage; readonly images: readonly ImageDescriptor[] };
  /** The last sheets to finish, newest last, so a host that missed sheet-done while away can learn it. */
  readonly recent: readonly { readonly sheetId: string; readonly outcome: SheetOutcome }[];
}

export interface CalibrationBody {
  readonly sensors: readonly number[];
  readonly ok: boolean;
}

export type ResponseBody = { readonly kind: 'none' } | { readonly kind: 'status'; readonly status: StatusReport } | { readonly kind: 'calibration'; readonly calibration: CalibrationBody };

export interface Response {
  readonly commandId: number;
  readonly code: ResponseCode;
  readonly body: ResponseBody;
}

export type DeviceEvent =
  | { readonly kind: 'sheet-inserted'; readonly sheetId: string }
  | { readonly kind: 'sheet-held'; readonly sheetId: string; readonly images: readonly ImageDescriptor[] }
  | { readonly kind: 'sheet-done'; readonly sheetId: string; readonly outcome: SheetOutcome }
  | { readonly kind: 'jam'; readonly sheetId: string; readonly stage: SheetStage | 'idle' }
  | { readonly kind: 'jam-cleared' }
  | { readonly kind: 'double-sheet'; readonly sheetId: string }
  | { readonly kind: 'cover-open' }
  | { readonly kind: 'cover-closed' }
  | { readonly kind: 'box-full' }
  | { readonly kind: 'box-emptied' }
  | { readonly kind: 'hardware-error'; readonly code: number; readonly message: string };

const EVENT_CODES = {
  'sheet-inserted': 1,
  'sheet-held': 2,
  'sheet-done': 3,
  jam: 4,
  'jam-cleared': 5,
  'double-sheet': 6,
  'cover-open': 7,
  'cover-closed': 8,
  'box-full': 9,
  'box-emptied': 10,
  'hardware-error': 11,
} as const;

export interface ChunkRequest {
  readonly handle: number;
  readonly offset: number;
  readonly length: number;
}

export interface Chunk {
  readonly handle: number;
  readonly offset: number;
  readonly total: number;
  readonly data: Uint8Array;
}

export interface ChunkError {
  readonly handle: number;
  readonly offset: number;
  readonly code: 'unknown-image' | 'bad-range';
}

// ---- small enum helpers -------------------------------------------------------------------------------------

function indexOf<T>(table: readonly T[], v: T): number {
  const i = table.indexOf(v);
  if (i < 0) throw new RangeError(`value not in table: ${String(v)}`);
  return i;
}

function at<T>(table: readonly T[], i: number, what: string): T {
  const v = table[i];
  if (v === undefined) throw new RangeError(`unknown ${what} code ${i}`);
  return v;
}

function keyOf<K extends string>(table: Readonly<Record<K, number>>, code: number, what: string): K {
  for (const k of Object.keys(table) as K[]) if (table[k] === code) return k;
  throw new RangeError(`unknown ${what} code ${code}`);
}

const RETURN_REASONS: readonly ReturnReason[] = ['station', 'double-sheet', 'scan-lost'];
const FLAG_REASONS: readonly FlagReason[] = ['jam', 'cover-open', 'power-loss', 'lost-track'];

/** Outcome on the wire: kind u8 (1 box, 2 returned, 3 flagged), reason u8, stage u8. */
function writeOutcome(w: BinaryWriter, o: SheetOutcome): void {
  switch (o.kind) {
    case 'box':
      w.u8(1).u8(0).u8(0);
      return;
    case 'returned':
      w.u8(2).u8(indexOf(RETURN_REASONS, o.reason)).u8(0);
      return;
    case 'flagged':
      w.u8(3).u8(indexOf(FLAG_REASONS, o.reason)).u8(indexOf(STAGES, o.stage));
      return;
    default:
      assertNever(o, 'outcome');
  }
}

function readOutcome(r: BinaryReader): SheetOutcome {
  const kind = r.u8();
  const reason = r.u8();
  const stage = r.u8();
  switch (kind) {
    case 1:
      return { kind: 'box' };
    case 2:
      return { kind: 'returned', reason: at(RETURN_REASONS, reason, 'return reason') };
    case 3:
      return { kind: 'flagged', reason: at(FLAG_REASONS, reason, 'flag reason'), stage: at(STAGES, stage, 'stage') };
    default:
      throw new RangeError(`unknown outcome code ${kind}`);
  }
}

function writeImage(w: BinaryWriter, d: ImageDescriptor): void {
  w.u32(d.handle)
    .u8(d.side === 'front' ? 0 : 1)
    .u8(d.format === 'png' ? 1 : 2)
    .u32(d.length)
    .u32(d.crc32);
}

function readImage(r: BinaryReader): ImageDescriptor {
  const handle = r.u32();
  const side = r.u8();
  const format = r.u8();
  const length = r.u32();
  const crc32 = r.u32();
  if (side > 1) throw new RangeError(`unknown side code ${side}`);
  if (format !== 1 && format !== 2) throw new RangeError(`unknown image format code ${format}`);
  return { handle, side: side === 0 ? 'front' : 'back', format: format === 1 ? 'png' : 'tiff', length, crc32 };
}

function writeImages(w: BinaryWriter, images: readonly ImageDescriptor[]): void {
  w.u8(images.length);
  for (const d of images) writeImage(w, d);
}

function readImages(r: BinaryReader): ImageDescriptor[] {
  const n = r.u8();
  if (n > 2) throw new RangeError(`a sheet has at most 2 images, got ${n}`);
  const out: ImageDescriptor[] = [];
  for (let i = 0; i < n; i += 1) out.push(readImage(r));
  return out;
}

// ---- encoders -----------------------------------------------------------------------------------------------

export function encodeHello(m: Hello): Uint8Array {
  return new BinaryWriter().u32(m.nonce).u8(m.minVersion).u8(m.maxVersion).bytes();
}

export function decodeHello(p: Uint8Array): Result<Hello, string> {
  return parsePayload(p, (r) => ({ nonce: r.u32(), minVersion: r.u8(), maxVersion: r.u8() }));
}

export function encodeHelloReply(m: HelloReply): Uint8Array {
  return new BinaryWriter().u32(m.nonce).u8(m.version).u32(m.bootId).u8(m.capabilities).str(m.model).str(m.serial).str(m.firmware).bytes();
}

export function decodeHelloReply(p: Uint8Array): Result<HelloReply, string> {
  return parsePayload(p, (r) => {
    const nonce = r.u32();
    const version = r.u8();
    const bootId = r.u32();
    const capabilities = r.u8();
    return { nonce, version, bootId, capabilities, model: r.str(), serial: r.str(), firmware: r.str() };
  });
}

/** Heartbeat: uptime u32 and boot ID u32 (0 from the host), so a host notices a device that rebooted silently. */
export interface Heartbeat {
  readonly uptimeMs: number;
  readonly bootId: number;
}

export function encodeHeartbeat(m: Heartbeat): Uint8Array {
  return new BinaryWriter().u32(m.uptimeMs >>> 0).u32(m.bootId).bytes();
}

export function decodeHeartbeat(p: Uint8Array): Result<Heartbeat, string> {
  return parsePayload(p, (r) => ({ uptimeMs: r.u32(), bootId: r.u32() }));
}

export function encodeCommand(commandId: number, c: DeviceCommand): Uint8Array {
  const w = new BinaryWriter().u16(commandId).u8(OP_CODES[c.op]);
  switch (c.op) {
    case 'accept':
    case 'return':
      w.str(c.sheetId);
      break;
    case 'enable-feed':
    case 'disable-feed':
    case 'scan':
    case 'status':
    case 'calibrate':
      break;
    default:
      assertNever(c, 'command');
  }
  return w.bytes();
}

export function decodeCommand(p: Uint8Array): Result<{ commandId: number; command: DeviceCommand } | { commandId: number; unknownOp: number }, string> {
  return parsePayload(p, (r) => {
    const commandId = r.u16();
    const code = r.u8();
    let op: DeviceCommand['op'];
    try {
      op = keyOf(OP_CODES, code, 'command');
    } catch {
      r.rest();
      return { commandId, unknownOp: code };
    }
    switch (op) {
      case 'accept':
      case 'return':
        return { commandId, command: { op, sheetId: r.str() } };
      case 'enable-feed':
      case 'disable-feed':
      case 'scan':
      case 'status':
      case 'calibrate':
        return { commandId, command: { op } };
      default:
        return assertNever(op, 'command');
    }
  });
}

function writeStatus(w: BinaryWriter, s: StatusReport): void {
  let flags = 0;
  if (s.feedEnabled) flags |= 1;
  if (s.coverOpen) flags |= 2;
  if (s.boxFull) flags |= 4;
  w.u32(s.bootId).u8(indexOf(PATH_STATES, s.path)).u8(flags).u8(s.sensors).u32(s.sheetsFed);
  if (s.current) {
    w.u8(1).str(s.current.sheetId).u8(indexOf(STAGES, s.current.stage));
    writeImages(w, s.current.images);
  } else {
    w.u8(0);
  }
  w.u8(s.recent.length);
  for (const x of s.recent) {
    w.str(x.sheetId);
    writeOutcome(w, x.outcome);
  }
}

function readStatus(r: BinaryReader): StatusReport {
  const bootId = r.u32();
  const path = at(PATH_STATES, r.u8(), 'path state');
  const flags = r.u8();
  const sensors = r.u8();
  const sheetsFed = r.u32();
  const hasCurrent = r.u8();
  let current: StatusReport['current'];
  if (hasCurrent === 1) {
    const sheetId = r.str();
    const stage = at(STAGES, r.u8(), 'stage');
    current = { sheetId, stage, images: readImages(r) };
  } else if (hasCurrent !== 0) {
    throw new RangeError(`bad current-sheet flag ${hasCurrent}`);
  }
  const n = r.u8();
  const recent: { sheetId: string; outcome: SheetOutcome }[] = [];
  for (let i = 0; i < n; i += 1) recent.push({ sheetId: r.str(), outcome: readOutcome(r) });
  const base = { bootId, path, feedEnabled: (flags & 1) !== 0, coverOpen: (flags & 2) !== 0, boxFull: (flags & 4) !== 0, sensors, sheetsFed, recent };
  return current ? { ...base, current } : base;
}

export function encodeResponse(m: Response): Uint8Array {
  const w = new BinaryWriter().u16(m.commandId).u8(indexOf(RESPONSE_CODES, m.code));
  switch (m.body.kind) {
    case 'none':
      w.u8(0);
      break;
    case 'status':
      w.u8(1);
      writeStatus(w, m.body.status);
      break;
    case 'calibration':
      w.u8(2).u8(m.body.calibration.ok ? 1 : 0).u8(m.body.calibration.sensors.length);
      for (const v of m.body.calibration.sensors) w.u8(v);
      break;
    default:
      assertNever(m.body, 'response body');
  }
  return w.bytes();
}

export function decodeResponse(p: Uint8Array): Result<Response, string> {
  return parsePayload(p, (r) => {
    const commandId = r.u16();
    const code = at(RESPONSE_CODES, r.u8(), 'response');
    const bodyKind = r.u8();
    let body: ResponseBody;
    if (bodyKind === 0) body = { kind: 'none' };
    else if (bodyKind === 1) body = { kind: 'status', status: readStatus(r) };
    else if (bodyKind === 2) {
      const okFlag = r.u8() === 1;
      const n = r.u8();
      const sensors: number[] = [];
      for (let i = 0; i < n; i += 1) sensors.push(r.u8());
      body = { kind: 'calibration', calibration: { ok: okFlag, sensors } };
    } else throw new RangeError(`unknown response body ${bodyKind}`);
    return { commandId, code, body };
  });
}

export function encodeEvent(e: DeviceEvent): Uint8Array {
  const w = new BinaryWriter().u8(EVENT_CODES[e.kind]);
  switch (e.kind) {
    case 'sheet-inserted':
    case 'double-sheet':
      w.str(e.sheetId);
      break;
    case 'sheet-held':
      w.str(e.sheetId);
      writeImages(w, e.images);
      break;
    case 'sheet-done':
      w.str(e.sheetId);
      writeOutcome(w, e.outcome);
      break;
    case 'jam':
      w.str(e.sheetId).u8(e.stage === 'idle' ? 0xff : indexOf(STAGES, e.stage));
      break;
    case 'hardware-error':
      w.u16(e.code).str(e.message);
      break;
    case 'jam-cleared':
    case 'cover-open':
    case 'cover-closed':
    case 'box-full':
    case 'box-emptied':
      break;
    default:
      assertNever(e, 'event');
  }
  return w.bytes();
}

export function decodeEvent(p: Uint8Array): Result<DeviceEvent, string> {
  return parsePayload(p, (r): DeviceEvent => {
    const kind = keyOf(EVENT_CODES, r.u8(), 'event');
    switch (kind) {
      case 'sheet-inserted':
      case 'double-sheet':
        return { kind, sheetId: r.str() };
      case 'sheet-held':
        return { kind, sheetId: r.str(), images: readImages(r) };
      case 'sheet-done':
        return { kind, sheetId: r.str(), outcome: readOutcome(r) };
      case 'jam': {
        const sheetId = r.str();
        const s = r.u8();
        return { kind, sheetId, stage: s === 0xff ? 'idle' : at(STAGES, s, 'stage') };
      }
      case 'hardware-error':
        return { kind, code: r.u16(), message: r.str() };
      case 'jam-cleared':
      case 'cover-open':
      case 'cover-closed':
      case 'box-full':
      case 'box-emptied':
        return { kind };
      default:
        return assertNever(kind, 'event');
    }
  });
}

export function encodeChunkRequest(m: ChunkRequest): Uint8Array {
  return new BinaryWriter().u32(m.handle).u32(m.offset).u16(m.length).bytes();
}

export function decodeChunkRequest(p: Uint8Array): Result<ChunkRequest, string> {
  return parsePayload(p, (r) => ({ handle: r.u32(), offset: r.u32(), length: r.u16() }));
}

export function encodeChunk(m: Chunk): Uint8Array {
  return new BinaryWriter().u32(m.handle).u32(m.offset).u32(m.total).raw(m.data).bytes();
}

export function decodeChunk(p: Uint8Array): Result<Chunk, string> {
  return parsePayload(p, (r) => ({ handle: r.u32(), offset: r.u32(), total: r.u32(), data: r.rest().slice() }));
}

export function encodeChunkError(m: ChunkError): Uint8Array {
  return new BinaryWriter().u32(m.handle).u32(m.offset).u8(m.code === 'unknown-image' ? 1 : 2).bytes();
}

export function decodeChunkError(p: Uint8Array): Result<ChunkError, string> {
  return parsePayload(p, (r) => {
    const handle = r.u32();
    const offset = r.u32();
    const code = r.u8();
    if (code !== 1 && code !== 2) throw new RangeError(`unknown chunk error code ${code}`);
    return { handle, offset, code: code === 1 ? ('unknown-image' as const) : ('bad-range' as const) };
  });
}

export function isKnownType(t: number): t is MsgTypeCode {
  return (Object.values(MsgType) as number[]).includes(t);
}


