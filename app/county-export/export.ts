import fs from 'node:fs';
import path from 'node:path';
import { assertNever } from '../../lib/result';
import { ballotManifestCsv, writeArloCvrs } from './arlo';
import { writeCvrReport } from './cvr';
import { electionModelFor } from './election-model';
import { eventLog, eventLogDocumentation } from './event-log';
import type { CountyLedger } from './ledger-read';
import { readLedgerForCounty } from './ledger-read';
import { resultsCsv, resultsReport } from './results';
import { writeSmall, writeStreamed } from './stream-file';
import type { VerifyOptions } from '../ledger/verify';

export const COUNTY_EXPORT_KINDS = ['cvr', 'events', 'results', 'arlo'] as const;
export type CountyExportKind = (typeof COUNTY_EXPORT_KINDS)[number];

export interface CountyExportInput {
  readonly kind: CountyExportKind;
  readonly ledgerFile: string;
  readonly verify: VerifyOptions;
  /** the election definition (cvr, results, arlo: names of contests, choices, precincts); checked against the ledger */
  readonly electionFile?: string;
  readonly outDir: string;
}

export interface WrittenFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface CountyExportResult {
  readonly kind: CountyExportKind;
  readonly files: readonly WrittenFile[];
  /** cast ballots in the ledger (every export's counts are of these) */
  readonly cast: number;
  readonly events: number;
}

/** `<station>-<mode>`: two stations' or two modes' exports can share one directory (a county's USB stick). */
export function exportStem(ledger: CountyLedger): string {
  return `${ledger.genesis.station.id}-${ledger.genesis.mode}`;
}

/** Verifies the ledger, then writes the export's files into outDir, each replaced atomically. */
export function exportForCounty(input: CountyExportInput): CountyExportResult {
  const ledger = readLedgerForCounty(input.ledgerFile, input.verify);
  // the definition is checked against the ledger before anything is made, for every kind
  const checked = input.electionFile === undefined ? undefined : electionModelFor(input.electionFile, ledger.genesis);
  fs.mkdirSync(input.outDir, { recursive: true });
  const stem = exportStem(ledger);
  const at = (name: string): string => path.join(input.outDir, name);
  const files: WrittenFile[] = [];
  const put = (name: string, w: { bytes: number; sha256: string }): void => void files.push({ path: at(name), ...w });
  const model = (): ReturnType<typeof electionModelFor> => {
    if (checked === undefined) throw new Error(`the ${input.kind} export needs the election definition (--election)`);
    return checked;
  };
  const json = (v: unknown): string => `${JSON.stringify(v, null, 1)}\n`;
  switch (input.kind) {
    case 'cvr': {
      const m = model();
      put(`cvr-${stem}.json`, writeStreamed(at(`cvr-${stem}.json`), (out) => void writeCvrReport(out, m, ledger)));
      break;
    }
    case 'events':
      // the definition is not needed (one given was checked above)
      put(`events-${stem}.json`, writeSmall(at(`events-${stem}.json`), json(eventLog(ledger, false))));
      put(`events-errors-${stem}.json`, writeSmall(at(`events-errors-${stem}.json`), json(eventLog(ledger, true))));
      put(`events-documentation-${stem}.json`, writeSmall(at(`events-documentation-${stem}.json`), json(eventLogDocumentation(ledger))));
      break;
    case 'results': {
      const m = model();
      put(`results-${stem}.json`, writeSmall(at(`results-${stem}.json`), json(resultsReport(m, ledger))));
      put(`results-${stem}.csv`, writeSmall(at(`results-${stem}.csv`), resultsCsv(m, ledger)));
      break;
    }
    case 'arlo': {
      const m = model();
      // both files are made before either is written: names Arlo cannot tell apart refuse the pair
      const manifest = ballotManifestCsv(ledger);
      put(`arlo-cvrs-${stem}.csv`, writeStreamed(at(`arlo-cvrs-${stem}.csv`), (out) => void writeArloCvrs(out, m, ledger)));
      put(`arlo-ballot-manifest-${stem}.csv`, writeSmall(at(`arlo-ballot-manifest-${stem}.csv`), manifest));
      break;
    }
    default:
      return assertNever(input.kind);
  }
  return { kind: input.kind, files, cast: ledger.tally.ballots.cast, events: ledger.events.length };
}
