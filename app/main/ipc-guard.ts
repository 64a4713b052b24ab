/**
 * Every IPC call from the kiosk page is checked here before it reaches the station: the sender must be
 * our own page (a frame that navigated elsewhere, or an injected iframe, gets nothing), and the
 * arguments must pass the same schemas the headless HTTP server applies. No electron import, so the
 * checks are unit-tested under Node; main.ts only feeds them event.senderFrame.url.
 */
import type { z } from 'zod';
import { CommandInput, LoginInput, LookupInput, VoterDecisionInput, type CommandArgs, type LoginArgs, type LookupArgs, type VoterDecisionArgs } from '../station/api';
import { KIOSK_CALLS, type KioskCall } from '../preload/kiosk-api';

/** The kiosk page is served from a private standard scheme, never file:// (any local file could then call us). */
export const KIOSK_SCHEME = 'app';
export const KIOSK_HOST = 'kiosk';
export const KIOSK_ORIGIN = `${KIOSK_SCHEME}://${KIOSK_HOST}`;
export const KIOSK_PAGE = `${KIOSK_ORIGIN}/index.html`;

export type CheckedCall =
  | { readonly call: 'status' }
  | { readonly call: 'logout' }
  | { readonly call: 'login'; readonly args: LoginArgs }
  | { readonly call: 'command'; readonly args: CommandArgs }
  | { readonly call: 'voterDecision'; readonly args: VoterDecisionArgs }
  | { readonly call: 'lookupBallot'; readonly args: LookupArgs };

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
  return (KIOSK_CALLS as readonly string[]).includes(name);
}

function refuse(code: GuardRefusal['code'], message: string): GuardResult {
  return { ok: false, error: { code, message } };
}

function one<S extends z.ZodType>(schema: S, args: readonly unknown[], call: string): { ok: true; value: z.infer<S> } | { ok: false; error: GuardRefusal } {
  if (args.length !== 1) return { ok: false, error: { code: 'bad-arguments', message: `${call} takes one argument, got ${args.length}` } };
  const r = schema.safeParse(args[0]);
  if (!r.success) {
    return { ok: false, error: { code: 'bad-arguments', message: `${call}: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(argument)'}: ${i.message}`).join('; ')}` } };
  }
  return { ok: true, value: r.data };
}

/** Checks one IPC call: who sent it, which call, and its arguments. */
export function checkCall(senderUrl: string | null | undefined, call: string, args: readonly unknown[]): GuardResult {
  if (!isKioskPage(senderUrl)) return refuse('wrong-sender', `IPC from ${senderUrl === undefined || senderUrl === null || senderUrl === '' ? 'an unknown frame' : 'a page that is not the kiosk'} is refused`);
  if (!isKioskCall(call)) return refuse('unknown-call', `no call named ${call}`);
  switch (call) {
    case 'status':
    case 'logout':
      return args.length === 0 ? { ok: true, value: { call } } : refuse('bad-arguments', `${call} takes no arguments, got ${args.length}`);
    case 'login': {
      const r = one(LoginInput, args, call);
      return r.ok ? { ok: true, value: { call, args: r.value } } : r;
    }
    case 'command': {
      const r = one(CommandInput, args, call);
      return r.ok ? { ok: true, value: { call, args: r.value } } : r;
    }
    case 'voterDecision': {
      const r = one(VoterDecisionInput, args, call);
      return r.ok ? { ok: true, value: { call, args: r.value } } : r;
    }
    case 'lookupBallot': {
      const r = one(LookupInput, args, call);
      return r.ok ? { ok: true, value: { call, args: r.value } } : r;
    }
  }
}
