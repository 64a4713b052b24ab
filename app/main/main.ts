/**
 * Electron main: one full-screen kiosk window showing the kiosk page from a private app:// scheme, the
 * station service in a utility process, and IPC handlers that pass only checked calls from our own page.
 * Kept thin on purpose (Electron cannot run on the build machines): the checks live in ipc-guard.ts and
 * the process protocol in station-relay.ts, both tested under Node.
 */
import fs from 'node:fs';
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, utilityProcess, type UtilityProcess } from 'electron';
import { EVENT_CHANNEL, KIOSK_CALLS, channelOf } from '../preload/kiosk-api';
import { CONTENT_SECURITY_POLICY, RENDERER_STATIC_DIR, contentTypeFor, staticFileFor } from '../station/page-files';
import { KIOSK_HOST, KIOSK_ORIGIN, KIOSK_PAGE, KIOSK_SCHEME, checkCall, isKioskPage } from './ipc-guard';
import { loadStationConfig, STATION_CONFIG_ENV } from '../station/station-config';
import { RemoteStation } from './station-relay';
import { withStationAllocator } from '../station/allocator-env';

/** Devtools only in an unpackaged build started with --dev; a polling-place machine runs the packaged app. */
const DEV = !app.isPackaged && process.argv.includes('--dev');
const MAX_RESTARTS = 5;

protocol.registerSchemesAsPrivileged([{ scheme: KIOSK_SCHEME, privileges: { standard: true, secure: true } }]);
app.enableSandbox();
Menu.setApplicationMenu(null);

if (!app.requestSingleInstanceLock()) app.quit();

function configFile(): string {
  const arg = process.argv.find((a) => a.startsWith('--config='));
  if (arg !== undefined) return path.resolve(arg.slice('--config='.length));
  const env = process.env[STATION_CONFIG_ENV];
  if (env !== undefined && env.length > 0) return path.resolve(env);
  return path.join(app.getPath('userData'), 'station.json');
}

/** The kiosk page, with the walk-away voter's idle time from station.json (voter-idle.mjs reads it; the station process reports a bad file). */
function kioskPageUrl(file: string): string {
  const c = loadStationConfig(file);
  const idle = c.ok ? c.value.voterIdleResetSeconds : undefined;
  return idle === undefined ? KIOSK_PAGE : `${KIOSK_PAGE}?voter-idle=${idle}`;
}

// Every web contents, present and future: no navigation away, no new windows, no webviews, no devtools.
app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  if (!DEV) contents.on('devtools-opened', () => contents.closeDevTools());
});

app.on('window-all-closed', () => app.quit());

let station: RemoteStation | null = null;
let child: UtilityProcess | null = null;
let quitting = false;

function startStationProcess(file: string, win: BrowserWindow, restarts: number): void {
  const proc = utilityProcess.fork(path.join(__dirname, 'station-process.js'), [file], {
    serviceName: 'Tallyproof station',
    stdio: 'inherit',
    // glibc reads its allocator settings at process start: the station's child is where they count
    env: withStationAllocator(process.env),
  });
  const remote = new RemoteStation({ post: (m) => proc.postMessage(m), onMessage: (l) => proc.on('message', l) });
  child = proc;
  station = remote;
  remote.subscribe((event) => {
    // Events go to our window only while it shows our page.
    if (!win.isDestroyed() && isKioskPage(win.webContents.getURL())) win.webContents.send(EVENT_CHANNEL, event);
  });
  remote.ready().catch((e: unknown) => {
    dialog.showErrorBox('Tallyproof: the station did not start', e instanceof Error ? e.message : String(e));
  });
  proc.on('exit', (code) => {
    remote.fail(`the station process stopped (exit code ${code})`);
    // A crash mid-day restarts the station, which reconciles pending ballots (invariant 1) and tells the poll worker.
    if (!quitting && code !== 0 && restarts < MAX_RESTARTS) setTimeout(() => startStationProcess(file, win, restarts + 1), 1000 * (restarts + 1));
  });
}

async function serveKioskFile(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const file = url.host === KIOSK_HOST ? staticFileFor(RENDERER_STATIC_DIR, url.pathname) : null;
  if (file === null || file === 'bad-path' || request.method !== 'GET') return new Response('not found', { status: 404 });
  let data: Buffer;
  try {
    data = await fs.promises.readFile(file);
  } catch {
    return new Response('not found', { status: 404 });
  }
  return new Response(new Uint8Array(data), { headers: { 'Content-Type': contentTypeFor(file), 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' } });
}

void app.whenReady().then(() => {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  // The kiosk has no business on any network: only its own scheme loads.
  ses.webRequest.onBeforeRequest({ urls: ['<all_urls>'] }, (details, callback) => callback({ cancel: !details.url.startsWith(`${KIOSK_ORIGIN}/`) && !(DEV && details.url.startsWith('devtools://')) }));
  ses.webRequest.onHeadersReceived((details, callback) => callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } }));
  protocol.handle(KIOSK_SCHEME, serveKioskFile);

  const win = new BrowserWindow({
    kiosk: true,
    fullscreen: true,
    show: false,
    backgroundColor: '#000000',
    autoHideMenuBar: true,
    webPreferences: {
      preload: path.join(__dirname, '..', 'preload', 'preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // The counted/returned cue must sound although the voter touched only paper, not the page.
      autoplayPolicy: 'no-user-gesture-required',
      devTools: DEV,
    },
  });
  win.once('ready-to-show', () => win.show());

  for (const call of KIOSK_CALLS) {
    ipcMain.handle(channelOf(call), async (event, ...args: unknown[]) => {
      if (event.sender !== win.webContents) throw new Error('IPC from another window is refused');
      const checked = checkCall(event.senderFrame?.url, call, args);
      if (!checked.ok) throw new Error(checked.error.message);
      if (station === null) throw new Error('the station is not running');
      return station.call(checked.value);
    });
  }

  const file = configFile();
  if (!fs.existsSync(file)) {
    dialog.showErrorBox('Tallyproof: no station settings', `${file} does not exist. Write it (see README: station.json) or pass --config=<file> or set ${STATION_CONFIG_ENV}.`);
    app.quit();
    return;
  }
  startStationProcess(file, win, 0);
  void win.loadURL(kioskPageUrl(file));
});

app.on('before-quit', () => {
  quitting = true;
  child?.postMessage({ kind: 'stop' });
});
