import path from 'node:path';
import type { LedgerMode } from './record';

/** Where the ledger keeps its files inside a station data directory (`--data`); see README.md. */
export interface DataLayout {
  readonly root: string;
  readonly stationKey: string;
  /** the encrypted scans, one file per side named by its random image ID (image-store.ts) */
  readonly images: string;
  ledger(mode: LedgerMode): string;
  heads(mode: LedgerMode): string;
  exportDir(mode: LedgerMode): string;
}

export function dataLayout(root: string): DataLayout {
  return {
    root,
    stationKey: path.join(root, 'keys', 'station.json'),
    images: path.join(root, 'images'),
    ledger: (mode) => path.join(root, 'ledger', `${mode}.sqlite`),
    heads: (mode) => path.join(root, 'ledger', `${mode}.heads.jsonl`),
    exportDir: (mode) => path.join(root, 'export', mode),
  };
}
