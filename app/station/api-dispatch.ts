/**
 * The call table (api.ts) put to work at the two boundaries every call crosses: its arguments checked
 * against the call's schema (IPC from the kiosk page, the station's utility process, the headless HTTP
 * server), and the checked call handed to the station's method of the same name. One function each, for
 * every call, so no transport spells a call by hand.
 */
import type { z } from 'zod';
import { API_CALLS, API_CALL_NAMES, type ApiCallName, type ApiCallSpec, type CheckedCall, type StationApi } from './api';

export function isApiCall(name: string): name is ApiCallName {
  // a list, not `name in API_CALLS`: '__proto__' or 'toString' must not pass
  return (API_CALL_NAMES as readonly string[]).includes(name);
}

export function specOf(name: ApiCallName): ApiCallSpec {
  return API_CALLS[name];
}

export interface ArgIssue {
  /** where in the argument, dotted ('' for the argument itself) */
  readonly path: string;
  readonly message: string;
}

export type ArgsCheck =
  | { readonly ok: true; readonly value: CheckedCall }
  | { readonly ok: false; readonly error: { readonly kind: 'count'; readonly expected: 0 | 1; readonly got: number } | { readonly kind: 'schema'; readonly issues: readonly ArgIssue[] } };

export function issuesOf(error: z.ZodError): ArgIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/** A call's arguments as a list (IPC passes them so): none, or exactly one that passes the call's schema. */
export function checkArgs(name: ApiCallName, args: readonly unknown[]): ArgsCheck {
  const spec = specOf(name);
  if (spec.input === null) return args.length === 0 ? { ok: true, value: checked(name, undefined) } : { ok: false, error: { kind: 'count', expected: 0, got: args.length } };
  if (args.length !== 1) return { ok: false, error: { kind: 'count', expected: 1, got: args.length } };
  const r = spec.input.safeParse(args[0]);
  return r.success ? { ok: true, value: checked(name, r.data) } : { ok: false, error: { kind: 'schema', issues: issuesOf(r.error) } };
}

/** Only checkArgs builds a CheckedCall: `args` has passed the schema of `name` (or the call takes none). */
function checked(name: ApiCallName, args: unknown): CheckedCall {
  return (args === undefined ? { call: name } : { call: name, args }) as CheckedCall;
}

/** Hands a checked call to the station's method of the same name; the answer as that method gives it. */
export function callStation(api: StationApi, c: CheckedCall): Promise<unknown> {
  // The table types every method by its name; TypeScript cannot follow a name chosen at run time.
  const method = api[c.call] as (this: StationApi, ...args: unknown[]) => unknown;
  try {
    return Promise.resolve('args' in c ? method.call(api, c.args) : method.call(api));
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}
