/**
 * What the headless server sends a screen no staff member signed in on. The station's instructions to poll
 * workers name ballots by ID (a jammed ballot, the first copy of a duplicate), and a ballot's record is
 * public once published: whoever can read an ID beside its voter could look up the vote. The kiosk screen
 * shows them only to a signed-in role; here they leave the station only for the browser holding that
 * role's session, so another local program reading the status or the event stream gets none either.
 */
import type { SheetFeedback, StationEvent, StationStatus } from './api';

/** Stands in for an instruction on a screen without a signed-in role (the voter's screen says to ask a poll worker). */
export const PUBLIC_ATTENTION = 'A poll worker is needed at the station.';

function publicSheet(f: SheetFeedback): SheetFeedback {
  return { ...f, reasons: f.reasons.map((r) => ({ ...r, pollWorker: '' })) };
}

export function publicStatus(s: StationStatus): StationStatus {
  return { ...s, attention: s.attention === null ? null : PUBLIC_ATTENTION, sheet: s.sheet === null ? null : publicSheet(s.sheet) };
}

export function publicEvent(e: StationEvent): StationEvent {
  switch (e.type) {
    case 'status':
      return { type: 'status', status: publicStatus(e.status) };
    case 'sheet':
      return { type: 'sheet', feedback: publicSheet(e.feedback) };
    case 'alarm':
    case 'cue':
      return e;
  }
}
