/**
 * What the headless server sends a screen no staff member signed in on. The station's instructions to poll
 * workers name ballots by ID (a jammed ballot, the first copy of a duplicate), and a ballot's record is
 * public once published: whoever can read an ID beside its voter could look up the vote. The kiosk screen
 * shows them only to a signed-in role; here they leave the station only for the browser holding that
 * role's session, so another local program reading the status or the event stream gets none either.
 *
 * Nor does a public reader get the scanner's sheet IDs (they are in the sheet journal beside each ballot
 * ID, and an exported bundle could tie a sheet to its record) or any time the station keeps: a sheet is
 * named by an alias the server derives with a key of its own, which means nothing outside this server. Nor
 * does it learn who is signed in: only the signed-in browser sees a role.
 */
import type { SheetFeedback, StationEvent, StationStatus } from './api';

/** Stands in for an instruction on a screen without a signed-in role (the voter's screen says to ask a poll worker). */
export const PUBLIC_ATTENTION = 'A poll worker is needed at the station.';

/** Maps a scanner sheet ID to the name public readers see for it (the same sheet, the same alias). */
export type SheetAlias = (sheetId: string) => string;

export function publicSheet(f: SheetFeedback, alias: SheetAlias): SheetFeedback {
  return { ...f, sheetId: alias(f.sheetId), reasons: f.reasons.map((r) => ({ ...r, pollWorker: '' })) };
}

/**
 * Field by field, not a copy with exceptions: a field added to the status later reaches public readers only
 * once someone decides here that it may (a required one fails the type check until then).
 */
export function publicStatus(s: StationStatus, alias: SheetAlias): StationStatus {
  return {
    polls: s.polls,
    mode: s.mode,
    role: null,
    stationId: s.stationId,
    election: s.election,
    counts: s.counts,
    scanner: { connected: s.scanner.connected, state: s.scanner.state, alarms: s.scanner.alarms },
    attention: s.attention === null ? null : PUBLIC_ATTENTION,
    sheet: s.sheet === null ? null : publicSheet(s.sheet, alias),
    lockedOut: {},
  };
}

export function publicEvent(e: StationEvent, alias: SheetAlias): StationEvent {
  switch (e.type) {
    case 'status':
      return { type: 'status', status: publicStatus(e.status, alias) };
    case 'sheet':
      return { type: 'sheet', feedback: publicSheet(e.feedback, alias) };
    case 'alarm':
    case 'cue':
      return e;
  }
}
