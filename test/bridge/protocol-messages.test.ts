import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFrame, encodeFrame, FLAG_RELIABLE } from '../../firmware-bridge/protocol/frame';
import {
  decodeChunk,
  decodeChunkRequest,
  decodeCommand,
  decodeEvent,
  decodeHello,
  decodeHelloReply,
  decodeResponse,
  encodeChunk,
  encodeChunkRequest,
  encodeCommand,
  encodeEvent,
  encodeHello,
  encodeHelloReply,
  encodeResponse,
  MsgType,
  type DeviceEvent,
  type StatusReport,
} from '../../firmware-bridge/protocol/messages';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').replace(/(..)(?!$)/g, '$1 ');

describe('protocol messages', () => {
  it('round-trip every event kind', () => {
    const images = [
      { handle: 7, side: 'front' as const, format: 'png' as const, length: 1234, crc32: 0xdeadbeef },
      { handle: 8, side: 'back' as const, format: 'tiff' as const, length: 99, crc32: 1 },
    ];
    const events: DeviceEvent[] = [
      { kind: 'sheet-inserted', sheetId: 'S-1' },
      { kind: 'sheet-held', sheetId: 'S-1', images },
      { kind: 'sheet-done', sheetId: 'S-1', outcome: { kind: 'box' } },
      { kind: 'sheet-done', sheetId: 'S-2', outcome: { kind: 'returned', reason: 'double-sheet' } },
      { kind: 'sheet-done', sheetId: 'S-3', outcome: { kind: 'flagged', reason: 'power-loss', stage: 'accepting' } },
      { kind: 'jam', sheetId: 'S-4', stage: 'scanning' },
      { kind: 'jam', sheetId: '', stage: 'idle' },
      { kind: 'jam-cleared' },
      { kind: 'double-sheet', sheetId: 'S-5' },
      { kind: 'cover-open' },
      { kind: 'cover-closed' },
      { kind: 'box-full' },
      { kind: 'box-emptied' },
      { kind: 'hardware-error', code: 513, message: 'lamp failure' },
    ];
    for (const e of events) expect(decodeEvent(encodeEvent(e))).toEqual({ ok: true, value: e });
  });

  it('round-trip commands, status responses, hello and chunks', () => {
    for (const c of [{ op: 'accept', sheetId: 'X' }, { op: 'return', sheetId: 'Y' }, { op: 'status' }, { op: 'enable-feed' }, { op: 'calibrate' }] as const) {
      expect(decodeCommand(encodeCommand(42, c))).toEqual({ ok: true, value: { commandId: 42, command: c } });
    }
    const status: StatusReport = {
      bootId: 99,
      path: 'held',
      feedEnabled: true,
      coverOpen: false,
      boxFull: true,
      sensors: 4,
      sheetsFed: 12,
      current: { sheetId: 'S-12', stage: 'held', images: [] },
      recent: [{ sheetId: 'S-11', outcome: { kind: 'returned', reason: 'station' } }],
    };
    expect(decodeResponse(encodeResponse({ commandId: 3, code: 'ok', body: { kind: 'status', status } }))).toEqual({ ok: true, value: { commandId: 3, code: 'ok', body: { kind: 'status', status } } });
    const hello = { nonce: 123456, minVersion: 1, maxVersion: 1 };
    expect(decodeHello(encodeHello(hello))).toEqual({ ok: true, value: hello });
    const reply = { nonce: 1, version: 1, bootId: 77, capabilities: 0x1f, model: 'TP', serial: 'SIM', firmware: '1.0' };
    expect(decodeHelloReply(encodeHelloReply(reply))).toEqual({ ok: true, value: reply });
    expect(decodeChunkRequest(encodeChunkRequest({ handle: 1, offset: 8192, length: 8192 }))).toEqual({ ok: true, value: { handle: 1, offset: 8192, length: 8192 } });
    const chunk = decodeChunk(encodeChunk({ handle: 1, offset: 0, total: 3, data: Uint8Array.of(1, 2, 3) }));
    expect(chunk.ok && [...chunk.value.data]).toEqual([1, 2, 3]);
  });

  it('turn truncated, overlong and unknown payloads into errors, not exceptions', () => {
    const e = encodeEvent({ kind: 'sheet-inserted', sheetId: 'S-1' });
    expect(decodeEvent(e.subarray(0, 3))).toMatchObject({ ok: false });
    expect(decodeEvent(Uint8Array.of(...e, 0))).toEqual({ ok: false, error: '1 unexpected trailing bytes' });
    expect(decodeEvent(Uint8Array.of(200))).toEqual({ ok: false, error: 'unknown event code 200' });
    expect(decodeResponse(Uint8Array.of(1, 0, 0, 9))).toEqual({ ok: false, error: 'unknown response body 9' });
    expect(decodeCommand(Uint8Array.of(1, 0, 99))).toEqual({ ok: true, value: { commandId: 1, unknownOp: 99 } });
    expect(decodeEvent(Uint8Array.of(3, 1, 65, 9, 0, 0))).toEqual({ ok: false, error: 'unknown outcome code 9' });
  });

  it('never throw on random payloads, whatever the message type', () => {
    const decoders = [decodeEvent, decodeResponse, decodeCommand, decodeHello, decodeHelloReply, decodeChunk, decodeChunkRequest];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (payload) => {
        for (const d of decoders) d(payload);
      }),
      { numRuns: 2000 },
    );
    // and the same with a plausible first byte, so the parsers get past their discriminator
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 60 }), (kind, rest) => {
        decodeEvent(Uint8Array.of(kind, ...rest));
        decodeResponse(Uint8Array.of(1, 0, kind % 8, kind % 3, ...rest));
      }),
      { numRuns: 2000 },
    );
  });

  it('match the byte-level example in PROTOCOL.md', () => {
    const doc = readFileSync(join(__dirname, '../../firmware-bridge/PROTOCOL.md'), 'utf8');
    const accept = encodeFrame({ type: MsgType.command, flags: FLAG_RELIABLE, seq: 3, payload: encodeCommand(5, { op: 'accept', sheetId: 'SIM0001-000042' }) });
    const ack = encodeFrame({ type: MsgType.ack, flags: 0, seq: 3, payload: new Uint8Array(0) });
    const done = encodeFrame({ type: MsgType.event, flags: FLAG_RELIABLE, seq: 9, payload: encodeEvent({ kind: 'sheet-done', sheetId: 'SIM0001-000042', outcome: { kind: 'box' } }) });
    for (const wire of [accept, ack, done]) expect(doc).toContain(`on the wire  ${hex(wire)}`);
    const back = decodeFrame(accept.subarray(0, -1));
    expect(back.ok && back.value.seq).toBe(3);
  });
});
