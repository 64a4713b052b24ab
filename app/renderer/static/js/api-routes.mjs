// @ts-check
// Generated from the call table in app/station/api.ts by `node scripts/run-ts.js scripts/write-api-routes.ts`: do not edit.
// test/kiosk/api-table.test.ts fails while this file differs from the table.

/** @type {import('../../../station/api').BrowserRoutes} */
export const API_ROUTES = {
  "status": {
    "method": "GET",
    "path": "/api/status"
  },
  "login": {
    "method": "POST",
    "path": "/api/login",
    "session": "begins"
  },
  "logout": {
    "method": "POST",
    "path": "/api/logout",
    "session": "ends"
  },
  "command": {
    "method": "POST",
    "path": "/api/command"
  },
  "voterDecision": {
    "method": "POST",
    "path": "/api/voter-decision"
  },
  "lookupBallot": {
    "method": "POST",
    "path": "/api/lookup-ballot"
  },
  "adjudicationList": {
    "method": "POST",
    "path": "/api/adjudication-list"
  },
  "adjudicate": {
    "method": "POST",
    "path": "/api/adjudicate"
  }
};

/** The server-sent stream of station events. */
export const EVENTS_PATH = "/api/events";
