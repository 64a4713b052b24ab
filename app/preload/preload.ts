/**
 * The only bridge between the kiosk page and the rest of the machine: exactly the kiosk API, each call an
 * ipcRenderer.invoke on its own channel, and one event subscription. The page gets no ipcRenderer, no
 * Node, no electron object. Sandboxed preloads cannot load local modules at run time, so this file imports
 * only types besides electron: the call table (app/station/api.ts) reaches it as the KioskApi type, so a
 * call added to the table, removed or renamed fails the type check here until this list follows, and a
 * test checks the names and channels at run time.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { StationEvent } from '../station/api';
import type { KioskApi, KioskCall } from './kiosk-api';

const invoke = (call: KioskCall, ...args: unknown[]): Promise<never> => ipcRenderer.invoke(`tallyproof:${call}`, ...args) as Promise<never>;

const api: KioskApi = {
  status: () => invoke('status'),
  login: (args) => invoke('login', args),
  logout: () => invoke('logout'),
  command: (args) => invoke('command', args),
  voterDecision: (args) => invoke('voterDecision', args),
  lookupBallot: (args) => invoke('lookupBallot', args),
  adjudicationList: (args) => invoke('adjudicationList', args),
  adjudicate: (args) => invoke('adjudicate', args),
  subscribe(listener) {
    // The page's function is wrapped so the page never sees the IpcRendererEvent (it carries ipcRenderer).
    const relay = (_e: IpcRendererEvent, event: StationEvent) => listener(event);
    ipcRenderer.on('tallyproof:event', relay);
    return () => void ipcRenderer.removeListener('tallyproof:event', relay);
  },
};

contextBridge.exposeInMainWorld('tallyproof', api);
