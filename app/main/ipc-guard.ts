/**
 * Every IPC call from the kiosk page is checked here before it reaches the station: the sender must be
 * our own page (a frame that navigated elsewhere, or an injected iframe, gets nothing), and the
 * arguments must pass the same schemas the headless HTTP server applies. No electron import, so the
 * checks are unit-tested under Node; main.ts only feeds them event.senderFrame.url.
 */
import { assertNever } from '../../lib/result';
import type { CheckedCall } from '../station/api';
import { checkArgs, isApiCall } from '../station/api-dispatch';
import type { KioskCall } from '../preload/kiosk-api';

export type { CheckedCall };

/** The kiosk page is served from a private standard scheme, never file:// (any local file could then call us). */
export const KIOSK_SCHEME = 'app';
export const KIOSK_HOST = 'kiosk';
export const KIOSK_ORIGIN = `${KIOSK_SCHEME}://${KIOSK_HOST}`;
export const KIOSK_PAGE = `${KIOSK_ORIGIN}/index.html`;

export interface GuardRefusal {
  readonly code: 'wrong-sender' | 'unknown-call' | 'bad-arguments';
  readonly message: string;
}

export type GuardResult = { readonly ok: true; readonly value: CheckedCall } | { readonly ok: false; readonly error: GuardRefusal };

/** Whether a frame URL is our kiosk page (and nothing else on our scheme, no credentials, no other host). */
export function isKioskPage(url: string | null | undefined): boolean {
  if (typeof url !== 'string' || url.length === 0) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === `${KIOSK_SCHEME}:` && u.host === KIOSK_HOST && u.username === '' && u.password === '' && (u.pathname === '/index.html' || u.pathname === '/');
}

export function isKioskCall(name: string): name is KioskCall {
  return isApiCall(name);
}

function refuse(code: GuardRefusal['code'], message: string): GuardResult {
  return { ok: false, error: { code, message } };
}

/** Checks one IPC call: who sent it, which call (one of the table's), and its arguments (the call's schema). */
export function checkCall(senderUrl: string | null | undefined, call: string, args: readonly unknown[]): GuardResult {
  if (!isKioskPage(senderUrl)) return refuse('wrong-sender', `IPC from ${senderUrl === undefined || senderUrl === null || senderUrl === '' ? 'an unknown frame' : 'a page that is not the kiosk'} is refused`);
  if (!isKioskCall(call)) return refuse('unknown-call', `no call named ${call}`);
  const r = checkArgs(call, args);
  if (r.ok) return r;
  const e = r.error;
  switch (e.kind) {
    case 'count':
      return refuse('bad-arguments', `${call} takes ${e.expected === 0 ? 'no arguments' : 'one argument'}, got ${e.got}`);
    case 'schema':
      return refuse('bad-arguments', `${call}: ${e.issues.map((i) => `${i.path.length > 0 ? i.path : '(argument)'}: ${i.message}`).join('; ')}`);
    default:
      return assertNever(e);
  }
}
