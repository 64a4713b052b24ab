// @ts-check
/* global window, document -- browser globals: the page is type-checked with the DOM library by app/renderer/tsconfig.json */
/**
 * Entry point: the Electron preload puts the kiosk API on `window.tallyproof`; in a plain browser
 * (`tallyproof station --headless`) there is none, and the HTTP client takes its place.
 */
import { startKiosk } from './app.mjs';
import { createHttpClient } from './http-client.mjs';
import { voterIdleMs } from './voter-idle.mjs';

/** @typedef {import('../../../preload/kiosk-api').KioskApi} KioskApi */

const host = /** @type {Window & { tallyproof?: KioskApi }} */ (window);
startKiosk(host.tallyproof ?? createHttpClient(), document, { voterIdleMs: voterIdleMs(window.location.search) });
