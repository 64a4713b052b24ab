/**
 * The station runs in an Electron utility process (a crash or a slow read never freezes the kiosk
 * window); this is the message protocol between it and the main process, over any port that posts
 * structured-cloneable messages. No electron import: tested with node's MessageChannel.
 */
import { z } from 'zod';
import type { ArgsOf, ResultOf, StationApi, StationEvent } from '../station/api';
import { callStation } from '../station/api-dispatch';
import { KIOSK_CALLS, type KioskApi, type KioskCall } from '../preload/kiosk-api';
import { checkCall, KIOSK_PAGE, type CheckedCall } from './ipc-guard';

/** Both ends see a port as: send a message, hear messages. */
export interface PortLike {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}

const callMessage = z.strictObject({ kind: z.literal('call'), id: z.number().int().nonnegative(), call: z.enum(KIOSK_CALLS), args: z.array(z.unknown()).max(1) });
const fromStation = z.union([
  z.strictObject({ kind: z.literal('result'), id: z.number().int().nonnegative(), ok: z.literal(true), value: z.unknown() }),
  z.strictObject({ kind: z.literal('result'), id: z.number().int().nonnegative(), ok: z.literal(false), message: z.string() }),
  z.strictObject({ kind: z.literal('event'), event: z.unknown() }),
  z.strictObject({ kind: z.literal('ready') }),
  z.strictObject({ kind: z.literal('failed'), message: z.string() }),
]);
export type FromStation = z.infer<typeof fromStation>;

/** Station side: answers calls arriving on `port` and forwards every station event. Returns the unsubscribe. */
export function serveOverPort(api: StationApi, port: PortLike): () => void {
  port.onMessage((raw) => {
    const m = callMessage.safeParse(raw);
    if (!m.success) return; // not ours to answer: the main process only sends calls
    // The main process checked the sender already; the arguments are checked again at this boundary.
    const checked = checkCall(KIOSK_PAGE, m.data.call, m.data.args);
    if (!checked.ok) {
      port.post({ kind: 'result', id: m.data.id, ok: false, message: checked.error.message });
      return;
    }
    callStation(api, checked.value).then(
      (value) => port.post({ kind: 'result', id: m.data.id, ok: true, value }),
      (e: unknown) => port.post({ kind: 'result', id: m.data.id, ok: false, message: e instanceof Error ? e.message : String(e) }),
    );
  });
  return api.subscribe((event) => port.post({ kind: 'event', event }));
}

/** Main side: the station in the other process, as the asynchronous kiosk API. */
export class RemoteStation implements KioskApi {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(e: StationEvent) => void>();
  private readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private state: { kind: 'starting' } | { kind: 'ready' } | { kind: 'failed'; message: string } = { kind: 'starting' };

  constructor(private readonly port: PortLike) {
    port.onMessage((raw) => this.receive(raw));
  }

  private receive(raw: unknown): void {
    const m = fromStation.safeParse(raw);
    if (!m.success) return;
    const msg = m.data;
    switch (msg.kind) {
      case 'ready':
        this.state = { kind: 'ready' };
        for (const w of this.readyWaiters) w.resolve();
        this.readyWaiters = [];
        return;
      case 'failed':
        this.fail(msg.message);
        return;
      case 'event':
        for (const l of this.listeners) l(msg.event as StationEvent);
        return;
      case 'result': {
        const p = this.pending.get(msg.id);
        if (p === undefined) return;
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(new Error(msg.message));
        return;
      }
    }
  }

  /** The station process ended or could not start: every waiting call fails with the reason. */
  fail(message: string): void {
    this.state = { kind: 'failed', message };
    for (const w of this.readyWaiters) w.reject(new Error(message));
    this.readyWaiters = [];
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }

  ready(): Promise<void> {
    if (this.state.kind === 'ready') return Promise.resolve();
    if (this.state.kind === 'failed') return Promise.reject(new Error(this.state.message));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Forwards an already checked call. */
  call(c: CheckedCall): Promise<unknown> {
    return this.send(c.call, 'args' in c ? [c.args] : []);
  }

  private send(call: KioskCall, args: readonly unknown[]): Promise<unknown> {
    if (this.state.kind === 'failed') return Promise.reject(new Error(this.state.message));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.post({ kind: 'call', id, call, args });
    });
  }

  /** The typed methods below: the arguments are checked on the station side like any other call's. */
  private request<K extends KioskCall>(call: K, ...args: [ArgsOf<K>] extends [undefined] ? [] : [ArgsOf<K>]): Promise<ResultOf<K>> {
    return this.send(call, args) as Promise<ResultOf<K>>;
  }

  status: KioskApi['status'] = () => this.request('status');
  login: KioskApi['login'] = (args) => this.request('login', args);
  logout: KioskApi['logout'] = () => this.request('logout');
  command: KioskApi['command'] = (args) => this.request('command', args);
  voterDecision: KioskApi['voterDecision'] = (args) => this.request('voterDecision', args);
  lookupBallot: KioskApi['lookupBallot'] = (args) => this.request('lookupBallot', args);
  adjudicationList: KioskApi['adjudicationList'] = (args) => this.request('adjudicationList', args);
  adjudicate: KioskApi['adjudicate'] = (args) => this.request('adjudicate', args);

  subscribe(listener: (e: StationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
