import { z } from 'zod';

/**
 * Audit events a polling-place scanner must log (VVSG 2.0, requirement 15.1 event logging: election and
 * configuration loads, mode changes, polls state, authentication successes and failures, device faults,
 * exports and transmissions). They carry the role, never a voter; times stay in the local ledger and are
 * left out of everything exported.
 */
export const AUDIT_EVENT_TYPES = [
  'software-started',
  'election-loaded',
  'calibration-loaded',
  'mode-changed',
  'polls-opened',
  'polls-paused',
  'polls-resumed',
  'polls-closed',
  'login',
  'login-failed',
  'logout',
  'scanner-connected',
  'scanner-disconnected',
  'scanner-jam',
  'scanner-fault',
  'ballot-rejected',
  /** a sheet given back to the voter with no ballot record (the voter's choice after a warning, paper back unread) */
  'ballot-returned',
  'pending-reconciled',
  'tape-printed',
  'export',
  'publish',
  'ledger-verified',
  /** a signed-in person's command the polls procedure refused (app/station/refusal-log.ts): command, code, polls, reason */
  'command-refused',
  /** the station found at start-up that its ledger lost entries or its write-ahead log is damaged */
  'ledger-damaged',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export const ROLES = ['system', 'poll-worker', 'captain', 'administrator', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

const detailValue = z.union([z.string().max(1024), z.number().int(), z.boolean()]);

export const AuditEventSchema = z.object({
  type: z.enum(AUDIT_EVENT_TYPES),
  role: z.enum(ROLES),
  /** whole seconds, UTC, e.g. 2026-11-03T07:00:00Z */
  at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'must be an ISO time in whole seconds, UTC'),
  detail: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{0,63}$/), detailValue).default({}),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;
export type AuditEventInput = z.input<typeof AuditEventSchema>;

export function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}
