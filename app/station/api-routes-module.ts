/**
 * The browser's copy of the call table's routes: app/renderer/static/js/api-routes.mjs. The kiosk page is
 * plain browser modules that cannot load the TypeScript table, so the routes are written out as a small
 * module, checked in beside the page (the page is served from its sources in tests and development, and
 * copied to dist/ as is). `node scripts/run-ts.js scripts/write-api-routes.ts` writes it again;
 * test/kiosk/api-table.test.ts fails while the file differs from what the table gives, and the renderer's
 * type check (app/renderer/tsconfig.json) refuses a module whose calls are not exactly the table's.
 */
import path from 'node:path';
import { API_CALL_NAMES, EVENTS_PATH, type BrowserRoutes } from './api';
import { specOf } from './api-dispatch';
import { RENDERER_STATIC_DIR } from './page-files';

export const API_ROUTES_MODULE = path.join(RENDERER_STATIC_DIR, 'js', 'api-routes.mjs');

export function browserRoutes(): BrowserRoutes {
  const routes = API_CALL_NAMES.map((name) => {
    const spec = specOf(name);
    return [name, { method: spec.http.method, path: spec.http.path, ...(spec.session !== undefined ? { session: spec.session } : {}) }] as const;
  });
  // one entry per name of the table, built from that name's spec
  return Object.fromEntries(routes) as BrowserRoutes;
}

/** The module's text: the routes as JSON, typed for the renderer's check. */
export function apiRoutesModuleText(): string {
  return [
    '// @ts-check',
    '// Generated from the call table in app/station/api.ts by `node scripts/run-ts.js scripts/write-api-routes.ts`: do not edit.',
    '// test/kiosk/api-table.test.ts fails while this file differs from the table.',
    '',
    "/** @type {import('../../../station/api').BrowserRoutes} */",
    `export const API_ROUTES = ${JSON.stringify(browserRoutes(), null, 2)};`,
    '',
    '/** The server-sent stream of station events. */',
    `export const EVENTS_PATH = ${JSON.stringify(EVENTS_PATH)};`,
    '',
  ].join('\n');
}
