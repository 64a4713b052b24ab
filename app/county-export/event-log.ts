import { assertNever } from '../../lib/result';
import type { AuditEvent, AuditEventType } from '../ledger/events';
import { AUDIT_EVENT_TYPES } from '../ledger/events';
import { exportDate, TALLYPROOF_MANUFACTURER, TALLYPROOF_MODEL } from './device';
import type { CountyLedger } from './ledger-read';

/**
 * The station's audit events as a NIST SP 1500-101 Election Event Log (JSON, schema version 1). The
 * event's `Id` is the ledger's event type; its `Type` is the VVSG 2.0 requirement 15.1-D kind it answers
 * (table in README.md). Events keep ledger order and are numbered 1, 2, 3… (`Sequence`), never by ledger
 * entry: entry numbers would tell how many ballot entries fell between two events. Each carries its ledger
 * entry's hash (`Hash`), so anyone holding the ledger checks the event is the verified one.
 */
export type VvsgKind =
  | 'device-startup'
  | 'election-definition-load'
  | 'configuration-change'
  | 'polls-status'
  | 'authentication'
  | 'authorization-refused'
  | 'device-connection'
  | 'device-error'
  | 'ballot-rejected-or-returned'
  | 'ballot-recovery'
  | 'report-printed'
  | 'data-export'
  | 'data-transmission'
  | 'integrity-check'
  | 'integrity-failure';

/** What each kind covers, in the words of the VVSG 2.0 15.1-D event categories it answers. */
export const VVSG_KIND_DESCRIPTIONS: Readonly<Record<VvsgKind, string>> = {
  'device-startup': 'device power-on and software start-up',
  'election-definition-load': 'election definition loaded onto the device',
  'configuration-change': 'changes to the device configuration (calibration profile, test / official mode)',
  'polls-status': 'polls opened, suspended, resumed and closed',
  'authentication': 'sign-in and sign-out of staff roles, successful or refused',
  'authorization-refused': 'a command refused because the device state or role does not allow it',
  'device-connection': 'a device component (the scanner) connected or disconnected',
  'device-error': 'device errors and faults (jams, double feeds, hardware faults)',
  'ballot-rejected-or-returned': 'ballots rejected by the device or returned to the voter',
  'ballot-recovery': 'recovery after an interruption: a ballot in the paper path at a power cut settled',
  'report-printed': 'reports printed (zero, results and audit tapes)',
  'data-export': 'data exported from the device',
  'data-transmission': 'data transmitted (records and anchors published)',
  'integrity-check': 'integrity of the stored records checked',
  'integrity-failure': 'stored records found damaged or incomplete',
};

export interface EventMapping {
  readonly kind: VvsgKind;
  readonly disposition: 'success' | 'failure';
  readonly severity: 'information' | 'warning' | 'error';
  readonly description: string;
}

/** Every ledger event type, mapped; the switch is exhaustive, so a new type cannot be left out. */
export function mapEvent(type: AuditEventType): EventMapping {
  const m = (kind: VvsgKind, disposition: EventMapping['disposition'], severity: EventMapping['severity'], description: string): EventMapping => ({ kind, disposition, severity, description });
  switch (type) {
    case 'software-started':
      return m('device-startup', 'success', 'information', 'station software started');
    case 'election-loaded':
      return m('election-definition-load', 'success', 'information', 'election definition loaded');
    case 'calibration-loaded':
      return m('configuration-change', 'success', 'information', 'mark-reading calibration profile loaded');
    case 'mode-changed':
      return m('configuration-change', 'success', 'information', 'station mode changed (test / official)');
    case 'polls-opened':
      return m('polls-status', 'success', 'information', 'polls opened');
    case 'polls-paused':
      return m('polls-status', 'success', 'information', 'polls paused');
    case 'polls-resumed':
      return m('polls-status', 'success', 'information', 'polls resumed');
    case 'polls-closed':
      return m('polls-status', 'success', 'information', 'polls closed');
    case 'login':
      return m('authentication', 'success', 'information', 'staff signed in');
    case 'login-failed':
      return m('authentication', 'failure', 'warning', 'staff sign-in refused (wrong PIN or locked out)');
    case 'logout':
      return m('authentication', 'success', 'information', 'staff signed out');
    case 'scanner-connected':
      return m('device-connection', 'success', 'information', 'scanner connected');
    case 'scanner-disconnected':
      return m('device-connection', 'failure', 'warning', 'scanner disconnected');
    case 'scanner-jam':
      return m('device-error', 'failure', 'warning', 'paper jam');
    case 'scanner-fault':
      return m('device-error', 'failure', 'error', 'scanner fault (e.g. two sheets at once)');
    case 'ballot-rejected':
      return m('ballot-rejected-or-returned', 'failure', 'warning', 'sheet rejected: not counted (wrong election or precinct, counterfeit, duplicate, unreadable)');
    case 'ballot-returned':
      return m('ballot-rejected-or-returned', 'success', 'information', 'sheet given back to the voter unread or at the voter\'s choice');
    case 'pending-reconciled':
      return m('ballot-recovery', 'success', 'warning', 'a ballot pending at a power cut or restart settled with the scanner\'s report');
    case 'tape-printed':
      return m('report-printed', 'success', 'information', 'zero, results or audit tape printed');
    case 'export':
      return m('data-export', 'success', 'information', 'records exported');
    case 'publish':
      return m('data-transmission', 'success', 'information', 'ballot records or anchor published');
    case 'ledger-verified':
      return m('integrity-check', 'success', 'information', 'ledger verified');
    case 'command-refused':
      return m('authorization-refused', 'failure', 'warning', 'a command refused that an auditor must see attempted');
    case 'ledger-damaged':
      return m('integrity-failure', 'failure', 'error', 'the station found its ledger damaged at start-up: entries may be lost');
    default:
      return assertNever(type);
  }
}

/** The errors-only export: every event whose disposition is a failure. */
export function isErrorEvent(e: AuditEvent): boolean {
  return mapEvent(e.type).disposition === 'failure';
}

// entry numbers in details would give back what `Sequence` hides
const DETAIL_LEFT_OUT = new Set(['firstSeq']);

function detailsOf(e: AuditEvent): string | undefined {
  const keys = Object.keys(e.detail)
    .filter((k) => !DETAIL_LEFT_OUT.has(k))
    .sort();
  if (keys.length === 0) return undefined;
  return keys.map((k) => `${k}=${String(e.detail[k])}`).join('; ');
}

/** The whole log, or only its failures; written as one document (a station logs hundreds of events, not millions). */
export function eventLog(ledger: CountyLedger, errorsOnly: boolean): Record<string, unknown> {
  const g = ledger.genesis;
  const chosen = errorsOnly ? ledger.events.filter((e) => isErrorEvent(e.event)) : ledger.events;
  const events = chosen.map(({ event, entryHash }, i) => {
    const map = mapEvent(event.type);
    const details = detailsOf(event);
    return {
      '@type': 'EventLogging.Event',
      Id: event.type,
      Type: map.kind,
      Sequence: String(i + 1),
      TimeStamp: event.at,
      Disposition: map.disposition,
      Severity: map.severity,
      Description: map.description,
      UserId: event.role,
      Hash: entryHash,
      ...(details === undefined ? {} : { Details: details }),
    };
  });
  return {
    '@type': 'EventLogging.ElectionEventLog',
    GeneratedTime: exportDate(ledger),
    ElectionId: g.election.hash,
    Details: `${errorsOnly ? 'errors only (failures): ' : ''}${g.mode} ledger of station ${g.station.id}, verified to entry ${ledger.head.seq}; times are UTC, to the hour while the polls were open (detail atPrecision=hour); Hash is the ledger entry's SHA-256`,
    Device: [
      {
        '@type': 'EventLogging.Device',
        Id: g.station.id,
        Type: 'scan-single',
        Manufacturer: TALLYPROOF_MANUFACTURER,
        Model: TALLYPROOF_MODEL,
        HashType: 'sha-256',
        Details: `station number ${g.station.number}; public key ${g.station.publicKey}`,
        Event: events,
      },
    ],
  };
}

/** The log's key (NIST SP 1500-101 ElectionEventLogDocumentation): every event Id and every Type this station writes. */
export function eventLogDocumentation(ledger: CountyLedger): Record<string, unknown> {
  const kinds = [...new Set(AUDIT_EVENT_TYPES.map((t) => mapEvent(t).kind))];
  return {
    '@type': 'EventLogging.ElectionEventLogDocumentation',
    GeneratedDate: exportDate(ledger).slice(0, 10),
    DeviceId: ledger.genesis.station.id,
    DeviceManufacturer: TALLYPROOF_MANUFACTURER,
    DeviceModel: TALLYPROOF_MODEL,
    EventIdDescription: AUDIT_EVENT_TYPES.map((t) => ({ '@type': 'EventLogging.EventIdDescription', Id: t, Description: mapEvent(t).description })),
    EventTypeDescription: kinds.map((k) => ({ '@type': 'EventLogging.EventTypeDescription', Type: k, Description: `VVSG 2.0 15.1-D: ${VVSG_KIND_DESCRIPTIONS[k]}` })),
  };
}
