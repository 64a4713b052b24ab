/**
 * What the renderer may call, in Electron (the preload, over IPC) and in a browser (fetch + EventSource
 * against `tallyproof station --headless`) alike: the screen side of the call table in app/station/api.ts,
 * and the IPC channel names. The renderer imports it for types; the sandboxed preload, which cannot load
 * local modules at run time, imports only its types and repeats the channel prefix (checked by a test).
 */
import { API_CALL_NAMES, type ApiCallName, type ScreenApi } from '../station/api';

export type KioskApi = ScreenApi;

/** The request/response calls; `subscribe` is a push channel instead. */
export const KIOSK_CALLS: readonly ApiCallName[] = API_CALL_NAMES;
export type KioskCall = ApiCallName;

export const CHANNEL_PREFIX = 'tallyproof:';
export const EVENT_CHANNEL = 'tallyproof:event';

export function channelOf(call: KioskCall): string {
  return `${CHANNEL_PREFIX}${call}`;
}
